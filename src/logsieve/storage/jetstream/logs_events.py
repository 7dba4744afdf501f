"""``EventLog`` and ``SourcePositions`` on JetStream: the events stream ``<namespace>_logs``.

One message per appended chunk (one PutLogEvents batch), on the subject
``<ns>.logs.e.<partition>.<group id>.<stream id>`` (integer ids only: names may hold any
character), its payload SQLite's chunk payload (orjson ``{"t": [...], "m": [...]}``), its
headers the chunk's bounds (``Min-Ts``, ``Max-Ts``, ``Count``, ``Bytes``, ``Ingested``) and a
``Nats-Msg-Id`` so a publish the client retries is stored once. An event's seq is
``(message seq << 14) | index`` as on SQLite, so event ids, tokens and the merge are unchanged.
There is one partition for now (the partition token is always 0): partitioned streams
``LOGS_p`` would take ``group id % P`` without changing a subject.

Reads choose their chunks from every node's chunk index (logs_index.py) once it has caught
up with the stream's leader, then fetch those payloads from the leader, many at a time.
Source positions are messages of this stream too (``<ns>.logs.pos.<source>``), so a source's
chunks and its new positions are one atomic batch.

Retention deletes by event time (a chunk goes once its newest event is past its group's
retention, as on SQLite), announced by a marker first (logs_index.py); a contiguous run of a
group's oldest chunks goes with one purge of the group's subjects, the rest one by one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import logging
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson
from nats.js.errors import BadRequestError, KeyWrongLastSequenceError, NotFoundError

from ..merge import ChunkRef, merge, stream_page
from ..protocols import Deleted, Position
from ..records import StoredEvent
from ..source_positions import Chunk
from ..sqlite import _INDEX_MASK, SEQ_BITS, _check_chunk, _in_range
from .atomic import MAX_BATCH, publish_batch
from .direct import direct_batch
from .logs_index import H_BYTES, H_COUNT, H_INGESTED, H_MARK, H_MAX, H_MIN, ChunkMeta
from .logs_metadata import LogsKv
from .records import name_key

__all__ = ["PARTITIONS", "EventsPart"]

log = logging.getLogger(__name__)
PARTITIONS = 1
_DAY_MS = 86_400_000
_KNOWN_FOR = 60.0  # seconds a stream found in KV is taken to exist (unless a marker says not)
_PREFETCH = 64  # chunk payloads fetched at once by a read
_MARKER_SEQS = 100_000  # chunk seqs per marker message (under 1 MB of JSON)


def _decode(chunk: ChunkMeta, payload: bytes) -> list[StoredEvent]:
    columns = orjson.loads(payload)  # {"t": [timestamps], "m": [messages]}
    count = len(columns["t"])
    base = chunk.seq << SEQ_BITS
    return list(
        zip(
            columns["t"],
            range(base, base + count),
            itertools.repeat(chunk.group_id, count),
            itertools.repeat(chunk.stream_id, count),
            itertools.repeat(chunk.ingested, count),
            columns["m"],
            strict=True,
        )
    )


class EventsPart(LogsKv):
    """``EventLog`` (but the cursors, in logs_filters.py) and ``SourcePositions``."""

    _events: str  # the events stream's name
    _known_streams: dict[int, tuple[int, float]]  # stream id -> (group id, known until)
    _last_marker = 0  # the seq of the last deletion marker this node published
    _marker_floor = 0  # ... as of the previous ``expire``, which purges the older ones

    def _subject(self, group_id: int, stream_id: int | str) -> str:
        return self._conn.subject("logs", "e", group_id % PARTITIONS, group_id, stream_id)

    def _message(
        self, group_id: int, stream_id: int, timestamps: Sequence[int], messages: Sequence[str],
        size: int, now: int,
    ) -> tuple[str, bytes, dict[str, str]]:  # fmt: skip
        _check_chunk(timestamps, messages)
        payload = orjson.dumps({"t": list(timestamps), "m": list(messages)})
        headers = {
            H_MIN: str(timestamps[0]), H_MAX: str(timestamps[-1]),
            H_COUNT: str(len(timestamps)), H_BYTES: str(size), H_INGESTED: str(now),
        }  # fmt: skip
        return self._subject(group_id, stream_id), payload, headers

    async def _check_stream(self, group_id: int, stream_id: int) -> None:
        """``Deleted`` unless the stream exists in that group.

        Read from KV once, then known until a deletion marker names the stream or its group
        (every node's index applies them) or ``_KNOWN_FOR`` passes. A chunk a concurrent
        delete lets through (between the delete and this node applying its marker) is
        unreachable, as ids are never reused, and goes with the next ``expire``."""
        index, now = self._index, time.monotonic()
        known = self._known_streams.get(stream_id)
        if (
            known is not None
            and known[0] == group_id
            and known[1] > now
            and stream_id not in index.deleted_streams
            and group_id not in index.deleted_groups
        ):
            return
        ref = await self._load(f"si.{stream_id}")
        if ref is None or ref[0]["group"] != group_id:
            self._known_streams.pop(stream_id, None)
            await self._live_group(group_id)
            raise Deleted("stream")
        self._known_streams[stream_id] = (group_id, now + _KNOWN_FOR)

    def _wrote(self, seq: int) -> None:
        self._written = max(self._written, seq)

    # -- appending --------------------------------------------------------------------------

    def append(
        self,
        group_id: int,
        stream_id: int,
        timestamps: Sequence[int],
        messages: Sequence[str],
        size: int,
        now: int,
    ) -> int:
        subject, payload, headers = self._message(
            group_id, stream_id, timestamps, messages, size, now
        )
        headers["Nats-Msg-Id"] = uuid.uuid4().hex  # one id for this append's retries

        async def put() -> int:
            await self._check_stream(group_id, stream_id)
            conn = self._conn
            ack = await conn.retrying(
                conn.js.publish, subject, payload, stream=self._events, headers=headers
            )
            self._wrote(ack.seq)
            await self._index.wait_past(ack.seq)
            self._check_not_deleted(group_id, stream_id)  # by a marker before this chunk
            return int(ack.seq) << SEQ_BITS

        return int(self._run(put()))

    def _check_not_deleted(self, group_id: int, stream_id: int) -> None:
        """``Deleted`` if a deletion marker this node applied names the group or stream: a
        chunk published after it is never read, so its append must not be acknowledged.
        The lookups PutLogEvents makes before appending are cached (logs_lookups.py), so
        this is what refuses a put made after a delete on another node returned."""
        if group_id in self._index.deleted_groups:
            raise Deleted("group")
        if stream_id in self._index.deleted_streams:
            raise Deleted("stream")

    def _positions_subject(self, source: str) -> str:
        return self._conn.subject("logs", "pos", name_key(source))

    async def _positions(self, source: str) -> tuple[dict[str, str], int]:
        """A source's positions and their message's seq (0: none)."""
        try:
            msg = await self._conn.retrying(
                self._conn.js.get_last_msg, self._events, self._positions_subject(source)
            )
        except NotFoundError:
            return {}, 0
        return orjson.loads(msg.data or b"{}"), msg.seq or 0

    def append_at(
        self,
        source: str,
        chunks: Sequence[Chunk],
        positions: Mapping[str, str | None],
        now: int,
    ) -> list[int]:
        if len(chunks) + 1 > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH - 1} chunks commit with a source's positions")
        messages = [
            self._message(c.group_id, c.stream_id, c.timestamps, c.messages, c.size, now)
            for c in chunks
        ]

        async def put() -> list[int]:
            for c in chunks:
                await self._check_stream(c.group_id, c.stream_id)
            while True:
                current, seq = await self._positions(source)
                for key, position in positions.items():
                    if position is None:
                        current.pop(key, None)
                    else:
                        current[key] = position
                guard = {"Nats-Expected-Last-Subject-Sequence": str(seq)}
                mark = (self._positions_subject(source), orjson.dumps(current), guard)
                try:
                    last = await publish_batch(self._conn, [*messages, mark])
                except KeyWrongLastSequenceError:
                    continue  # another writer of this source's positions: merge again
                self._wrote(last)
                try:  # only the newest positions matter; best effort (the next write too)
                    await self._conn.js.purge_stream(
                        self._events, subject=self._positions_subject(source), keep=1
                    )
                except Exception as exc:  # committed already: never report it as failed
                    log.warning("positions purge failed source=%s error=%s", source, exc)
                first = last - len(messages)
                return [(first + n) << SEQ_BITS for n in range(len(messages))]

        return list(self._run(put()))

    def positions(self, source: str) -> dict[str, str]:
        return dict(self._run(self._positions(source))[0])

    def forget(self, source: str) -> None:
        self._run(
            self._conn.retrying(
                self._conn.js.purge_stream, self._events, subject=self._positions_subject(source)
            )
        )

    # -- reading ----------------------------------------------------------------------------

    async def _end_of_log(self) -> int:
        info = await self._conn.retrying(self._conn.js.stream_info, self._events)
        last = info.state.last_seq or 0
        return ((last + 1) << SEQ_BITS) - 1 if last else 0

    def last_seq(self) -> int:
        return int(self._run(self._end_of_log()))

    async def _payloads(self, seqs: Sequence[int]) -> dict[int, bytes]:
        """The payloads of these chunks, from the stream's leader (deleted ones left out)."""

        async def one(seq: int) -> bytes | None:
            try:
                msg = await self._conn.retrying(self._conn.js.get_msg, self._events, seq)
            except NotFoundError:
                return None
            return msg.data or b""

        found = await asyncio.gather(*map(one, seqs))
        return {seq: data for seq, data in zip(seqs, found, strict=True) if data is not None}

    def read_after(self, seq: int, limit: int, group_id: int | None = None) -> list[StoredEvent]:
        async def read() -> list[StoredEvent]:
            await self._index.sync()
            start = (seq >> SEQ_BITS) - 1  # the chunk holding ``seq`` too
            chosen = (
                self._index.after(start)
                if group_id is None
                else self._index.of_group(group_id, start)
            )
            wanted, total = [], 0
            for chunk in chosen:
                wanted.append(chunk)
                total += chunk.count
                if total >= limit + (seq & _INDEX_MASK) + 1:
                    break
            payloads = await self._payloads([c.seq for c in wanted])
            found: list[StoredEvent] = []
            for chunk in wanted:
                if chunk.seq in payloads:
                    found.extend(e for e in _decode(chunk, payloads[chunk.seq]) if e[1] > seq)
            return found[:limit]

        return list(self._run(read()))

    def backlog(self, group_id: int, seq: int) -> tuple[int, int | None]:
        """A group's events after ``seq``: how many, and the oldest one's ingestion time."""

        async def count() -> tuple[int, int | None]:
            await self._index.sync()
            chunks = self._index.of_group(group_id, (seq >> SEQ_BITS) - 1)
            index, total, oldest = seq & _INDEX_MASK, 0, None
            for chunk in chunks:
                left = chunk.count - 1 - index if chunk.seq == seq >> SEQ_BITS else chunk.count
                if left > 0:
                    total += left
                    oldest = chunk.ingested if oldest is None else min(oldest, chunk.ingested)
            return total, oldest

        return tuple(self._run(count()))  # type: ignore[return-value]

    async def _fetch(self, wanted: Sequence[ChunkMeta]) -> dict[int, bytes]:
        """Payloads of ``wanted`` chunks (of one group): one batched direct get from the first
        of them over their stream's or group's subjects, then the leader for the first if the
        batch left it out (a replica behind); deleted ones are left out."""
        first = wanted[0]
        one_stream = all(c.stream_id == first.stream_id for c in wanted)
        subjects = self._subject(first.group_id, first.stream_id if one_stream else ">")
        start = min(c.seq for c in wanted)
        got = await direct_batch(self._conn, self._events, subjects, start, len(wanted))
        found = {c.seq: got[c.seq] for c in wanted if c.seq in got}
        if wanted[0].seq not in found:
            found.update(await self._payloads([wanted[0].seq]))
        return found

    def _windows(
        self,
        select: Any,
        lo: int | None,
        hi: int | None,
        after: Position | None,
        before: Position | None,
        newest_first: bool,
    ) -> Iterator[list[StoredEvent]]:
        """Events of the chunks ``select(index)`` returns (of one group), inside [lo, hi] and
        the positions, in windows (see ``merge``); payloads fetched ``_PREFETCH`` at a time,
        in read order."""
        low = max(x for x in (lo, after[0] if after else None, -(1 << 62)) if x is not None)
        high = min(x for x in (hi, before[0] if before else None, 1 << 62) if x is not None)

        async def chosen() -> list[ChunkMeta]:
            await self._index.sync()
            return [c for c in select(self._index) if c.min_ts <= high and c.max_ts >= low]

        chunks = self._run(chosen())
        if newest_first:
            chunks.sort(key=lambda c: (-c.max_ts, c.seq))
        else:
            chunks.sort(key=lambda c: (c.min_ts, c.seq))
        metas = {c.seq: c for c in chunks}
        place = {c.seq: n for n, c in enumerate(chunks)}
        cache: dict[int, bytes] = {}
        ahead: dict[int, concurrent.futures.Future[dict[int, bytes]]] = {}  # by position

        def fetch(at: int) -> dict[int, bytes]:
            """The batch at position ``at``, starting the next one meanwhile (network and
            decoding overlap)."""
            future = ahead.pop(at, None) or self._conn.submit(
                self._fetch(chunks[at : at + _PREFETCH])
            )
            following = at + _PREFETCH
            if following < len(chunks) and following not in ahead:
                ahead[following] = self._conn.submit(
                    self._fetch(chunks[following : following + _PREFETCH])
                )
            return self._conn.wait(future)

        def load(ref: ChunkRef) -> list[StoredEvent]:
            if ref.seq not in cache:
                cache.update(fetch(place[ref.seq]))
            payload = cache.pop(ref.seq, None)
            if payload is None:  # deleted since the read began (retention, a delete)
                return []
            events = _decode(metas[ref.seq], payload)
            inside = (
                (lo is None or ref.min_ts >= lo)
                and (hi is None or ref.max_ts <= hi)
                and (after is None or ref.min_ts > after[0])
                and (before is None or ref.max_ts < before[0])
            )
            return events if inside else _in_range(events, lo, hi, after, before)

        return merge((ChunkRef(c.seq, c.min_ts, c.max_ts) for c in chunks), load, newest_first)

    def stream_events(
        self,
        stream_id: int,
        start: int | None,
        end: int | None,
        after: Position | None,
        before: Position | None,
        limit: int,
    ) -> list[StoredEvent]:
        return stream_page(
            lambda hi, newest_first: self._windows(
                lambda index: index.of_stream(stream_id), start, hi, after, before, newest_first
            ),
            end, after, before, limit,
        )  # fmt: skip

    def group_windows(
        self,
        group_id: int,
        stream_ids: Sequence[int] | None,
        start: int | None,
        end: int | None,
        after: Position | None,
        newest_first: bool = False,
    ) -> Iterator[list[StoredEvent]]:
        wanted = None if stream_ids is None else set(stream_ids)

        def select(index: Any) -> list[ChunkMeta]:
            chunks = index.of_group(group_id)
            return chunks if wanted is None else [c for c in chunks if c.stream_id in wanted]

        before = after if newest_first else None
        return self._windows(
            select, start, end, None if newest_first else after, before, newest_first
        )

    # -- deleting ---------------------------------------------------------------------------

    async def _mark(self, body: dict[str, Any]) -> None:
        """Publish a deletion marker (before deleting: see logs_index.py) and wait until this
        node's index applied it."""
        conn = self._conn
        ack = await conn.retrying(
            conn.js.publish, conn.subject("logs", "mark"), orjson.dumps(body),
            stream=self._events, headers={H_MARK: "1", "Nats-Msg-Id": uuid.uuid4().hex},
        )  # fmt: skip
        self._wrote(ack.seq)
        self._last_marker = ack.seq
        await self._index.wait_for(ack.seq)

    async def _purge(self, subject: str, below: int | None = None) -> None:
        await self._conn.retrying(
            self._conn.js.purge_stream, self._events, seq=below, subject=subject
        )

    async def _forget_events(
        self, groups: Sequence[int] = (), streams: Sequence[tuple[int, int]] = ()
    ) -> None:
        await self._mark({"groups": list(groups), "streams": [s for _, s in streams]})
        for group_id in groups:
            await self._purge(self._subject(group_id, ">"))
        for group_id, stream_id in streams:
            await self._purge(self._subject(group_id, stream_id))

    def expire(self, now: int) -> int:
        """Delete chunks whose newest event is past retention (AWS also expires lazily), and
        the chunks of groups and streams deleted while they were being appended."""

        async def expire() -> int:
            floor, self._marker_floor = self._marker_floor, self._last_marker
            await self._index.sync()
            synced = self._index.at
            if floor and floor < synced:  # never the stream's last message (``sync``)
                # markers from before the previous pass: every index has them by now
                await self._purge(self._conn.subject("logs", "mark"), floor + 1)
            groups = {r["id"]: r["retention_days"] for r in (await self._scan("g.*")).values()}
            deleted = 0
            for group_id in list(self._index.by_group):
                chunks = [c for c in self._index.of_group(group_id) if c.seq <= synced]
                if group_id not in groups:
                    gone = chunks  # appended while the group was being deleted
                else:
                    live = {r["id"] for r in (await self._scan(f"s.{group_id}.*")).values()}
                    days = groups[group_id]
                    cutoff = None if days is None else now - days * _DAY_MS
                    expired = [c for c in chunks if cutoff is not None and c.max_ts < cutoff]
                    deleted += sum(c.count for c in expired)
                    gone = [
                        c
                        for c in chunks
                        if (cutoff is not None and c.max_ts < cutoff) or c.stream_id not in live
                    ]
                if gone:
                    await self._delete(group_id, chunks, gone)
            for seq in [s for s in self._index.orphans if s <= synced]:
                with contextlib.suppress(NotFoundError, BadRequestError):  # another node did
                    await self._conn.retrying(self._conn.js.delete_msg, self._events, seq)
                self._index.orphans.pop(seq, None)
            return deleted

        return int(self._run(expire()))

    async def _delete(self, group_id: int, chunks: list[ChunkMeta], gone: list[ChunkMeta]) -> None:
        """Delete ``gone``, some of a group's ``chunks`` (both ascending by seq)."""
        doomed = sorted(c.seq for c in gone)
        for start in range(0, len(doomed), _MARKER_SEQS):
            await self._mark({"drop": doomed[start : start + _MARKER_SEQS]})
        prefix = 0  # how many of the group's oldest chunks all go: one purge below the next
        while prefix < min(len(chunks), len(doomed)) and chunks[prefix].seq == doomed[prefix]:
            prefix += 1
        if prefix:
            await self._purge(self._subject(group_id, ">"), doomed[prefix - 1] + 1)
        for seq in doomed[prefix:]:
            try:
                await self._conn.retrying(self._conn.js.delete_msg, self._events, seq)
            except (NotFoundError, BadRequestError):  # deleted already
                continue
