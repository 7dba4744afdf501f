"""``EventLog`` on JetStream: the events streams, one per partition (logs_partitions.py).

One message per appended chunk (one PutLogEvents batch), on the subject
``<ns>.<root>.e.<partition>.<group id>.<stream id>`` of the group's partition (integer ids
only: names may hold any character), its payload SQLite's chunk payload (orjson
``{"t": [...], "m": [...]}``), its headers the chunk's bounds (``Min-Ts``, ``Max-Ts``,
``Count``, ``Bytes``, ``Ingested``) and a ``Nats-Msg-Id`` so a publish the client retries is
stored once. An event's seq is ``partition << 57 | message seq << 14 | index``: partition 0's
seqs are SQLite's layout, so event ids, tokens and the merge are unchanged.

Reads choose their chunks from every node's index of the group's partition (logs_index.py)
once it has caught up with that stream's leader, then fetch those payloads, many at a time.
A cursor is a seq inside its group's partition; read without a group, the log is in seq
order (partition by partition), which a cursor can follow only within one partition.

Retention deletes by event time (a chunk goes once its newest event is past its group's
retention, as on SQLite), announced by a marker in the partition first (logs_index.py); a
contiguous run of a group's oldest chunks goes with one purge of the group's subjects, the
rest one by one. Source positions: logs_positions.py.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import logging
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
from nats.errors import TimeoutError as NatsTimeout
from nats.js.errors import BadRequestError, NotFoundError

from ..merge import ChunkRef, merge, stream_page
from ..protocols import Deleted, Position
from ..records import StoredEvent
from ..sqlite import _check_chunk, _in_range
from .direct import direct_batch
from .logs_index import H_BYTES, H_COUNT, H_INGESTED, H_MARK, H_MAX, H_MIN, ChunkIndex, ChunkMeta
from .logs_metadata import LogsKv
from .logs_partitions import Partition, join, split

__all__ = ["EventsPart"]

log = logging.getLogger(__name__)
_DAY_MS = 86_400_000
_KNOWN_FOR = 60.0  # seconds a stream found in KV is taken to exist (unless a marker says not)
_PREFETCH = 64  # chunk payloads fetched at once by a read
_MARKER_SEQS = 100_000  # chunk seqs per marker message (under 1 MB of JSON)
Message = tuple[str, bytes, dict[str, str]]


def _decode(part: int, chunk: ChunkMeta, payload: bytes) -> list[StoredEvent]:
    columns = orjson.loads(payload)  # {"t": [timestamps], "m": [messages]}
    count = len(columns["t"])
    base = join(part, chunk.seq)
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


def _start(part: int, seq: int) -> int | None:
    """The last chunk seq of partition ``part`` wholly at or before cursor ``seq`` minus one
    (the chunk holding ``seq`` is read again): -1 when the cursor is in an earlier partition
    (read from its start), None when in a later one (nothing after it)."""
    cursor_part, msg, _ = split(seq)
    if cursor_part < part:
        return -1
    if cursor_part > part:
        return None
    return msg - 1


class EventsPart(LogsKv):
    """``EventLog`` (but the cursors, in logs_filters.py)."""

    _known_streams: dict[int, tuple[int, float]]  # stream id -> (group id, known until)

    def _subject(self, group_id: int, stream_id: int | str) -> str:
        part = self._part(group_id)
        return self._conn.subject(part.root, "e", part.number, group_id, stream_id)

    def _message(
        self, group_id: int, stream_id: int, timestamps: Sequence[int], messages: Sequence[str],
        size: int, now: int,
    ) -> Message:  # fmt: skip
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
        index, now = self._part(group_id).index, time.monotonic()
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
        part = self._part(group_id)

        async def put() -> int:
            await self._check_stream(group_id, stream_id)
            conn = self._conn
            ack = await conn.retrying(
                conn.js.publish, subject, payload, stream=part.stream, headers=headers
            )
            part.wrote(ack.seq)
            await part.index.wait_past(ack.seq)
            self._check_not_deleted(group_id, stream_id)  # by a marker before this chunk
            return join(part.number, int(ack.seq))

        return int(self._run(put()))

    def _check_not_deleted(self, group_id: int, stream_id: int) -> None:
        """``Deleted`` if a deletion marker this node applied names the group or stream: a
        chunk published after it is never read, so its append must not be acknowledged.
        The lookups PutLogEvents makes before appending are cached (logs_lookups.py), so
        this is what refuses a put made after a delete on another node returned."""
        index = self._part(group_id).index
        if group_id in index.deleted_groups:
            raise Deleted("group")
        if stream_id in index.deleted_streams:
            raise Deleted("stream")

    # -- reading ----------------------------------------------------------------------------

    async def _end_of_log(self, group_id: int | None = None) -> int:
        """The end of the group's partition now (without a group: of the last partition,
        which no seq of an earlier one exceeds)."""
        part = self._parts[-1] if group_id is None else self._part(group_id)
        info = await self._conn.retrying(self._conn.js.stream_info, part.stream)
        last = info.state.last_seq or 0
        return join(part.number, last + 1) - 1 if last else join(part.number, 0)

    def last_seq(self, group_id: int | None = None) -> int:
        return int(self._run(self._end_of_log(group_id)))

    async def _payloads(self, part: Partition, seqs: Sequence[int]) -> dict[int, bytes]:
        """The payloads of these chunks, from the stream's leader (deleted ones left out)."""

        async def one(seq: int) -> bytes | None:
            try:
                msg = await self._conn.retrying(self._conn.js.get_msg, part.stream, seq)
            except NotFoundError:
                return None
            return msg.data or b""

        found = await asyncio.gather(*map(one, seqs))
        return {seq: data for seq, data in zip(seqs, found, strict=True) if data is not None}

    async def _read_part(
        self, part: Partition, seq: int, limit: int, group_id: int | None
    ) -> list[StoredEvent]:
        start = _start(part.number, seq)
        if start is None:
            return []
        await part.index.sync()
        index = part.index
        chosen = index.after(start) if group_id is None else index.of_group(group_id, start)
        wanted, total = [], 0
        skip = split(seq)[2] if split(seq)[0] == part.number else 0
        for chunk in chosen:
            wanted.append(chunk)
            total += chunk.count
            if total >= limit + skip + 1:
                break
        payloads = await self._payloads(part, [c.seq for c in wanted])
        found: list[StoredEvent] = []
        for chunk in wanted:
            if chunk.seq in payloads:
                found.extend(
                    e for e in _decode(part.number, chunk, payloads[chunk.seq]) if e[1] > seq
                )
        return found[:limit]

    def read_after(self, seq: int, limit: int, group_id: int | None = None) -> list[StoredEvent]:
        async def read() -> list[StoredEvent]:
            if group_id is not None:
                return await self._read_part(self._part(group_id), seq, limit, group_id)
            found: list[StoredEvent] = []
            for part in self._parts:
                found += await self._read_part(part, seq, limit - len(found), None)
                if len(found) >= limit:
                    break
            return found

        return list(self._run(read()))

    def backlog(self, group_id: int, seq: int) -> tuple[int, int | None]:
        """A group's events after ``seq``: how many, and the oldest one's ingestion time."""
        part = self._part(group_id)

        async def count() -> tuple[int, int | None]:
            start = _start(part.number, seq)
            if start is None:
                return 0, None
            await part.index.sync()
            chunks = part.index.of_group(group_id, start)
            cursor_part, msg, index = split(seq)
            total, oldest = 0, None
            for chunk in chunks:
                mine = cursor_part == part.number and chunk.seq == msg
                left = chunk.count - 1 - index if mine else chunk.count
                if left > 0:
                    total += left
                    oldest = chunk.ingested if oldest is None else min(oldest, chunk.ingested)
            return total, oldest

        return tuple(self._run(count()))  # type: ignore[return-value]

    async def _fetch(self, part: Partition, wanted: Sequence[ChunkMeta]) -> dict[int, bytes]:
        """Payloads of ``wanted`` chunks (of one group): one batched direct get from the first
        of them over their stream's or group's subjects, then the leader for the first if the
        batch left it out (a replica behind); deleted ones are left out. A direct get nobody
        answers in time (a replica catching up stays silent) gets them all from the leader."""
        first = wanted[0]
        one_stream = all(c.stream_id == first.stream_id for c in wanted)
        subjects = self._subject(first.group_id, first.stream_id if one_stream else ">")
        start = min(c.seq for c in wanted)
        try:
            got = await direct_batch(self._conn, part.stream, subjects, start, len(wanted))
        except (NatsTimeout, TimeoutError):
            log.warning("event=direct_get_timeout stream=%s: read from its leader", part.stream)
            return await self._payloads(part, [c.seq for c in wanted])
        found = {c.seq: got[c.seq] for c in wanted if c.seq in got}
        if wanted[0].seq not in found:
            found.update(await self._payloads(part, [wanted[0].seq]))
        return found

    async def _stream_part(self, stream_id: int) -> Partition | None:
        """The partition holding a log stream's chunks (None: no chunk anywhere yet): the
        index that knows the stream, else every one once synced."""
        for part in self._parts:
            if stream_id in part.index.by_stream:
                await part.index.sync()
                return part
        await asyncio.gather(*(part.index.sync() for part in self._parts))
        return next((p for p in self._parts if stream_id in p.index.by_stream), None)

    def _windows(
        self,
        locate: Any,
        select: Any,
        lo: int | None,
        hi: int | None,
        after: Position | None,
        before: Position | None,
        newest_first: bool,
    ) -> Iterator[list[StoredEvent]]:
        """Events of the chunks ``select(index)`` returns (of one group, in the partition
        ``await locate()`` names), inside [lo, hi] and the positions, in windows (see
        ``merge``); payloads fetched ``_PREFETCH`` at a time, in read order."""
        low = max(x for x in (lo, after[0] if after else None, -(1 << 62)) if x is not None)
        high = min(x for x in (hi, before[0] if before else None, 1 << 62) if x is not None)

        async def chosen() -> tuple[Partition | None, list[ChunkMeta]]:
            part = await locate()
            if part is None:
                return None, []
            await part.index.sync()
            found = [c for c in select(part.index) if c.min_ts <= high and c.max_ts >= low]
            return part, found

        part, chunks = self._run(chosen())  # no partition: no chunks, nothing fetched
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
                self._fetch(part, chunks[at : at + _PREFETCH])
            )
            following = at + _PREFETCH
            if following < len(chunks) and following not in ahead:
                ahead[following] = self._conn.submit(
                    self._fetch(part, chunks[following : following + _PREFETCH])
                )
            return self._conn.wait(future)

        def load(ref: ChunkRef) -> list[StoredEvent]:
            if ref.seq not in cache:
                cache.update(fetch(place[ref.seq]))
            payload = cache.pop(ref.seq, None)
            if payload is None:  # deleted since the read began (retention, a delete)
                return []
            events = _decode(part.number, metas[ref.seq], payload)  # type: ignore[union-attr]
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
        def locate() -> Any:
            return self._stream_part(stream_id)

        return stream_page(
            lambda hi, newest_first: self._windows(
                locate, lambda index: index.of_stream(stream_id), start, hi, after, before,
                newest_first,
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

        async def locate() -> Partition:
            return self._part(group_id)

        def select(index: ChunkIndex) -> list[ChunkMeta]:
            chunks = index.of_group(group_id)
            return chunks if wanted is None else [c for c in chunks if c.stream_id in wanted]

        before = after if newest_first else None
        return self._windows(
            locate, select, start, end, None if newest_first else after, before, newest_first
        )

    # -- deleting ---------------------------------------------------------------------------

    async def _mark(self, part: Partition, body: dict[str, Any]) -> None:
        """Publish a deletion marker in the partition (before deleting: see logs_index.py)
        and wait until this node's index of it applied it."""
        conn = self._conn
        ack = await conn.retrying(
            conn.js.publish, conn.subject(part.root, "mark"), orjson.dumps(body),
            stream=part.stream, headers={H_MARK: "1", "Nats-Msg-Id": uuid.uuid4().hex},
        )  # fmt: skip
        part.wrote(ack.seq)
        part.last_marker = ack.seq
        await part.index.wait_for(ack.seq)

    async def _purge(self, part: Partition, subject: str, below: int | None = None) -> None:
        await self._conn.retrying(
            self._conn.js.purge_stream, part.stream, seq=below, subject=subject
        )

    async def _drop(self, part: Partition, seqs: Sequence[int]) -> None:
        """Delete these chunks of the partition: a marker first, then one by one."""
        if not seqs:
            return
        await self._mark(part, {"drop": list(seqs)})
        for seq in seqs:
            with contextlib.suppress(NotFoundError, BadRequestError):  # deleted already
                await self._conn.retrying(self._conn.js.delete_msg, part.stream, seq)

    async def _forget_events(
        self, groups: Sequence[int] = (), streams: Sequence[tuple[int, int]] = ()
    ) -> None:
        for group_id in groups:
            part = self._part(group_id)
            await self._mark(part, {"groups": [group_id], "streams": []})
            await self._purge(part, self._subject(group_id, ">"))
        for group_id, stream_id in streams:
            part = self._part(group_id)
            await self._mark(part, {"groups": [], "streams": [stream_id]})
            await self._purge(part, self._subject(group_id, stream_id))

    def expire(self, now: int) -> int:
        """Delete chunks whose newest event is past retention (AWS also expires lazily), and
        the chunks of groups and streams deleted while they were being appended."""

        async def expire() -> int:
            groups = {r["id"]: r["retention_days"] for r in (await self._scan("g.*")).values()}
            deleted = 0
            for part in self._parts:
                deleted += await self._expire_part(part, groups, now)
            return deleted

        return int(self._run(expire()))

    async def _expire_part(self, part: Partition, groups: dict[int, int | None], now: int) -> int:
        floor, part.marker_floor = part.marker_floor, part.last_marker
        index = part.index
        await index.sync()
        synced = index.at
        if floor and floor < synced:  # never the stream's last message (``sync``)
            # markers from before the previous pass: every index has them by now
            await self._purge(part, self._conn.subject(part.root, "mark"), floor + 1)
        deleted = 0
        for group_id in list(index.by_group):
            chunks = [c for c in index.of_group(group_id) if c.seq <= synced]
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
                await self._delete(part, group_id, chunks, gone)
        for seq in [s for s in index.orphans if s <= synced]:
            with contextlib.suppress(NotFoundError, BadRequestError):  # another node did
                await self._conn.retrying(self._conn.js.delete_msg, part.stream, seq)
            index.orphans.pop(seq, None)
        return deleted

    async def _delete(
        self, part: Partition, group_id: int, chunks: list[ChunkMeta], gone: list[ChunkMeta]
    ) -> None:
        """Delete ``gone``, some of a group's ``chunks`` (both ascending by seq)."""
        doomed = sorted(c.seq for c in gone)
        for start in range(0, len(doomed), _MARKER_SEQS):
            await self._mark(part, {"drop": doomed[start : start + _MARKER_SEQS]})
        prefix = 0  # how many of the group's oldest chunks all go: one purge below the next
        while prefix < min(len(chunks), len(doomed)) and chunks[prefix].seq == doomed[prefix]:
            prefix += 1
        if prefix:
            await self._purge(part, self._subject(group_id, ">"), doomed[prefix - 1] + 1)
        for seq in doomed[prefix:]:
            try:
                await self._conn.retrying(self._conn.js.delete_msg, part.stream, seq)
            except (NotFoundError, BadRequestError):  # deleted already
                continue
