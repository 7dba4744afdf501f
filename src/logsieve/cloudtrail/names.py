"""Trail names and ARNs: AWS's rules and messages (as moto and real answers word them)."""

from __future__ import annotations

import re

from logsieve.errors import ServiceError

_STARTS = re.compile(r"[0-9a-zA-Z]")
_CHARS = re.compile(r"[.\-_0-9a-zA-Z]+")
_ARN = re.compile(
    r"arn:aws[a-z-]*:cloudtrail:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):trail/(?P<name>.+)"
)


def invalid_name(message: str) -> ServiceError:
    return ServiceError("InvalidTrailNameException", message)


def check_name(name: str) -> None:
    """A trail name AWS accepts: 3-128 of letters, digits, ``.-_``, alphanumeric at both ends."""
    if len(name) < 3:
        raise invalid_name(
            "Trail name too short. Minimum allowed length: 3 characters. "
            f"Specified name length: {len(name)} characters."
        )
    if len(name) > 128:
        raise invalid_name(
            "Trail name too long. Maximum allowed length: 128 characters. "
            f"Specified name length: {len(name)} characters."
        )
    if not _STARTS.fullmatch(name[0]):
        raise invalid_name("Trail name must starts with a letter or number.")
    if not _STARTS.fullmatch(name[-1]):
        raise invalid_name("Trail name must ends with a letter or number.")
    if not _CHARS.fullmatch(name):
        raise invalid_name(
            "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, "
            "periods (.), hyphens (-), and underscores (_)."
        )


def trail_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:cloudtrail:{region}:{account_id}:trail/{name}"


def resolve(name_or_arn: str, region: str, account_id: str) -> str:
    """The ARN a ``Name`` parameter (a name or an ARN) refers to, after AWS's checks."""
    if name_or_arn.startswith("arn:"):
        if _ARN.fullmatch(name_or_arn) is None:
            raise ServiceError(
                "CloudTrailARNInvalidException",
                f"Invalid trail ARN: {name_or_arn}. The ARN must be in the format "
                "arn:aws:cloudtrail:<region>:<account-id>:trail/<trail-name>.",
            )
        return name_or_arn
    check_name(name_or_arn)
    return trail_arn(region, account_id, name_or_arn)


def not_found(shown: str, account_id: str) -> ServiceError:
    return ServiceError(
        "TrailNotFoundException", f"Unknown trail: {shown} for the user: {account_id}"
    )


LOG_GROUP_ARN = re.compile(
    r"arn:aws[a-z-]*:logs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):log-group:(?P<name>[^:]+):\*"
)


def log_group_name(arn: str) -> str | None:
    """The group a trail's ``CloudWatchLogsLogGroupArn`` names (it must end in ``:*``)."""
    found = LOG_GROUP_ARN.fullmatch(arn)
    return found["name"] if found else None
