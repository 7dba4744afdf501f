"""What the console shows: the server's services, handed over by the composition root.

Pages read these directly, in process (no SigV4, no HTTP round trip): the Logs service's
operations with their AWS rules and errors, the dispatcher's status, the dead letters...
A field is None when the server has no such part; a page then says so or hides itself.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from logsieve import __version__
from logsieve.logs import LogsService


class IngestMeter:
    """Events per second appended to the event log over about the last minute, counted by
    reading what was appended since the previous sample: nothing on the ingest path, and
    sequence numbers are positions, not counts. Sampled when a page asks (each second at
    most), with bounded work per sample: far behind, the count catches up over samples."""

    WINDOW = 60.0
    READ_LIMIT = 10_000
    MAX_READS = 5

    def __init__(
        self,
        read_after: Callable[[int, int], Sequence[Sequence[Any]]],
        last_seq: Callable[[], int],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.read_after = read_after
        self.clock = clock
        self._position = last_seq()  # counts start now, not with the stored history
        self._total = 0
        self._samples: deque[tuple[float, int]] = deque()
        self._lock = threading.Lock()

    def _advance(self) -> int:
        for _ in range(self.MAX_READS):
            batch = self.read_after(self._position, self.READ_LIMIT)
            if not batch:
                break
            self._total += len(batch)
            self._position = batch[-1][1]  # a StoredEvent's seq
            if len(batch) < self.READ_LIMIT:
                break
        return self._total

    def rate(self) -> float | None:
        """Events/s since the window's baseline sample (None until two samples exist)."""
        with self._lock:
            now = self.clock()
            if not self._samples or now - self._samples[-1][0] >= 1.0:
                self._samples.append((now, self._advance()))
            # Keep one sample from before the window as the baseline: an idle minute is 0/s.
            while len(self._samples) > 1 and now - self._samples[1][0] > self.WINDOW:
                self._samples.popleft()
            if len(self._samples) < 2:
                return None
            (first_time, first), (_, last) = self._samples[0], self._samples[-1]
            return (last - first) / (now - first_time)


@dataclass
class ConsoleServices:
    """The parts pages read. ``errors`` counts what needs attention (failed deliveries,
    dead letters); ``extra`` holds parts added by later pages without a new field here."""

    logs: LogsService
    dispatcher: Any = None  # subscriptions.Dispatcher: status() of every pump
    dead_letters: Any = None  # storage.DeadLetterStore
    outbox: Any = None  # notify.Outbox
    alerts: Any = None  # alerts.AlertService
    version: str = __version__
    extra: dict[str, Any] = field(default_factory=dict)
    meter: IngestMeter | None = None

    def __post_init__(self) -> None:
        if self.meter is None:
            store = self.logs.ctx.store
            self.meter = IngestMeter(store.read_after, store.last_seq)
