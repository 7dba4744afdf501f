"""Checks for the keys source kinds share (each raises ``Invalid`` with the fix)."""

from __future__ import annotations

import os
import re
from typing import Any

from logsieve.config_values import Invalid, kind, show

__all__ = ["AWS_KEYS", "choice", "env_name", "log_group_name", "text", "url", "url_path"]

_REGION_RE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_GROUP_RE = re.compile(r"[\w#\-./]{1,512}")
_ENV_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise Invalid(f"must be a non-empty string (got {kind(value)} {show(value)})", "quote it")
    return value


def optional_text(value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid(f"must be a string (got {kind(value)} {show(value)})", "quote it")
    return value


def region(value: Any) -> str:
    value = text(value)
    if not _REGION_RE.fullmatch(value):
        raise Invalid(f"is not an AWS region name (got {show(value)})", 'use e.g. "us-east-1"')
    return value


def url(value: Any) -> str:
    value = text(value)
    if not re.match(r"https?://[^/\s]+", value):
        raise Invalid(f"must be an http(s) URL (got {show(value)})", 'use e.g. "http://host:4588"')
    return value.rstrip("/")


def url_path(value: Any) -> str:
    value = text(value)
    if not re.fullmatch(r"/[A-Za-z0-9._~\-/]*", value) or value.startswith("/_logsieve"):
        raise Invalid(
            f"must be a URL path starting with / outside /_logsieve (got {show(value)})",
            'use e.g. "/firehose/prod"',
        )
    return value


def log_group_name(value: Any) -> str:
    value = text(value)
    if not _GROUP_RE.fullmatch(value):
        raise Invalid(
            f"is not a log group name (got {show(value)})",
            "use 1-512 letters, digits and _ - / . #",
        )
    return value


def env_name(value: Any) -> str:
    value = text(value)
    if not _ENV_RE.fullmatch(value):
        raise Invalid(f"is not an environment variable name (got {show(value)})", "use e.g. KEY")
    if value not in os.environ:
        raise Invalid(f"names {value}, which is not set", f"export {value} before starting")
    return value


def choice(*options: str):
    def check(value: Any) -> str:
        if value not in options:
            listed = ", ".join(f'"{o}"' for o in options)
            raise Invalid(f"must be one of {listed} (got {show(value)})", f'use "{options[0]}"')
        return str(value)

    return check


def seconds(low: float, high: float):
    def check(value: Any) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not low <= value <= high
        ):
            raise Invalid(
                f"must be a number of seconds from {low:g} to {high:g} (got {show(value)})",
                f"use e.g. {max(low, 1):g}",
            )
        return float(value)

    return check


# The standard AWS settings every pull source takes (credentials: the standard chain).
def _aws_keys() -> dict[str, Any]:
    from .base import Key

    return {
        "region": Key(region, default=None),
        "profile": Key(text, default=None),
        "endpoint_url": Key(url, default=None),
        "into_prefix": Key(optional_text, default=""),
    }


AWS_KEYS = _aws_keys()
