"""How a literal on the right of an operator matches a value: wildcards and numbers.

Shared by JSON and space-delimited patterns so both read ``4*``, ``"*Event"`` and ``1e3`` the
same way.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable

ORDERINGS: dict[str, Callable[[object, object], bool]] = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
"""The ordering operators, shared by JSON and space-delimited comparisons."""

_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z")


def to_number(text: str) -> int | float | None:
    """Read ``text`` as a number if it is one (``404``, ``-5``, ``55.5``, ``1e+3``), else None.

    Integers stay ints so long ids compare exactly; anything with a fraction or exponent is a
    float. Words Python would accept (``nan``, ``inf``, ``1_000``) are not numbers here.
    """
    if text.isdigit() and text.isascii() and len(text) < 4000:  # the common case, fast
        return int(text)
    if _NUMBER.match(text) is None:
        return None
    if "." in text or "e" in text or "E" in text:
        return float(text)
    try:
        return int(text)
    except ValueError:  # beyond Python's int-from-text digit limit: still a (huge) number
        return float(text)


def number_text(value: int | float) -> str:
    """The text a JSON number is compared as when a wildcard or regex is applied to it."""
    if type(value) is float and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)


def string_matcher(literal: str) -> Callable[[str], bool]:
    """Match a whole string against ``literal``, where ``*`` is a wildcard only at the ends."""
    starts = literal.startswith("*")
    ends = literal.endswith("*") and len(literal) > 1
    if starts and ends:
        middle = literal[1:-1]  # a '*' inside it is literal (J3)
        return lambda s: middle in s
    if starts:
        suffix = literal[1:]
        if not suffix:
            return lambda s: True
        return lambda s: s.endswith(suffix)
    if ends:
        prefix = literal[:-1]
        return lambda s: s.startswith(prefix)
    return lambda s: s == literal


def has_wildcard(literal: str) -> bool:
    return literal.startswith("*") or literal.endswith("*")


def required_text(literal: str) -> str:
    """The part of a (possibly wildcarded) string literal that every match must contain."""
    if literal.startswith("*"):
        literal = literal[1:]
    if literal.endswith("*"):
        literal = literal[:-1]
    return literal
