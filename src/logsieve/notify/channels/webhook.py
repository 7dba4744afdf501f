"""The ``webhook`` channel type: a URL, an optional signing secret and extra headers.

Sent by :class:`logsieve.notify.webhook.WebhookChannel`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from logsieve.config_values import Invalid

from .base import BuildContext, Channel, ChannelConfig
from .checks import http_url, shown, string

__all__ = ["CHECKS", "CONFIG", "DEFAULT_RATE_PER_MINUTE", "WebhookConfig", "build"]

_HEADER_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_RESERVED_HEADERS = ("x-logsieve-signature", "x-logsieve-timestamp", "content-length", "host")


@dataclass(frozen=True, kw_only=True)
class WebhookConfig(ChannelConfig):
    url: str = field(repr=False)
    secret: str | None = field(default=None, repr=False)
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)


def _url(value: Any) -> str:
    return http_url(string(value, "quote the URL", True), "write the receiver's full URL", True)


def _headers(value: Any) -> tuple[tuple[str, str], ...]:
    hint = 'write headers = { Authorization = "Bearer ..." } with string values'
    if not isinstance(value, dict):
        raise Invalid(f"must be a table (got {shown(value)})", hint)
    found: list[tuple[str, str]] = []
    for name, item in value.items():
        if not _HEADER_RE.fullmatch(name):
            raise Invalid(f"has an invalid header name {name!r}", "use letters, digits and '-'")
        if name.lower() in _RESERVED_HEADERS:
            raise Invalid(f"must not set {name} (logsieve sets it)", "remove it")
        if not isinstance(item, str) or "\n" in item or "\r" in item:
            raise Invalid(f"header {name} must be a one-line string (got {shown(item)})", hint)
        found.append((name, item))
    return tuple(found)


def _secret(value: Any) -> str:
    return string(value, "write a long random string, shared with the receiver", True)


CONFIG = WebhookConfig
CHECKS: dict[str, Callable[[Any], Any]] = {"url": _url, "secret": _secret, "headers": _headers}
DEFAULT_RATE_PER_MINUTE: float | None = None


def build(config: WebhookConfig, context: BuildContext) -> Channel:
    from ..webhook import WebhookChannel

    return WebhookChannel(
        config.name, config.url, secret=config.secret, headers=dict(config.headers),
        policy=config.policy,
    )  # fmt: skip
