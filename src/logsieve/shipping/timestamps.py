"""Event timestamps for shipped lines: the time of reading, or one parsed from the line.

``parse`` mode understands what log lines usually start with: an ISO-8601 date-time
(``2025-03-10T14:00:00Z``, ``2025-03-10 14:00:00,123 +02:00``, optionally in ``[...]``; no zone
means UTC) or epoch milliseconds (13 digits). A line without one (a stack-trace continuation,
say) gets the timestamp of the line before it -- as multi-line agents do -- or the time of
reading when there is none yet.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

__all__ = ["MODES", "Stamper", "parse_leading_timestamp"]

MODES = ("now", "parse")

_ISO = re.compile(
    r"\[?(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})"
    r"(?:[.,](\d{1,9}))?"
    r"(?:\s?(Z|[+-]\d{2}(?::?\d{2})?))?"
    r"(?![\d])"
)
_EPOCH_MS = re.compile(r"\[?(\d{13})(?![\d.])")


def _zone(text: str | None) -> timezone:
    if not text or text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_leading_timestamp(line: str) -> int | None:
    """Milliseconds since the epoch from the start of ``line``, or None if it has none."""
    match = _ISO.match(line)
    if match is not None:
        year, month, day, hour, minute, second, fraction, zone = match.groups()
        try:
            moment = datetime(
                int(year), int(month), int(day), int(hour), int(minute), int(second),
                tzinfo=_zone(zone),
            )  # fmt: skip
        except ValueError:
            return None
        millis = int((fraction or "0")[:3].ljust(3, "0"))
        return int(moment.timestamp()) * 1000 + millis
    match = _EPOCH_MS.match(line)
    if match is not None:
        return int(match.group(1))
    return None


class Stamper:
    """Give each line its event timestamp according to ``mode`` (``now`` or ``parse``)."""

    def __init__(self, mode: str = "now", clock: Callable[[], float] = time.time) -> None:
        if mode not in MODES:
            raise ValueError(f"timestamp mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        self.clock = clock
        self.parsed = 0  # lines whose own timestamp was used
        self._last: int | None = None

    def __call__(self, line: str) -> int:
        if self.mode == "parse":
            found = parse_leading_timestamp(line)
            if found is not None:
                self.parsed += 1
                self._last = found
                return found
            if self._last is not None:
                return self._last
        return int(self.clock() * 1000)
