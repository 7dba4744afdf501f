"""What the console shows: the server's services, handed over by the composition root.

Pages read these directly, in process (no SigV4, no HTTP round trip): the Logs service's
operations with their AWS rules and errors, the dispatcher's status, the dead letters...
A field is None when the server has no such part; a page then says so or hides itself.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from logsieve import __version__
from logsieve.logs import LogsService


class IngestMeter:
    """Events per second into the event log, from its sequence number sampled over time:
    no counter on the hot path. Read on each page load; the rate covers the last minute."""

    WINDOW = 60.0

    def __init__(self, last_seq: Callable[[], int], clock: Callable[[], float] = time.monotonic):
        self.last_seq = last_seq
        self.clock = clock
        self._samples: deque[tuple[float, int]] = deque()
        self._lock = threading.Lock()

    def rate(self) -> float | None:
        """Events/s since the oldest sample of the window (None until two samples exist)."""
        now, seq = self.clock(), self.last_seq()
        with self._lock:
            while self._samples and now - self._samples[0][0] > self.WINDOW:
                self._samples.popleft()
            if not self._samples or now - self._samples[-1][0] >= 1.0:
                self._samples.append((now, seq))
            first_time, first_seq = self._samples[0]
            if now - first_time < 1.0:
                return None if len(self._samples) < 2 else 0.0
            return max(0, seq - first_seq) / (now - first_time)


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
            self.meter = IngestMeter(self.logs.ctx.store.last_seq)
