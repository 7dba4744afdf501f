"""Formatting helpers for templates: times in a zone, durations, byte sizes, protocol names.

Pure functions of their arguments (the current time is passed in), so rendered messages are
reproducible -- golden-file tests compare them byte for byte. Each accepts the loose shapes log
data comes in (numbers as strings, "NA", "-", None) and shows ``-`` for a missing value rather
than failing the whole message.
"""

from __future__ import annotations

import math
import zoneinfo
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Any

__all__ = [
    "DEFAULT_TIME_FORMAT",
    "ago",
    "format_bytes",
    "format_duration",
    "format_number",
    "format_time",
    "protocol_name",
    "to_datetime",
    "zone",
]

DEFAULT_TIME_FORMAT = "%Y-%m-%d %H:%M:%S %Z"
MISSING = "-"
_MISSING_TEXT = ("", "-", "NA", "None", "null")
# Epoch values below this are seconds, above it milliseconds: 1e11 s is the year 5138 and
# 1e11 ms is 1973, so both readings are unambiguous for log data.
_MS_THRESHOLD = 100_000_000_000
_PROTOCOLS = {
    1: "ICMP",
    2: "IGMP",
    6: "TCP",
    17: "UDP",
    41: "IPv6",
    47: "GRE",
    50: "ESP",
    51: "AH",
    58: "ICMPv6",
    132: "SCTP",
}


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str) and value.strip() in _MISSING_TEXT:
        return True
    return bool(isinstance(value, float) and not math.isfinite(value))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or _missing(value):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


@lru_cache(maxsize=64)
def zone(name: str | None) -> tzinfo:
    """The ``tzinfo`` for an IANA name (``UTC`` for None/empty); ValueError if unknown."""
    if not name or name.upper() == "UTC":
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def to_datetime(value: Any) -> datetime | None:
    """An aware datetime from epoch seconds or milliseconds (numbers or digit strings), ISO
    8601 text (CloudTrail's ``2025-03-10T02:14:09Z``, Client VPN's ``2025-03-10 08:00:18``,
    both UTC when no zone is written) or a datetime; None when it is missing or unreadable."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    number = _number(value)
    if number is not None:
        seconds = number / 1000 if abs(number) >= _MS_THRESHOLD else number
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and not _missing(value):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def format_time(value: Any, tz: str | None = None, fmt: str = DEFAULT_TIME_FORMAT) -> str:
    """``value`` (see :func:`to_datetime`) shown in the IANA zone ``tz``, strftime ``fmt``."""
    moment = to_datetime(value)
    if moment is None:
        return MISSING
    return moment.astimezone(zone(tz)).strftime(fmt)


def format_duration(seconds: Any) -> str:
    """A duration for people, two units at most: ``45 s``, ``2 min 5 s``, ``2 h 5 min``,
    ``3 d 4 h``."""
    number = _number(seconds)
    if number is None:
        return MISSING
    total = round(abs(number))
    sign = "-" if number < 0 and total else ""
    if total < 60:
        return f"{sign}{total} s"
    parts = []
    for size, unit in ((86_400, "d"), (3600, "h"), (60, "min"), (1, "s")):
        amount, total = divmod(total, size)
        if amount or parts:
            parts.append((amount, unit))
    shown = [f"{amount} {unit}" for amount, unit in parts[:2] if amount]
    return sign + " ".join(shown)


def format_bytes(count: Any) -> str:
    """A byte count in decimal units, as network tools show traffic: ``999 B``, ``1.2 kB``,
    ``1.2 MB``, ``3.4 GB``."""
    number = _number(count)
    if number is None:
        return MISSING
    size = abs(number)
    if size < 1000:
        return f"{number:.0f} B"
    for unit in ("kB", "MB", "GB", "TB", "PB"):
        size /= 1000
        if size < 1000 or unit == "PB":
            value = math.copysign(size, number)
            return f"{value:.1f} {unit}" if size < 100 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")


def format_number(value: Any) -> str:
    """Thousands separators for counts: ``12,345``."""
    number = _number(value)
    if number is None:
        return MISSING
    return f"{number:,.0f}" if number == int(number) else f"{number:,.2f}"


def protocol_name(number: Any) -> str:
    """IANA protocol number to its name (``6`` -> ``TCP``); unknown numbers stay numbers."""
    value = _number(number)
    if value is None:
        return MISSING
    return _PROTOCOLS.get(int(value), str(int(value)))


def ago(value: Any, now: Any) -> str:
    """How long before ``now`` the moment ``value`` was: ``5 min ago``, ``in 2 h``,
    ``just now`` (both as accepted by :func:`to_datetime`)."""
    moment, reference = to_datetime(value), to_datetime(now)
    if moment is None or reference is None:
        return MISSING
    delta = (reference - moment).total_seconds()
    if abs(delta) < 1:
        return "just now"
    shown = format_duration(abs(delta))
    return f"{shown} ago" if delta > 0 else f"in {shown}"
