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
from logsieve.storage import LogsStore


class IngestMeter:
    """Events per second appended to the event log over about the last minute.

    Nothing on the ingest path: each sample takes the log's end position and asks how many
    events lie between it and the previous sample's (``count_between``; sequence numbers are
    positions, not counts). Sampled when a page asks, each second at most."""

    WINDOW = 60.0

    def __init__(
        self,
        count_between: Callable[[Any, Any], int],
        last_seq: Callable[[], Any],  # a position: an int, or a LogPosition (per group)
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.count_between = count_between
        self.last_seq = last_seq
        self.clock = clock
        self._position = last_seq()  # counts start now, not with the stored history
        self._total = 0
        self._samples: deque[tuple[float, int]] = deque()
        self._lock = threading.Lock()

    def _advance(self) -> int:
        end = self.last_seq()
        self._total += self.count_between(self._position, end)
        self._position = end
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


LogPosition = dict[int, int]  # group id -> the end of the log for that group


def _group_ids(store: LogsStore) -> list[int]:
    found, last = [], None
    while True:
        groups = store.groups(None, None, None, last, 1000)
        found += [group.id for group in groups]
        if len(groups) < 1000:
            return found
        last = groups[-1].name


def log_position(store: LogsStore) -> Callable[[], LogPosition]:
    """The end of the event log now, per group: on a partitioned log (JetStream with several
    partitions) seqs are ordered within a group's partition only, so one number cannot say
    where every group ends."""
    return lambda: {group_id: store.last_seq(group_id) for group_id in _group_ids(store)}


def events_between(store: LogsStore) -> Callable[[LogPosition, LogPosition], int]:
    """How many events lie between two positions of the event log, from each group's backlog:
    chunk counts summed in SQL, no event read. A group made since ``after`` counts from its
    start; one deleted since does not count."""

    def count(after: LogPosition, upto: LogPosition) -> int:
        return sum(
            store.backlog(group_id, after.get(group_id, 0))[0] - store.backlog(group_id, end)[0]
            for group_id, end in upto.items()
        )

    return count


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
            self.meter = IngestMeter(events_between(store), log_position(store))
