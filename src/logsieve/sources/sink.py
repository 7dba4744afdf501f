"""The sink every source writes through: events into local log groups and streams (created
when missing), committed in one transaction with the source's new position.

Exactly once: a source reads from its stored position, writes the events it read together
with the position after them (``SourcePositions.append_at``), and only then moves on. A crash
before the commit leaves both old (the events are read again); after it, both new.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from itertools import groupby

from logsieve.logs.context import Delivery, now_ms
from logsieve.logs.ingest import utf8_size
from logsieve.storage import Chunk, Deleted, LogsStore, SourcePositions
from logsieve.storage.merge import MAX_CHUNK_SPAN_MS

from .events import RemoteEvent

__all__ = ["MAX_CHUNK_EVENTS", "LocalSink"]

log = logging.getLogger("logsieve.sources")

MAX_CHUNK_EVENTS = 10_000  # PutLogEvents' batch limit: chunks no bigger than the API makes


def _pieces(events: list[RemoteEvent]) -> Iterable[list[RemoteEvent]]:
    """Sorted events of one stream cut into chunks the event log takes (count and 24 h span)."""
    start = 0
    while start < len(events):
        end = min(start + MAX_CHUNK_EVENTS, len(events))
        limit = events[start].timestamp + MAX_CHUNK_SPAN_MS
        if events[end - 1].timestamp > limit:
            end = start + 1
            while end < len(events) and events[end].timestamp <= limit:
                end += 1
        yield events[start:end]
        start = end


class LocalSink:
    """Appends remote events under their group and stream names, with a source's position."""

    def __init__(
        self,
        store: LogsStore,
        positions: SourcePositions,
        delivery: Delivery | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.store = store
        self.positions = positions
        self.delivery = delivery
        self.clock = clock
        self._ids: dict[tuple[str, str], tuple[int, int]] = {}
        self._lock = threading.Lock()  # the id cache; the store serialises the writes

    def stored_positions(self, source: str) -> dict[str, str]:
        return self.positions.positions(source)

    def write(
        self,
        source: str,
        events: Iterable[RemoteEvent],
        positions: Mapping[str, str | None],
    ) -> int:
        """Append ``events`` and commit ``positions`` together; how many events were stored.

        Durable on return. Positions alone (no events) are committed too: a shard that ended,
        a request id seen."""
        ordered = sorted(events, key=lambda e: (e.group, e.stream, e.timestamp))
        try:
            return self._write(source, ordered, positions)
        except Deleted:  # a group or stream deleted locally since it was cached: make it again
            with self._lock:
                self._ids.clear()
            return self._write(source, ordered, positions)

    def _write(
        self, source: str, ordered: list[RemoteEvent], positions: Mapping[str, str | None]
    ) -> int:
        chunks: list[Chunk] = []
        now = self.clock()
        for (group, stream), same in groupby(ordered, key=lambda e: (e.group, e.stream)):
            group_id, stream_id = self._resolve(group, stream, now)
            for piece in _pieces(list(same)):
                messages = [e.message for e in piece]
                chunks.append(
                    Chunk(
                        group_id, stream_id, [e.timestamp for e in piece], messages,
                        sum(map(utf8_size, messages)),
                    )
                )  # fmt: skip
        self.positions.append_at(source, chunks, positions, now)
        if self.delivery is not None:
            for group_id in {chunk.group_id for chunk in chunks}:
                self.delivery.appended(group_id)
        return len(ordered)

    def _resolve(self, group: str, stream: str, now: int) -> tuple[int, int]:
        """The ids of a local group and stream, creating either when missing."""
        with self._lock:
            ids = self._ids.get((group, stream))
        if ids is not None:
            return ids
        found = self.store.group(group)
        if found is None:
            found = self.store.create_group(group, now, None, "STANDARD") or self.store.group(group)
            if found is None:  # created and deleted at once: let the caller retry
                raise Deleted("group")
            log.info("source created log group name=%s", group)
            if self.delivery is not None:
                self.delivery.subscriptions_changed()  # standing subscriptions wait for groups
        local = self.store.stream(found.id, stream)
        if local is None:
            local = self.store.create_stream(found.id, stream, now) or self.store.stream(
                found.id, stream
            )
            if local is None:
                raise Deleted("stream")
        with self._lock:
            self._ids[(group, stream)] = (found.id, local.id)
        return found.id, local.id
