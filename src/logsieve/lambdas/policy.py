"""A function's resource-based policy: what AddPermission writes and who may invoke.

Documents have the shape GetPolicy returns on AWS::

    {"Version": "2012-10-17", "Id": "default", "Statement": [
        {"Sid": "cwl", "Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"},
         "Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:...:function:f",
         "Condition": {"StringEquals": {"AWS:SourceAccount": "123456789012"},
                       "ArnLike": {"AWS:SourceArn": "arn:aws:logs:...:log-group:*"}}}]}

Evaluation covers what matters for CloudWatch Logs subscriptions: Allow statements for the
invoke action, service (or ``*``) principals, and SourceArn / SourceAccount conditions with
IAM's ``*`` and ``?`` wildcards.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection
from typing import Any

import orjson

from logsieve.errors import ServiceError

MAX_POLICY_BYTES = 20_480  # Lambda's limit for a function's resource-based policy
_ACCOUNT = re.compile(r"\d{12}")
_INVOKE_ACTIONS = frozenset({"lambda:InvokeFunction", "lambda:*", "*"})
# Condition operators that compare SourceArn / SourceAccount, and whether they take wildcards.
_OPERATORS = {"ArnLike": True, "StringLike": True, "ArnEquals": False, "StringEquals": False}


def dumps(document: dict[str, Any]) -> str:
    """Compact JSON, as AWS returns policies and statements."""
    return orjson.dumps(document).decode("utf-8")


def _principal(principal: str) -> Any:
    if principal == "*":
        return "*"
    if _ACCOUNT.fullmatch(principal):
        return {"AWS": f"arn:aws:iam::{principal}:root"}
    if principal.startswith("arn:"):
        return {"AWS": principal}
    return {"Service": principal}


def statement(params: dict[str, Any], resource: str) -> dict[str, Any]:
    """The statement AddPermission adds for its parameters."""
    conditions: dict[str, dict[str, str]] = {}

    def condition(operator: str, key: str, value: str | None) -> None:
        if value is not None:
            conditions.setdefault(operator, {})[key] = value

    condition("StringEquals", "AWS:SourceAccount", params.get("SourceAccount"))
    condition("StringEquals", "lambda:EventSourceToken", params.get("EventSourceToken"))
    condition("StringEquals", "aws:PrincipalOrgID", params.get("PrincipalOrgID"))
    condition("StringEquals", "lambda:FunctionUrlAuthType", params.get("FunctionUrlAuthType"))
    condition("ArnLike", "AWS:SourceArn", params.get("SourceArn"))
    out: dict[str, Any] = {
        "Sid": params["StatementId"],
        "Effect": "Allow",
        "Principal": _principal(params["Principal"]),
        "Action": params["Action"],
        "Resource": resource,
    }
    if conditions:
        out["Condition"] = conditions
    return out


def add(document: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` (or a new one) with ``new`` appended; a reused Sid conflicts."""
    policy = (
        copy.deepcopy(document)
        if document
        else {"Version": "2012-10-17", "Id": "default", "Statement": []}
    )
    if any(s.get("Sid") == new["Sid"] for s in policy["Statement"]):
        raise ServiceError(
            "ResourceConflictException",
            f"The statement id ({new['Sid']}) provided already exists. Please provide a new "
            "statement id, or remove the existing statement.",
            409,
        )
    policy["Statement"].append(new)
    size = len(dumps(policy).encode("utf-8"))
    if size > MAX_POLICY_BYTES:
        raise ServiceError(
            "PolicyLengthExceededException",
            f"The final policy size ({size}) is bigger than the limit ({MAX_POLICY_BYTES}).",
        )
    return policy


def remove(document: dict[str, Any] | None, sid: str) -> dict[str, Any] | None:
    """A copy of ``document`` without statement ``sid`` (None once no statement is left)."""
    if not document:
        raise ServiceError(
            "ResourceNotFoundException", "No policy is associated with the given resource.", 404
        )
    kept = [s for s in document["Statement"] if s.get("Sid") != sid]
    if len(kept) == len(document["Statement"]):
        raise ServiceError(
            "ResourceNotFoundException", f"Statement {sid} is not found in resource policy.", 404
        )
    if not kept:
        return None
    return {**copy.deepcopy(document), "Statement": copy.deepcopy(kept)}


def allows_service(
    document: dict[str, Any] | None,
    services: Collection[str],
    source_arn: str,
    source_account: str | None,
) -> bool:
    """Whether a statement lets one of ``services`` (principals such as
    ``logs.amazonaws.com``) invoke the function on behalf of ``source_arn``."""
    if not document:
        return False
    for item in document.get("Statement", ()):
        if item.get("Effect") != "Allow" or not _invokes(item.get("Action")):
            continue
        if not _principal_matches(item.get("Principal"), services):
            continue
        if _conditions_hold(item.get("Condition") or {}, source_arn, source_account):
            return True
    return False


def _invokes(action: Any) -> bool:
    actions = action if isinstance(action, list) else [action]
    return any(a in _INVOKE_ACTIONS for a in actions)


def _principal_matches(principal: Any, services: Collection[str]) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if principal.get("AWS") == "*":
        return True
    named = principal.get("Service")
    names = named if isinstance(named, list) else [named]
    return any(n in services for n in names)


def _conditions_hold(
    conditions: dict[str, Any], source_arn: str, source_account: str | None
) -> bool:
    """Every SourceArn / SourceAccount condition must hold; other keys are not ours to judge
    (they concern other callers) and make the statement inapplicable."""
    facts = {"aws:sourcearn": source_arn, "aws:sourceaccount": source_account}
    for operator, tests in conditions.items():
        wildcards = _OPERATORS.get(operator)
        if wildcards is None or not isinstance(tests, dict):
            return False
        for key, expected in tests.items():
            actual = facts.get(key.lower(), _UNKNOWN)
            if actual is _UNKNOWN or actual is None:
                return False
            options = expected if isinstance(expected, list) else [expected]
            if not any(_matches(str(o), actual, wildcards) for o in options):
                return False
    return True


_UNKNOWN: Any = object()


def _matches(pattern: str, value: str, wildcards: bool) -> bool:
    if not wildcards:
        return pattern == value
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None
