"""Opaque pagination tokens: a small JSON object, base64url without padding, read strictly.

Tokens come back from clients, so they are untrusted input: only a token this module could
have written is accepted. Decoding re-encodes what it read and compares, which refuses in
one rule garbage before or after the token, characters outside the alphabet, padding,
whitespace or escapes in the JSON, duplicate keys and any other second spelling; the keys
must be exactly the expected ones and every value must pass its check. A service turns a
refusal (``None``) into its own AWS error.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from typing import Any

import orjson

__all__ = ["MAX_TOKEN_CHARS", "decode", "encode", "ints", "is_int", "is_str", "strs"]

#: Longer than any token we write (names are at most 512 characters).
MAX_TOKEN_CHARS = 8192
_ALPHABET = re.compile(r"[A-Za-z0-9_-]+\Z")
_INT_LIMIT = 1 << 63  # SQLite's integers are signed 64-bit

Check = Callable[[Any], bool]


def encode(state: dict[str, Any]) -> str:
    """The token for ``state`` (a JSON object of ints, strings, lists of them)."""
    return base64.urlsafe_b64encode(orjson.dumps(state)).decode("ascii").rstrip("=")


def decode(
    token: object, required: Mapping[str, Check], optional: Mapping[str, Check] | None = None
) -> dict[str, Any] | None:
    """The state ``token`` holds, or None unless it is exactly what ``encode`` writes for a
    state with all ``required`` keys, no keys beyond ``optional``, and values that pass."""
    optional = optional or {}
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or not _ALPHABET.match(token):
        return None
    try:
        state = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, orjson.JSONDecodeError, ValueError):
        return None
    if not isinstance(state, dict) or encode(state) != token:
        return None
    if not required.keys() <= state.keys() <= required.keys() | optional.keys():
        return None
    checks = {**optional, **required}
    if not all(checks[key](value) for key, value in state.items()):
        return None
    return state


def is_int(value: Any) -> bool:
    """A JSON integer (not a bool) that fits a signed 64-bit column."""
    return type(value) is int and -_INT_LIMIT <= value < _INT_LIMIT


def is_str(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 2048


def ints(count: int) -> Check:
    return lambda v: isinstance(v, list) and len(v) == count and all(map(is_int, v))


def strs(count: int) -> Check:
    return lambda v: isinstance(v, list) and len(v) == count and all(map(is_str, v))
