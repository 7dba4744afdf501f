"""One server log line per refused signature, so an operator can see why a client fails.

A client with a wrong secret, an unknown key or a clock off by an hour retries forever, and
a scanner sprays keys: both must neither flood the log nor grow memory. So lines are limited
per access key id and reason (``per_key`` a window, so a second kind of failure of the same
key still shows) and in total (``total`` a window), at most ``max_keys`` of them are tracked
per window, and what was held back is summed up in one line per key and reason
(``suppressed=M``, the ten busiest keys and one line for the rest) with the first refusal
after the window ends. Lines are key=value, values quoted when they
hold anything but plain characters, so a forged key id cannot forge log lines.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["RejectionLog", "field_value"]

_PLAIN = re.compile(r"[A-Za-z0-9_.:/@+=-]{1,128}\Z")
_OTHER_KEYS = "(other)"
_NO_KEY = "-"
_SUMMARY_KEYS = 10


def field_value(value: object) -> str:
    """``value`` as a log field: bare when plain, else JSON-quoted and cut to 200 chars."""
    text = str(value)
    if _PLAIN.match(text):
        return text
    return json.dumps(text[:200])


@dataclass
class _Window:
    started: float
    lines: int = 0
    per_key: dict[tuple[str, str], int] = field(default_factory=dict)
    suppressed: dict[tuple[str, str], int] = field(default_factory=dict)


class RejectionLog:
    """Rate-limited warnings for refused requests (thread-safe: verification runs on
    worker threads)."""

    def __init__(
        self,
        logger: logging.Logger,
        per_key: int = 5,
        total: int = 100,
        window_seconds: float = 60.0,
        max_keys: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.per_key = per_key
        self.total = total
        self.window_seconds = window_seconds
        self.max_keys = max_keys
        self.clock = clock
        self._lock = threading.Lock()
        self._window = _Window(clock())

    def rejected(self, access_key_id: str | None, reason: str, **fields: object) -> None:
        """Log one refusal, or count it when its key (or everyone) is over the limit."""
        key = (access_key_id or _NO_KEY, reason)
        with self._lock:
            summaries = self._roll()
            window = self._window
            if key not in window.per_key and len(window.per_key) >= self.max_keys:
                key = (_OTHER_KEYS, reason)
            count = window.per_key.get(key, 0)
            window.per_key[key] = count + 1
            allowed = count < self.per_key and window.lines < self.total
            if allowed:
                window.lines += 1
            else:
                window.suppressed[key] = window.suppressed.get(key, 0) + 1
        for line in summaries:
            self.logger.warning(line)
        if allowed:
            extra = "".join(f" {name}={field_value(value)}" for name, value in fields.items())
            self.logger.warning(
                "request rejected access_key_id=%s reason=%s%s", field_value(key[0]), reason, extra
            )

    def flush(self) -> None:
        """Log the held-back counts now (they are otherwise logged when the window ends)."""
        with self._lock:
            summaries = self._summaries(self._window)
            self._window = _Window(self.clock())
        for line in summaries:
            self.logger.warning(line)

    def _roll(self) -> list[str]:
        """Start a new window when this one is over; return the old one's summaries."""
        now = self.clock()
        if now - self._window.started < self.window_seconds:
            return []
        summaries = self._summaries(self._window)
        self._window = _Window(now)
        return summaries

    def _summaries(self, window: _Window) -> list[str]:
        """One line per key held back (the busiest ``_SUMMARY_KEYS``), the rest in one."""
        seconds = f"{self.window_seconds:g}"
        ranked = sorted(window.suppressed.items(), key=lambda item: -item[1])
        shown, rest = ranked[:_SUMMARY_KEYS], ranked[_SUMMARY_KEYS:]
        lines = [
            f"requests rejected access_key_id={field_value(key)} reason={reason} "
            f"suppressed={count} (similar lines held back within {seconds}s)"
            for (key, reason), count in shown
        ]
        if rest:
            lines.append(
                f"requests rejected access_key_id=({len(rest)} other keys and reasons) "
                f"suppressed={sum(count for _, count in rest)} "
                f"(similar lines held back within {seconds}s)"
            )
        return lines
