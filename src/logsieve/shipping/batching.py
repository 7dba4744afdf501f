"""Group log events into PutLogEvents batches that CloudWatch Logs accepts whole.

Pure and single-threaded: no I/O, no clock of its own (the caller passes one), so the rules can
be tested exactly. The rules are the API's (aws-compat.md 3.1): at most 10,000 events, at most
1,048,576 bytes counting every event's UTF-8 message plus 26 bytes, at most 24 hours between
the earliest and the latest timestamp, events in chronological order. A batch is also closed
``flush_interval`` seconds after its first event, as agents do, so a trickle of events is not
held back waiting for a full batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

__all__ = [
    "EVENT_OVERHEAD",
    "MAX_BATCH_BYTES",
    "MAX_BATCH_EVENTS",
    "MAX_EVENT_BYTES",
    "MAX_SPAN_MS",
    "Batch",
    "Batcher",
    "fit_message",
    "message_size",
]

MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD = 26
MAX_EVENT_BYTES = 1_048_576  # message bytes + 26 (256 KiB before 2025)
MAX_SPAN_MS = 24 * 3_600_000
DEFAULT_FLUSH_INTERVAL = 0.2

_by_timestamp = itemgetter("timestamp")


def message_size(message: str) -> int:
    """UTF-8 bytes of ``message``, the unit CloudWatch sizes batches in."""
    return len(message) if message.isascii() else len(message.encode("utf-8", "surrogatepass"))


def fit_message(message: str, max_event_bytes: int = MAX_EVENT_BYTES) -> tuple[str, bool]:
    """``message`` cut to the largest prefix the API takes as one event (and whether it was).

    Agents truncate rather than drop an oversized line; cutting on a UTF-8 character boundary
    keeps the stored text valid.
    """
    limit = max_event_bytes - EVENT_OVERHEAD
    if message_size(message) <= limit:
        return message, False
    data = message.encode("utf-8", "surrogatepass")[:limit]
    return data.decode("utf-8", "ignore"), True


@dataclass(slots=True)
class Batch:
    """One PutLogEvents request's worth of events for one log stream.

    ``events`` are ``{"timestamp": ms, "message": str}`` dicts, the shape botocore sends, in
    chronological order once the batch is sealed. ``mark`` is the mark of the last event added
    (the file position after it, for ``ship``), so a caller knows what a successful send covers.
    """

    stream: str
    opened: float  # clock reading when the first event was added
    events: list[dict[str, Any]] = field(default_factory=list)
    size: int = 0  # bytes as the API counts them (messages + 26 per event)
    low: int = 0  # earliest timestamp
    high: int = 0  # latest timestamp
    ordered: bool = True
    mark: Any = None

    def __len__(self) -> int:
        return len(self.events)


_NONE: tuple[Batch, ...] = ()


class Batcher:
    """Collect events per log stream; hand back batches as they fill up or age out.

    ``add`` returns the batches that adding the event sealed (usually none); ``due`` the ones
    whose flush interval has passed; ``drain`` everything that is left. Messages over the
    per-event limit are truncated and counted in ``truncated``.
    """

    def __init__(
        self,
        *,
        max_events: int = MAX_BATCH_EVENTS,
        max_bytes: int = MAX_BATCH_BYTES,
        max_event_bytes: int = MAX_EVENT_BYTES,
        max_span_ms: int = MAX_SPAN_MS,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 1 <= max_events <= MAX_BATCH_EVENTS:
            raise ValueError(f"max_events must be 1-{MAX_BATCH_EVENTS}, not {max_events}")
        if max_event_bytes > max_bytes:
            raise ValueError("max_event_bytes cannot exceed max_bytes")
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.max_event_bytes = max_event_bytes
        self.max_span_ms = max_span_ms
        self.flush_interval = flush_interval
        self.clock = clock
        self.truncated = 0
        self._open: dict[str, Batch] = {}
        self._deadline = float("inf")

    # -- state ------------------------------------------------------------------------------
    @property
    def pending(self) -> int:
        """Events added but not yet handed back in a batch."""
        return sum(len(b.events) for b in self._open.values())

    @property
    def deadline(self) -> float:
        """Clock reading at which the oldest open batch is due (``inf`` when none is open)."""
        return self._deadline

    def __bool__(self) -> bool:
        return bool(self._open)

    # -- adding -----------------------------------------------------------------------------
    def add(
        self, stream: str, timestamp: int, message: str, mark: Hashable | Any = None
    ) -> tuple[Batch, ...] | list[Batch]:
        """Add one event; returns the batches this sealed (the stream's previous batch when
        the event does not fit in it, and the new one when it is now full)."""
        if not message:
            raise ValueError("a log event message cannot be empty")
        size = (len(message) if message.isascii() else message_size(message)) + EVENT_OVERHEAD
        if size > self.max_event_bytes:
            message, _ = fit_message(message, self.max_event_bytes)
            size = message_size(message) + EVENT_OVERHEAD
            self.truncated += 1
        sealed: list[Batch] | tuple[Batch, ...] = _NONE
        batch = self._open.get(stream)
        if batch is not None and (
            len(batch.events) >= self.max_events
            or batch.size + size > self.max_bytes
            or max(batch.high, timestamp) - min(batch.low, timestamp) > self.max_span_ms
        ):
            sealed = [self._seal(stream)]
            batch = None
        if batch is None:
            batch = Batch(stream, self.clock(), low=timestamp, high=timestamp)
            self._open[stream] = batch
            if batch.opened + self.flush_interval < self._deadline:
                self._deadline = batch.opened + self.flush_interval
        elif timestamp < batch.high:
            batch.ordered = False
            if timestamp < batch.low:
                batch.low = timestamp
        else:
            batch.high = timestamp
        batch.events.append({"timestamp": timestamp, "message": message})
        batch.size += size
        batch.mark = mark
        if len(batch.events) >= self.max_events:
            full = self._seal(stream)
            sealed = [*sealed, full]
        return sealed

    # -- handing back -----------------------------------------------------------------------
    def due(self, now: float | None = None) -> list[Batch]:
        """Seal and return the batches opened at least ``flush_interval`` ago."""
        now = self.clock() if now is None else now
        if now < self._deadline:
            return []
        limit = now - self.flush_interval
        streams = [s for s, b in self._open.items() if b.opened <= limit]
        return [self._seal(s) for s in streams]

    def drain(self) -> list[Batch]:
        """Seal and return every open batch (end of input, shutdown)."""
        return [self._seal(s) for s in list(self._open)]

    def _seal(self, stream: str) -> Batch:
        batch = self._open.pop(stream)
        if not batch.ordered:
            batch.events.sort(key=_by_timestamp)  # stable: equal timestamps keep their order
            batch.ordered = True
        self._deadline = (
            min(b.opened for b in self._open.values()) + self.flush_interval
            if self._open
            else float("inf")
        )
        return batch
