"""Every node's in-memory index of the event log's chunks, fed by a headers-only consumer.

One index per partition (logs_partitions.py): a read syncs only its group's partition, with
that stream's leader. Each events stream holds one message per appended chunk (its headers
say which group and stream, its time bounds, event count, bytes and ingestion time) plus a
few other messages (markers, source positions). An ordered push consumer with
``headers_only`` replays the whole stream at start and then follows it, so each node knows
every chunk without reading payloads: reads pick the chunks they need from here (in time
order, as SQLite's index does) and fetch only those payloads; DescribeLogStreams' figures
(first and last event time, stored bytes) are sums kept here, so a put never rewrites a KV
record ("hot fields not CAS'd per put").

Deletions are announced by a marker published BEFORE the messages are deleted: every index
applies it at the same point of the stream, so a chunk deleted later is already gone from the
index, and the stream's last message is never a deleted one (``sync`` waits for it).
A chunk deleted before an index saw it is simply never seen (it is not in the stream).

Cost: one small tuple per retained chunk on every node (a chunk is one PutLogEvents batch).
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections.abc import Iterable
from typing import NamedTuple

import orjson
from nats.aio.msg import Msg
from nats.js import api
from nats.js.errors import NotFoundError

from .connection import Connection

__all__ = [
    "H_BYTES", "H_COUNT", "H_INGESTED", "H_MARK", "H_MAX", "H_MIN", "ChunkIndex", "ChunkMeta",
]  # fmt: skip

H_MIN, H_MAX, H_COUNT, H_BYTES, H_INGESTED = "Min-Ts", "Max-Ts", "Count", "Bytes", "Ingested"
_PATIENCE = 1.0  # seconds a sync waits before asking whether the last message still exists
H_MARK = "Ls-Mark"  # a marker: its payload says what is deleted (fetched by seq)


class ChunkMeta(NamedTuple):
    seq: int  # the message's stream sequence
    group_id: int
    stream_id: int
    min_ts: int
    max_ts: int
    count: int
    size: int
    ingested: int


class ChunkIndex:
    """The chunks of one events stream; mutate and read on the connection's loop only."""

    def __init__(self, conn: Connection, stream: str, events_prefix: str) -> None:
        self._conn = conn
        self._stream = stream
        self._prefix = events_prefix  # "<ns>.logs.e." : then "<p>.<group>.<stream>"
        self.chunks: dict[int, ChunkMeta] = {}  # by seq, in seq order
        self.by_group: dict[int, list[int]] = {}  # seqs ascending (may name dropped ones)
        self.by_stream: dict[int, list[int]] = {}
        self.order: list[int] = []  # every chunk seq ascending (may name dropped ones)
        # stream id -> [first event ts, last event ts, last ingestion time, stored bytes]
        self.stats: dict[int, list[int | None]] = {}
        self.group_bytes: dict[int, int] = {}
        # ids a marker deleted (ids are never reused): what stream-existence caches check
        self.deleted_streams: set[int] = set()
        self.deleted_groups: set[int] = set()
        self.orphans: dict[int, ChunkMeta] = {}  # chunks of those, appended after the marker
        self.at = 0  # the last stream sequence applied
        self._changed = asyncio.Condition()
        self._sub: object | None = None

    async def start(self, subject: str) -> None:
        self._sub = await self._conn.js.subscribe(
            subject,
            stream=self._stream,
            cb=self._apply,
            ordered_consumer=True,
            headers_only=True,
            deliver_policy=api.DeliverPolicy.ALL,
        )

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()  # type: ignore[attr-defined]

    # -- following the stream -------------------------------------------------------------

    async def _apply(self, msg: Msg) -> None:
        seq = msg.metadata.sequence.stream
        if seq <= self.at:
            return
        headers = msg.headers or {}
        if H_MARK in headers:
            await self._apply_marker(seq)
        elif msg.subject.startswith(self._prefix) and H_COUNT in headers:
            _, group, stream = msg.subject[len(self._prefix) :].split(".")
            self.add(
                ChunkMeta(
                    seq, int(group), int(stream), int(headers[H_MIN]), int(headers[H_MAX]),
                    int(headers[H_COUNT]), int(headers[H_BYTES]), int(headers[H_INGESTED]),
                )
            )  # fmt: skip
        self.at = seq
        async with self._changed:
            self._changed.notify_all()

    def add(self, chunk: ChunkMeta) -> None:
        if chunk.stream_id in self.deleted_streams or chunk.group_id in self.deleted_groups:
            self.orphans[chunk.seq] = chunk  # appended racing a delete: only ``expire`` sees it
            return
        self.chunks[chunk.seq] = chunk
        self.order.append(chunk.seq)
        self.by_group.setdefault(chunk.group_id, []).append(chunk.seq)
        self.by_stream.setdefault(chunk.stream_id, []).append(chunk.seq)
        stats = self.stats.get(chunk.stream_id)
        if stats is None:
            self.stats[chunk.stream_id] = [chunk.min_ts, chunk.max_ts, chunk.ingested, chunk.size]
        else:
            first, last, ingested, size = stats
            stats[0] = chunk.min_ts if first is None else min(first, chunk.min_ts)
            stats[1] = chunk.max_ts if last is None else max(last, chunk.max_ts)
            stats[2] = chunk.ingested if ingested is None else max(ingested, chunk.ingested)
            stats[3] = (size or 0) + chunk.size
        self.group_bytes[chunk.group_id] = self.group_bytes.get(chunk.group_id, 0) + chunk.size

    async def _apply_marker(self, seq: int) -> None:
        msg = await self._conn.retrying(self._conn.js.get_msg, self._stream, seq)
        body = orjson.loads(msg.data or b"{}")
        self.drop(body.get("drop", ()))
        for stream_id in body.get("streams", ()):
            self.drop(self.by_stream.pop(stream_id, ()))
            self.stats.pop(stream_id, None)
            self.deleted_streams.add(stream_id)
        for group_id in body.get("groups", ()):
            self.drop(self.by_group.pop(group_id, ()))
            self.group_bytes.pop(group_id, None)
            self.deleted_groups.add(group_id)

    def drop(self, seqs: Iterable[int]) -> None:
        """Forget these chunks (those still known), taking their bytes off the totals."""
        for seq in seqs:
            chunk = self.chunks.pop(seq, None)
            if chunk is None:
                continue
            stats = self.stats.get(chunk.stream_id)
            if stats is not None:
                stats[3] = max(0, (stats[3] or 0) - chunk.size)
            if chunk.group_id in self.group_bytes:
                self.group_bytes[chunk.group_id] = max(
                    0, self.group_bytes[chunk.group_id] - chunk.size
                )
        if len(self.order) > 2 * len(self.chunks) + 1024:  # compact the lists now and then
            self.order = [s for s in self.order if s in self.chunks]
            for lists in (self.by_group, self.by_stream):
                for key, seqs_of in list(lists.items()):
                    kept = [s for s in seqs_of if s in self.chunks]
                    if kept:
                        lists[key] = kept
                    else:
                        del lists[key]

    # -- waiting --------------------------------------------------------------------------

    async def wait_for(self, seq: int) -> None:
        """Until every message up to ``seq`` is applied."""
        if self.at >= seq:
            return
        async with self._changed:
            await self._changed.wait_for(lambda: self.at >= seq)

    async def sync(self) -> None:
        """Until the index holds every message the stream's leader has (read-your-writes
        across nodes).

        A consumer never receives a message deleted before it got there, so when the
        stream's last message is gone (a racing append purged with its deleted group) the
        wait ends once the consumer had its chance to deliver what precedes it."""
        conn = self._conn
        last = (await conn.retrying(conn.js.stream_info, self._stream)).state.last_seq or 0
        await self.wait_past(last)

    async def wait_past(self, seq: int) -> None:
        """Until every message up to ``seq`` is applied, or ``seq`` was deleted before this
        consumer got to it (then nothing may ever come up to it)."""
        try:
            await asyncio.wait_for(self.wait_for(seq), _PATIENCE)
        except TimeoutError:
            conn = self._conn
            try:
                await conn.retrying(conn.js.get_msg, self._stream, seq)
            except NotFoundError:
                return  # deleted: nothing more will come up to it
            await self.wait_for(seq)

    # -- reading --------------------------------------------------------------------------

    def live(self, seqs: list[int], after: int = 0) -> list[ChunkMeta]:
        """The chunks of ``seqs`` (ascending) still held, with a seq above ``after``."""
        start = bisect_right(seqs, after) if after else 0
        chunks = self.chunks
        return [chunks[s] for s in seqs[start:] if s in chunks]

    def of_group(self, group_id: int, after: int = 0) -> list[ChunkMeta]:
        return self.live(self.by_group.get(group_id, []), after)

    def of_stream(self, stream_id: int) -> list[ChunkMeta]:
        return self.live(self.by_stream.get(stream_id, []))

    def after(self, seq: int) -> list[ChunkMeta]:
        return self.live(self.order, seq)
