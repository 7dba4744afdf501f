"""Lambda function names and ARNs: the forms the API accepts and the ones it answers with.

Every operation's ``FunctionName`` may be a name (``my-function``), a partial ARN
(``123456789012:function:my-function``) or a full ARN
(``arn:aws:lambda:us-east-1:123456789012:function:my-function``), any of them with a
``:qualifier`` suffix (``$LATEST``, a version or an alias).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LATEST = "$LATEST"

_REFERENCE = re.compile(
    r"(?:arn:(?P<partition>aws[a-zA-Z-]*)?:lambda:)?"
    r"(?:(?P<region>(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?"
    r"(?:(?P<account>\d{12}):)?"
    r"(?:function:)?"
    r"(?P<name>[a-zA-Z0-9_.-]+)"
    r"(?::(?P<qualifier>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9_-]+))?"
)


@dataclass(frozen=True)
class FunctionRef:
    """What a ``FunctionName`` parameter names; region and account only when it was an ARN."""

    name: str
    qualifier: str | None = None
    region: str | None = None
    account: str | None = None
    is_arn: bool = False  # a full ARN (arn:...), not a name or a partial ARN


def parse_function_name(text: str) -> FunctionRef | None:
    """The parts of a name or (partial) ARN, or None when it is neither."""
    found = _REFERENCE.fullmatch(text)
    if found is None:
        return None
    return FunctionRef(
        found["name"],
        found["qualifier"],
        found["region"],
        found["account"],
        text.startswith("arn:"),
    )


def function_arn(region: str, account: str, name: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn
