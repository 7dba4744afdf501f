"""What a cloudwatch-logs source has stored of one remote log group: its position.

CloudWatch Logs has no cursor over a log group: FilterLogEvents filters on the event's
timestamp, and events arrive minutes late, so a reader re-reads a lookback window and must
recognise what it already stored. ``Seen`` is that memory: a high-water mark (the newest
timestamp, or ingestion time, stored) and the keys of the events stored at or after
``high - window``, with how many times each was stored. It is the group's position, written
in the same transaction as the events it admits, so after a crash the events and the memory
of them agree: exactly once.

A key is the remote event id when there is one (FilterLogEvents); live tail results carry
none, so there the key is a digest of stream, timestamp, ingestion time and message, and two
identical events of one batch are told apart by counting within one pass (``Pass``).
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter

import orjson

__all__ = ["Pass", "Seen", "content_key"]


def content_key(stream: str, timestamp: int, ingested: int, message: str) -> str:
    digest = hashlib.blake2b(digest_size=10)
    digest.update(f"{stream}\0{timestamp}\0{ingested}\0".encode())
    digest.update(message.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


class Seen:
    """Keys stored since ``high - window`` (each with its order value and count)."""

    def __init__(
        self, start: int, window: int, high: int | None = None,
        keys: dict[str, list[int]] | None = None,
    ) -> None:  # fmt: skip
        self.start = start  # nothing before it is wanted (the source's ``start``)
        self.high = start if high is None else high
        self.window = window
        self.keys: dict[str, list[int]] = keys or {}  # key -> [order value, times stored]

    @classmethod
    def load(cls, text: str | None, start: int, window: int) -> Seen:
        if not text:
            return cls(start, window)
        data = orjson.loads(text)
        keys = {k: list(v) for k, v in data["k"].items()}
        return cls(int(data["s"]), window, int(data["h"]), keys)

    def dump(self) -> str:
        return orjson.dumps({"s": self.start, "h": self.high, "k": self.keys}).decode()

    @property
    def floor(self) -> int:
        """Events ordered before this are taken as stored (outside the window). A remote
        clock ahead of ours cannot push the window into the future."""
        return max(self.start, min(self.high, time.time_ns() // 1_000_000) - self.window)

    def begin(self) -> Pass:
        return Pass(self)

    def prune(self) -> None:
        floor = self.floor
        self.keys = {k: v for k, v in self.keys.items() if v[0] >= floor}


class Pass:
    """One read that shows each remote event at most once (a poll, or a whole live tail
    session): which of its events are new."""

    def __init__(self, seen: Seen) -> None:
        self.seen = seen
        self.counts: Counter[str] = Counter()

    def forget_old(self) -> None:
        """Prune the window, and the counts of keys that left it."""
        self.seen.prune()
        keys = self.seen.keys
        self.counts = Counter({k: c for k, c in self.counts.items() if k in keys})

    def admit(self, key: str, order: int) -> bool:
        """Whether the event is new; if so it is remembered (commit with it)."""
        seen = self.seen
        if order < seen.floor:
            return False
        self.counts[key] += 1
        entry = seen.keys.get(key)
        if entry is not None and entry[1] >= self.counts[key]:
            return False
        if entry is None:
            seen.keys[key] = [order, 1]
        else:
            entry[1] += 1
        if order > seen.high:
            seen.high = order
        return True
