"""``logsieve check``: the logging posture of an AWS account (or any endpoint), read-only."""

from .account import Account
from .checks import CHECKS, run_checks
from .model import Call, Caller, CannotRun, Failing, Result, Unavailable
from .output import as_json, sarif, table

__all__ = [
    "CHECKS", "Account", "Call", "Caller", "CannotRun", "Failing", "Result", "Unavailable",
    "as_json", "run_checks", "sarif", "table",
]  # fmt: skip
