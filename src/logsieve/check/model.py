"""What a check answers: its verdict, the resources failing, why it matters, and the fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["critical", "high", "medium", "low"]
Status = Literal["pass", "fail", "skipped"]


@dataclass(frozen=True)
class Call:
    """One API call a fix makes: what ``--fix --yes`` applies and the aws CLI line it prints."""

    service: str
    operation: str  # boto3's snake_case method name
    params: dict[str, Any]
    cli: str


@dataclass(frozen=True)
class Failing:
    """One resource that fails a check, with the fix for it."""

    resource: str  # an ARN or id
    detail: str
    calls: tuple[Call, ...] = ()  # applied by --fix --yes; empty when the fix is manual
    cli: str = ""  # the remediation as aws CLI commands (shown even when not applied)
    terraform: str = ""


@dataclass(frozen=True)
class Result:
    id: str
    title: str
    severity: Severity
    why: str
    status: Status
    region: str
    failing: tuple[Failing, ...] = ()
    note: str = ""  # why a check was skipped
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Caller:
    """Whose account was checked: sts:GetCallerIdentity's answer, or why it is unknown (the
    checks still run without it)."""

    account: str = ""
    arn: str = ""
    user_id: str = ""
    unknown: str = ""  # e.g. "missing permission sts:GetCallerIdentity (...)"

    def shown(self) -> str:
        """One line naming the account, for the table's header."""
        if self.unknown:
            return f"account: unknown ({self.unknown})"
        return f"account: {self.account} as {self.arn}"


class CannotRun(Exception):
    """The account refused a read the checks need: exit 2, naming the permission."""

    def __init__(self, permission: str, message: str) -> None:
        super().__init__(f"{permission}: {message}")
        self.permission = permission
        self.message = message


class Unavailable(Exception):
    """The endpoint does not offer an API a check reads (moto has no Client VPN; logsieve's
    server has no EC2 before the ec2 service lands): the check is skipped, saying so."""
