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

from logsieve.logs.context import Delivery, now_ms
from logsieve.logs.ingest import utf8_size
from logsieve.storage import Chunk, Deleted, LogsStore, SourcePositions
from logsieve.storage.merge import MAX_CHUNK_SPAN_MS

from .events import RemoteBatch, RemoteEvent

__all__ = ["MAX_CHUNK_EVENTS", "LocalSink"]

log = logging.getLogger("logsieve.sources")

MAX_CHUNK_EVENTS = 10_000  # PutLogEvents' batch limit: chunks no bigger than the API makes


def _pieces(timestamps: list[int], messages: list[str]) -> Iterable[tuple[int, int]]:
    """[start, end) ranges of one stream's sorted events that the event log takes as chunks
    (at most ``MAX_CHUNK_EVENTS``, spanning at most 24 hours)."""
    start = 0
    while start < len(timestamps):
        end = min(start + MAX_CHUNK_EVENTS, len(timestamps))
        limit = timestamps[start] + MAX_CHUNK_SPAN_MS
        if timestamps[end - 1] > limit:
            end = start + 1
            while end < len(timestamps) and timestamps[end] <= limit:
                end += 1
        yield start, end
        start = end


def _size(messages: list[str]) -> int:
    if all(map(str.isascii, messages)):
        return sum(map(len, messages))
    return sum(map(utf8_size, messages))


def _merge(batches: Iterable[RemoteBatch]) -> dict[tuple[str, str], tuple[list[int], list[str]]]:
    """One sorted (timestamps, messages) per local stream."""
    streams: dict[tuple[str, str], tuple[list[int], list[str]]] = {}
    for batch in batches:
        if not batch.timestamps:
            continue
        found = streams.get((batch.group, batch.stream))
        if found is None:
            streams[(batch.group, batch.stream)] = (list(batch.timestamps), list(batch.messages))
        else:
            found[0].extend(batch.timestamps)
            found[1].extend(batch.messages)
    for key, (timestamps, messages) in streams.items():
        if timestamps != sorted(timestamps):
            order = sorted(range(len(timestamps)), key=timestamps.__getitem__)
            streams[key] = ([timestamps[i] for i in order], [messages[i] for i in order])
    return streams


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
        events: Iterable[RemoteEvent | RemoteBatch],
        positions: Mapping[str, str | None],
    ) -> int:
        """Append ``events`` (single events, or whole batches of one stream) and commit
        ``positions`` together; how many events were stored.

        Durable on return. Positions alone (no events) are committed too: a shard that ended,
        a request id seen."""
        streams = _merge(
            item if isinstance(item, RemoteBatch)
            else RemoteBatch(item.group, item.stream, [item.timestamp], [item.message])
            for item in events
        )  # fmt: skip
        try:
            return self._write(source, streams, positions)
        except Deleted:  # a group or stream deleted locally since it was cached: make it again
            with self._lock:
                self._ids.clear()
            return self._write(source, streams, positions)

    def _write(
        self,
        source: str,
        streams: dict[tuple[str, str], tuple[list[int], list[str]]],
        positions: Mapping[str, str | None],
    ) -> int:
        chunks: list[Chunk] = []
        now = self.clock()
        count = 0
        for (group, stream), (timestamps, messages) in streams.items():
            group_id, stream_id = self._resolve(group, stream, now)
            count += len(timestamps)
            for start, end in _pieces(timestamps, messages):
                piece = messages[start:end]
                chunks.append(
                    Chunk(group_id, stream_id, timestamps[start:end], piece, _size(piece))
                )
        self.positions.append_at(source, chunks, positions, now)
        if self.delivery is not None:
            for group_id in {chunk.group_id for chunk in chunks}:
                self.delivery.appended(group_id)
        return count

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
