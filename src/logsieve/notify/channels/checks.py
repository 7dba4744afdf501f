"""Checks of ``[[channels]]`` values that several types share.

Each returns the clean value or raises ``Invalid(problem, hint)``; the parser turns that into
one line naming the file, the table and the key.
"""

from __future__ import annotations

import re
import unicodedata
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from logsieve.config_values import Invalid, show

__all__ = ["address", "http_url", "shown", "string", "strings"]

_ADDRESS_RE = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.?[^@\s<>,;\"]*")


def shown(value: Any, secret: bool = False) -> str:
    """``value`` as an error message shows it (a secret is never shown)."""
    return show(value, secret, ascii_only=False)


def string(value: Any, hint: str, secret: bool = False) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"must be a non-empty string (got {shown(value, secret)})", hint)
    return value.strip()


def http_url(value: Any, hint: str, secret: bool = False) -> str:
    """An http(s) URL every send could reach: a host, a port from 1 to 65535 and no
    whitespace or control character (a URL that can never be sent to is a config mistake,
    not a notification to retry for a day)."""
    text = string(value, hint, secret)
    problem = Invalid(f"must be an http:// or https:// URL (got {shown(value, secret)})", hint)
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in text):
        raise problem
    try:
        parts = urlsplit(text)
        port = parts.port  # ValueError when out of range or not a number
    except ValueError:  # also a broken IPv6 literal ("http://[::1/x")
        raise problem from None
    if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
        raise problem
    return text


def address(value: Any, hint: str) -> str:
    text = string(value, hint)
    if "\n" in text or not _ADDRESS_RE.fullmatch(parseaddr(text)[1] or "-"):
        raise Invalid(f"must be an email address (got {shown(value)})", hint)
    return text


def strings(value: Any, hint: str) -> tuple[str, ...]:
    """An array of non-empty strings; a lone string is an array of one."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise Invalid(f"must be an array of non-empty strings (got {shown(value)})", hint)
    return tuple(v.strip() for v in value)
