"""CloudTrail records as delivered to CloudWatch Logs (aws-compat.md section 7.3).

One log event per CloudTrail record; the message is the record JSON alone (no ``Records``
wrapper). :func:`who` answers "who did this" for every ``userIdentity.type``.

Pure module: no I/O and no imports from other logsieve packages.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "HIDDEN_USER",
    "REQUIRED_FIELDS",
    "Identity",
    "is_console_login",
    "is_error",
    "is_read_only",
    "log_stream_name",
    "parse",
    "who",
]

REQUIRED_FIELDS = ("eventVersion", "eventName", "eventSource")

#: ``userName`` recorded for a failed console sign-in with an unknown user name.
HIDDEN_USER = "HIDDEN_DUE_TO_SECURITY_REASONS"

# Identity Center (SSO) permission-set roles: AWSReservedSSO_<PermissionSet>_<16 hex>.
_SSO_ROLE = re.compile(r"AWSReservedSSO_(?P<permission_set>.+)_[0-9a-f]{16}")


@dataclass(frozen=True, slots=True)
class Identity:
    """Summary of a record's ``userIdentity``.

    ``name`` is the principal's short name (see :func:`who` per type), ``None`` when AWS hides
    or omits it; ``display`` is always a readable, non-empty string.
    """

    type: str
    name: str | None
    arn: str | None
    account_id: str | None
    display: str
    principal_id: str | None = None
    #: AssumedRole: the role name; FederatedUser: the IAM user that federated.
    issuer: str | None = None
    #: AssumedRole / FederatedUser: the session name (last part of the ARN).
    session_name: str | None = None
    #: AssumedRole through IAM Identity Center: the permission set name.
    permission_set: str | None = None
    #: Service that made the call on the principal's behalf (``invokedBy``).
    invoked_by: str | None = None
    #: True when AWS replaced the user name with ``HIDDEN_DUE_TO_SECURITY_REASONS``.
    hidden: bool = False


def parse(message: str) -> dict[str, Any]:
    """Decode one CloudTrail log-event message.

    Raises ``ValueError`` for non-JSON, a non-object (including a ``{"Records": [...]}`` S3
    file body) or a record missing ``eventVersion``/``eventName``/``eventSource``.
    """
    try:
        record = json.loads(message)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(record, dict):
        raise ValueError("not a CloudTrail record: not a JSON object")
    missing = [key for key in REQUIRED_FIELDS if not isinstance(record.get(key), str)]
    if missing:
        raise ValueError(f"not a CloudTrail record: missing {', '.join(missing)}")
    return record


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _arn_account(arn: str | None) -> str | None:
    # arn:partition:service:region:account:resource
    if arn:
        parts = arn.split(":", 5)
        if len(parts) == 6 and parts[4]:
            return parts[4]
    return None


def _arn_resource_parts(arn: str | None) -> list[str]:
    if not arn:
        return []
    parts = arn.split(":", 5)
    return parts[5].split("/") if len(parts) == 6 else []


def _after_colon(principal_id: str | None) -> str | None:
    if principal_id and ":" in principal_id:
        return principal_id.rsplit(":", 1)[1] or None
    return None


def who(record: dict[str, Any]) -> Identity:
    """Who made the call recorded in ``record``.

    * ``IAMUser``: ``userName`` (``hidden`` and ``name=None`` for
      ``HIDDEN_DUE_TO_SECURITY_REASONS``) -> ``"alice (IAMUser)"``;
    * ``AssumedRole``: ``<role>/<session>`` with the role from
      ``sessionContext.sessionIssuer.userName`` and the session from the ARN's last part ->
      ``"GitHubActionsDeployRole/gha-run-8812 (AssumedRole)"``; for IAM Identity Center
      roles (``AWSReservedSSO_<set>_<hex>``) the display names the person:
      ``"bob via ReadOnlyAccess (AssumedRole, IAM Identity Center)"``;
    * ``Root``: ``"root"`` (account alias in ``userName`` is shown: ``"root (my-alias)"``);
    * ``AWSService``: ``invokedBy`` -> ``"ec2.amazonaws.com (AWSService)"``;
    * ``FederatedUser``: the federated name (ARN's last part), issuer = IAM user;
    * ``AWSAccount``: the calling account id (``invokedBy`` shown if present);
    * ``IdentityCenterUser``: ``userName`` or ``onBehalfOf.userId``;
    * ``SAMLUser`` / ``WebIdentityUser``: ``userName`` (else the principal id's last part),
      provider in the display;
    * ``Role`` / ``Directory`` / ``Unknown`` / anything new: best available of ``userName``,
      ARN's last part, ``principalId``.
    """
    ui = _dict(record.get("userIdentity"))
    kind = _str(ui.get("type")) or "Unknown"
    arn = _str(ui.get("arn"))
    principal_id = _str(ui.get("principalId"))
    account_id = _str(ui.get("accountId")) or _arn_account(arn)
    user_name = _str(ui.get("userName"))
    invoked_by = _str(ui.get("invokedBy"))
    issuer_info = _dict(_dict(ui.get("sessionContext")).get("sessionIssuer"))
    resource = _arn_resource_parts(arn)
    common = {
        "type": kind,
        "arn": arn,
        "account_id": account_id,
        "principal_id": principal_id,
        "invoked_by": invoked_by,
    }

    if kind == "IAMUser":
        name = user_name or (resource[-1] if resource else None)
        if name == HIDDEN_USER:
            return Identity(name=None, display="<hidden> (IAMUser)", hidden=True, **common)
        return Identity(name=name, display=f"{name or '<unknown>'} (IAMUser)", **common)

    if kind == "AssumedRole":
        # arn:aws:sts::<acct>:assumed-role/<role>/<session>
        role = _str(issuer_info.get("userName")) or (resource[1] if len(resource) >= 3 else None)
        session = (resource[-1] if len(resource) >= 3 else None) or _after_colon(principal_id)
        name = "/".join(p for p in (role, session) if p) or principal_id
        sso = _SSO_ROLE.fullmatch(role or "")
        if sso and session:
            permission_set = sso["permission_set"]
            display = f"{session} via {permission_set} (AssumedRole, IAM Identity Center)"
        else:
            permission_set = None
            display = f"{name or '<unknown>'} (AssumedRole)"
        return Identity(
            name=name,
            display=display,
            issuer=role,
            session_name=session,
            permission_set=permission_set,
            **common,
        )

    if kind == "Root":
        display = f"root ({user_name})" if user_name else "root"
        if invoked_by:
            display += f" via {invoked_by}"
        return Identity(name="root", display=display, **common)

    if kind == "AWSService":
        name = invoked_by or _str(record.get("sourceIPAddress"))
        return Identity(name=name, display=f"{name or '<unknown>'} (AWSService)", **common)

    if kind == "FederatedUser":
        # arn:aws:sts::<acct>:federated-user/<name>; principalId <acct>:<name>
        name = (resource[-1] if len(resource) >= 2 else None) or _after_colon(principal_id)
        issuer = _str(issuer_info.get("userName"))
        display = f"{name or '<unknown>'} (FederatedUser"
        display += f" via {issuer})" if issuer else ")"
        return Identity(name=name, display=display, issuer=issuer, session_name=name, **common)

    if kind == "AWSAccount":
        name = account_id or principal_id
        display = f"{name or '<unknown>'} (AWSAccount"
        display += f" via {invoked_by})" if invoked_by else ")"
        return Identity(name=name, display=display, **common)

    if kind == "IdentityCenterUser":
        on_behalf = _dict(ui.get("onBehalfOf"))
        name = user_name or _str(on_behalf.get("userId")) or principal_id
        return Identity(name=name, display=f"{name or '<unknown>'} (IdentityCenterUser)", **common)

    if kind in ("SAMLUser", "WebIdentityUser"):
        name = user_name or _after_colon(principal_id) or principal_id
        provider = _str(ui.get("identityProvider"))
        display = f"{name or '<unknown>'} ({kind}"
        display += f" from {provider})" if provider else ")"
        return Identity(name=name, display=display, issuer=provider, **common)

    # Role, Directory, Unknown and types added after this was written.
    name = user_name or (resource[-1] if resource else None) or principal_id or invoked_by
    return Identity(name=name, display=f"{name or '<unknown>'} ({kind})", **common)


def is_error(record: dict[str, Any]) -> bool:
    """True if the call failed: ``errorCode`` present, or (sign-in failures, which carry only
    ``errorMessage``) ``errorMessage`` present."""
    return bool(record.get("errorCode")) or bool(record.get("errorMessage"))


def is_read_only(record: dict[str, Any]) -> bool:
    """``readOnly`` is ``true`` (absent -> False; sign-in events record ``false``)."""
    value = record.get("readOnly")
    return value is True or value == "true"


def is_console_login(record: dict[str, Any]) -> bool:
    """A console sign-in (``signin.amazonaws.com`` ``ConsoleLogin``), successful or not."""
    return (
        record.get("eventSource") == "signin.amazonaws.com"
        and record.get("eventName") == "ConsoleLogin"
    )


def log_stream_name(account_id: str, region: str) -> str:
    """Stream CloudTrail writes to in its log group: ``<account-id>_CloudTrail_<region>``
    (the trail's home region; aws-compat.md 7.3)."""
    return f"{account_id}_CloudTrail_{region}"
