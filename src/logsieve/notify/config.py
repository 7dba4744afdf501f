"""The config file's ``[[channels]]`` tables, validated into :class:`ChannelConfig` objects.

Imported while the config file loads, so it stays light: standard library only. The channel
modules (httpx, boto3, apprise) are imported by :func:`build_channels` when the server starts.

Example::

    [[channels]]
    name = "ops-slack"
    type = "slack"
    webhook_url = "https://hooks.slack.com/services/T000/B000/XXXX"
    rate_per_minute = 30
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from logsieve.config_values import Invalid as _Invalid
from logsieve.config_values import show, table_array
from logsieve.config_values import suggest as _suggest
from logsieve.errors import ConfigError

from .channels import build_channels, register_channels, send_notification

__all__ = [
    "CHANNEL_TYPES",
    "ChannelConfig",
    "build_channels",
    "parse_channels",
    "register_channels",
    "send_notification",
]

_COMMON_KEYS = ("name", "type", "rate_per_minute", "retry_seconds")
# type -> (its own keys, the required ones among them)
_TYPE_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "email": (("to", "sender"), ("to",)),
    "slack": (("webhook_url",), ("webhook_url",)),
    "datadog": (("api_key", "site", "api_url", "tags"), ("api_key",)),
    "webhook": (("url", "secret", "headers"), ("url",)),
    "sns": (("topic_arn",), ("topic_arn",)),
    "apprise": (("url",), ("url",)),
}
CHANNEL_TYPES = tuple(_TYPE_KEYS)
_ALL_KEYS = tuple(
    dict.fromkeys(_COMMON_KEYS + tuple(k for ks, _ in _TYPE_KEYS.values() for k in ks))
)
# Slack allows one message per second per incoming webhook (short bursts are tolerated).
_DEFAULT_RATE_PER_MINUTE: dict[str, float] = {"slack": 60.0}

_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_ADDRESS_RE = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.?[^@\s<>,;\"]*")
_HEADER_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_TOPIC_ARN_RE = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?")
_SITE_RE = re.compile(r"((app|api)\.)?([a-z0-9-]+\.)?(datadoghq\.com|datadoghq\.eu|ddog-gov\.com)")
_KNOWN_SITES = (
    "datadoghq.com, us3.datadoghq.com, us5.datadoghq.com, datadoghq.eu, ap1.datadoghq.com, "
    "ap2.datadoghq.com, ddog-gov.com"
)
_RESERVED_HEADERS = ("x-logsieve-signature", "x-logsieve-timestamp", "content-length", "host")


@dataclass(frozen=True)
class ChannelConfig:
    """One ``[[channels]]`` table. Only the keys of its ``type`` are set; the rest keep their
    defaults. Secrets stay out of repr, so logging a config never leaks them."""

    name: str
    type: str  # one of CHANNEL_TYPES
    rate_per_minute: float | None = None  # None: no limit
    retry_seconds: float = 86_400.0  # keep retrying this long, then give up (visibly)
    # email
    to: tuple[str, ...] = ()
    sender: str | None = None  # default: the [smtp] sender
    # slack
    webhook_url: str | None = field(default=None, repr=False)
    # datadog
    api_key: str | None = field(default=None, repr=False)
    site: str = "datadoghq.com"
    api_url: str | None = None
    tags: tuple[str, ...] = ()
    # webhook (url, secret, headers) and apprise (url)
    url: str | None = field(default=None, repr=False)
    secret: str | None = field(default=None, repr=False)
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    # sns
    topic_arn: str | None = None
    source: Path | None = field(default=None, compare=False)  # the file, for error messages

    @property
    def kind(self) -> str:
        """The outbox kind this channel's notifications are queued under."""
        return f"channel:{self.name}"


def _show(value: Any, secret: bool = False) -> str:
    return show(value, secret, ascii_only=False)


def _string(value: Any, hint: str, secret: bool = False) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"must be a non-empty string (got {_show(value, secret)})", hint)
    return value.strip()


def _http_url(value: Any, hint: str, secret: bool = False) -> str:
    text = _string(value, hint, secret)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in text:
        raise _Invalid(f"must be an http:// or https:// URL (got {_show(value, secret)})", hint)
    return text


def _address(value: Any, hint: str) -> str:
    text = _string(value, hint)
    if "\n" in text or not _ADDRESS_RE.fullmatch(parseaddr(text)[1] or "-"):
        raise _Invalid(f"must be an email address (got {_show(value)})", hint)
    return text


def _number(value: Any, low: float, high: float, hint: str, low_open: bool = False) -> float:
    what = f"a number {'greater than' if low_open else 'from'} {low:g}" + (
        f" {'and at most' if low_open else 'to'} {high:g}"
    )
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Invalid(f"must be {what} (got {_show(value)})", hint + " (no quotes)")
    if (value <= low if low_open else value < low) or value > high:
        raise _Invalid(f"must be {what} (got {_show(value)})", hint)
    return float(value)


def _strings(value: Any, hint: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _Invalid(f"must be an array of non-empty strings (got {_show(value)})", hint)
    return tuple(v.strip() for v in value)


def _headers(value: Any) -> tuple[tuple[str, str], ...]:
    hint = 'write headers = { Authorization = "Bearer ..." } with string values'
    if not isinstance(value, dict):
        raise _Invalid(f"must be a table (got {_show(value)})", hint)
    found: list[tuple[str, str]] = []
    for name, item in value.items():
        if not _HEADER_RE.fullmatch(name):
            raise _Invalid(f"has an invalid header name {name!r}", "use letters, digits and '-'")
        if name.lower() in _RESERVED_HEADERS:
            raise _Invalid(f"must not set {name} (logsieve sets it)", "remove it")
        if not isinstance(item, str) or "\n" in item or "\r" in item:
            raise _Invalid(f"header {name} must be a one-line string (got {_show(item)})", hint)
        found.append((name, item))
    return tuple(found)


def _check(key: str, value: Any) -> Any:
    """The checked value of one type-specific key."""
    if key == "to":
        hint = 'write to = ["ops@example.com"]'
        addresses = _strings(value, hint)
        if not addresses:
            raise _Invalid("must list at least one address (got an empty array)", hint)
        return tuple(_address(v, hint) for v in addresses)
    if key == "sender":
        return _address(value, 'write sender = "logsieve@example.com"')
    if key == "webhook_url":
        return _http_url(value, "paste the Incoming Webhook URL Slack shows for the app", True)
    if key == "api_key":
        key_text = _string(value, "paste a Datadog API key (not an application key)", True)
        if any(c.isspace() for c in key_text):
            raise _Invalid("must not contain spaces", "paste the API key exactly")
        return key_text
    if key == "site":
        site = _string(value, f"use one of {_KNOWN_SITES}").lower()
        if not _SITE_RE.fullmatch(site):
            raise _Invalid(
                f"is not a Datadog site (got {_show(value)})", f"use one of {_KNOWN_SITES}"
            )
        return site
    if key == "api_url":
        return _http_url(
            value, 'write the full events URL, e.g. "https://api.datadoghq.com/api/v1/events"'
        )
    if key == "tags":
        return _strings(value, 'write tags = ["env:prod", "team:sec"]')
    if key == "url":
        return _string(value, "quote the URL", True)
    if key == "secret":
        return _string(value, "write a long random string, shared with the receiver", True)
    if key == "headers":
        return _headers(value)
    if key == "topic_arn":
        arn = _string(value, 'use e.g. "arn:aws:sns:us-east-1:123456789012:alerts"')
        if not _TOPIC_ARN_RE.fullmatch(arn):
            raise _Invalid(
                f"must be an SNS topic ARN (got {_show(value)})",
                'use e.g. "arn:aws:sns:us-east-1:123456789012:alerts"',
            )
        return arn
    if key == "rate_per_minute":
        return _number(value, 0, 60_000, "use e.g. 60 (one a second)", low_open=True)
    if key == "retry_seconds":
        return _number(value, 0, 7 * 86_400, "use 86400 to retry for a day")
    raise AssertionError(key)  # pragma: no cover - every key in _TYPE_KEYS is handled


def _label(number: int, entry: dict[str, Any]) -> str:
    name = entry.get("name")
    label = f"[[channels]] entry {number}"
    return f"{label} ({name})" if isinstance(name, str) and name else label


def _parse_entry(path: Path, number: int, entry: dict[str, Any]) -> ChannelConfig:
    label = _label(number, entry)
    kind = entry.get("type")
    if "type" not in entry:
        raise ConfigError(
            f'{path}: {label} is missing type; add type = "..." with one of '
            f"{', '.join(CHANNEL_TYPES)}"
        )
    if kind not in _TYPE_KEYS:
        hint = _suggest(kind, CHANNEL_TYPES) if isinstance(kind, str) else ""
        raise ConfigError(
            f"{path}: {label} type must be one of {', '.join(CHANNEL_TYPES)} "
            f"(got {_show(kind)}); {hint}use apprise for any other service"
        )
    own, required = _TYPE_KEYS[kind]
    valid = _COMMON_KEYS + own
    for key in entry:
        if key in valid:
            continue
        owners = [t for t, (keys, _) in _TYPE_KEYS.items() if key in keys]
        if owners:
            raise ConfigError(
                f"{path}: {label} key {key!r} does not apply to type {kind} (it is for "
                f"{' and '.join(owners)}); valid keys for {kind} are {', '.join(valid)}"
            )
        raise ConfigError(
            f"{path}: unknown key {key!r} in {label}; {_suggest(key, _ALL_KEYS)}"
            f"valid keys for {kind} are {', '.join(valid)}"
        )
    name = entry.get("name")
    if "name" not in entry:
        raise ConfigError(f'{path}: {label} is missing name; add name = "..." (e.g. "ops-{kind}")')
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ConfigError(
            f"{path}: {label} name must be 1-64 letters, digits, '_', '.' or '-' "
            f"(got {_show(name)}); alert rules refer to the channel by this name"
        )
    for key in required:
        if key not in entry:
            raise ConfigError(f'{path}: {label} (type {kind}) is missing {key}; add {key} = "..."')
    values: dict[str, Any] = {"name": name, "type": kind}
    if kind in _DEFAULT_RATE_PER_MINUTE:
        values["rate_per_minute"] = _DEFAULT_RATE_PER_MINUTE[kind]
    for key, value in entry.items():
        if key in ("name", "type"):
            continue
        try:
            values[key] = _check(key, value)
        except _Invalid as bad:
            raise ConfigError(f"{path}: {label} {key} {bad.problem}; {bad.hint}") from None
    if kind == "apprise" and "://" not in values["url"]:
        raise ConfigError(
            f'{path}: {label} url must be an apprise URL such as "discord://webhook_id/token"; '
            "see apprise's list of supported services"
        )
    if kind == "webhook":
        try:
            _http_url(values["url"], "", secret=True)
        except _Invalid as bad:
            raise ConfigError(
                f"{path}: {label} url {bad.problem}; write the receiver's full URL"
            ) from None
    return ChannelConfig(**values, source=path)


def parse_channels(path: Path, raw: Any) -> tuple[ChannelConfig, ...]:
    """Validate the ``[[channels]]`` array of tables from the config file at ``path``.

    Raises ConfigError with one line naming the file, the table and key, what is wrong and
    what to write instead.
    """
    raw = table_array(path, raw, "channels", "channel with name and type")
    found: list[ChannelConfig] = []
    for number, entry in enumerate(raw, start=1):
        channel = _parse_entry(path, number, entry)
        if any(c.name == channel.name for c in found):
            raise ConfigError(
                f"{path}: channel name {channel.name!r} is used by more than one [[channels]] "
                "entry; give each channel its own name"
            )
        found.append(channel)
    return tuple(found)
