"""``LogsMetadata`` on JetStream: log groups, streams and tags in the logs KV bucket.

Keys (names hex-encoded, scaleout-console.md §3.3): ``g.<name>`` a group (its settings and
tags), ``gi.<id>`` the group's key by id; ``s.<group id>.<name>`` a stream, ``si.<id>`` the
stream's group and key. Ids come from cluster-wide counters, so they are never handed out
again. A write naming a group commits in one atomic batch with a rewrite of the group's record
conditional on its revision, so a concurrent delete makes it fail (``Deleted``) instead of
leaving a stream under a deleted group. Streams' event figures (first and last event time,
stored bytes) come from the chunk index (logs_index.py), not from KV.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from nats.js.errors import KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from ..protocols import Deleted
from ..records import LogGroup, LogStream
from .atomic import MAX_BATCH, Write, commit
from .connection import Connection
from .logs_index import ChunkIndex
from .logs_lookups import Lookups
from .logs_partitions import Partition
from .records import load, name_key, revision, scan

__all__ = ["BUCKET", "GroupFound", "LogsKv", "group_key", "stream_key"]

BUCKET = "logs"
GroupFound = tuple[str, dict[str, Any], int]  # key, record, revision


def group_key(name: str) -> str:
    return f"g.{name_key(name)}"


def stream_key(group_id: int, name: str) -> str:
    return f"s.{group_id}.{name_key(name)}"


class LogsKv:
    """What every part of the logs store shares: the connection, the bucket, the index."""

    _conn: Connection
    _kv: KeyValue
    _parts: list[Partition]  # the event log's partitions (logs_partitions.py)
    _lookups: Lookups

    def _part(self, group_id: int) -> Partition:
        """The partition holding the group's events."""
        return self._parts[group_id % len(self._parts)]

    def _index_of(self, group_id: int) -> ChunkIndex:
        return self._part(group_id).index

    def _caught_up(self) -> bool:
        """Whether every partition's index holds what this node appended to it."""
        return all(part.index.at >= part.written for part in self._parts)

    def _run(self, coro: Any) -> Any:
        return self._conn.run(coro)

    async def _load(self, key: str) -> tuple[dict[str, Any], int] | None:
        return await load(self._conn, BUCKET, key)

    async def _scan(self, pattern: str) -> dict[str, dict[str, Any]]:
        return await scan(self._conn, BUCKET, pattern)

    async def _keys(self, pattern: str) -> list[str]:
        """The keys matching ``pattern`` with any message (deleted ones too), unread."""
        prefix = f"$KV.{self._conn.name(BUCKET)}."
        info = await self._conn.retrying(
            self._conn.js.stream_info, f"KV_{self._conn.name(BUCKET)}",
            subjects_filter=prefix + pattern,
        )  # fmt: skip
        return sorted(s.removeprefix(prefix) for s in info.state.subjects or {})

    async def _commit(self, writes: Sequence[Write]) -> None:
        await commit(self._conn, BUCKET, writes)

    async def _erase(self, keys: Sequence[str]) -> None:
        """Delete ``keys`` (no condition), a batch at a time."""
        for start in range(0, len(keys), MAX_BATCH):
            await self._commit([Write(k, None) for k in keys[start : start + MAX_BATCH]])

    async def _group_by_id(self, group_id: int) -> GroupFound | None:
        ref = await self._load(f"gi.{group_id}")
        if ref is None:
            return None
        found = await self._load(ref[0]["key"])
        if found is None or found[0]["id"] != group_id:
            return None
        return ref[0]["key"], found[0], found[1]

    async def _live_group(self, group_id: int) -> GroupFound:
        found = await self._group_by_id(group_id)
        if found is None:
            raise Deleted("group")
        return found

    async def _guarded(self, group_id: int, *writes: Write) -> None:
        """Commit ``writes`` together with a check that the group still exists (a rewrite of
        its record conditional on its revision), again after a concurrent change to it;
        ``Deleted`` once it is gone. A failed condition of ``writes`` themselves raises
        ``KeyWrongLastSequenceError`` when the group is unchanged."""
        while True:
            key, record, rev = await self._live_group(group_id)
            try:
                await self._commit([Write(key, orjson.dumps(record), rev), *writes])
                return
            except KeyWrongLastSequenceError:
                if (await self._live_group(group_id))[2] == rev:
                    raise  # the group did not change: one of ``writes`` lost a race
                continue

    def _group(self, record: dict[str, Any]) -> LogGroup:
        stored = self._index_of(record["id"]).group_bytes.get(record["id"], 0)
        return LogGroup(
            record["id"], record["name"], record["creation_time"], record["retention_days"],
            stored, record["kms_key_id"], record["class"],
        )  # fmt: skip

    def _stream(self, group_id: int, record: dict[str, Any]) -> LogStream:
        stats = self._index_of(group_id).stats
        first, last, ingested, stored = stats.get(record["id"], (None,) * 3 + (0,))
        return LogStream(
            record["id"], group_id, record["name"], record["creation_time"], first, last,
            ingested, stored or 0,
        )  # fmt: skip

    # Implemented by the other parts (logs_events.py, logs_filters.py):

    async def _end_of_log(self, group_id: int | None = None) -> int:
        raise NotImplementedError

    async def _forget_events(
        self, groups: Sequence[int] = (), streams: Sequence[tuple[int, int]] = ()
    ) -> None:
        raise NotImplementedError

    async def _forget_consumers(self, group_id: int) -> None:
        raise NotImplementedError

    async def _own_writes(self) -> None:
        """Until the index has what this store appended (figures read after a put)."""
        for part in self._parts:
            await part.index.wait_for(part.written)


class MetadataPart(LogsKv):
    """``LogsMetadata``."""

    # -- groups -----------------------------------------------------------------------------

    def create_group(
        self, name: str, now: int, kms_key_id: str | None, log_group_class: str
    ) -> LogGroup | None:
        async def create() -> LogGroup | None:
            key = group_key(name)
            expect = await revision(self._conn, BUCKET, key)
            if await self._load(key) is not None:
                return None
            group_id = await self._conn.next_id("log_groups")
            record = {
                "id": group_id, "name": name, "creation_time": now, "retention_days": None,
                "kms_key_id": kms_key_id, "class": log_group_class, "tags": {},
            }  # fmt: skip
            try:
                await self._commit(
                    [
                        Write(key, orjson.dumps(record), expect),
                        Write(f"gi.{group_id}", orjson.dumps({"key": key}), 0),
                    ]
                )
            except KeyWrongLastSequenceError:
                return None  # another node created it first
            return LogGroup(group_id, name, now, None, 0, kms_key_id, log_group_class)

        return self._run(create())

    def delete_group(self, group_id: int) -> None:
        async def delete() -> None:
            while True:
                key, _, rev = await self._live_group(group_id)
                try:
                    await self._commit([Write(key, None, rev), Write(f"gi.{group_id}", None)])
                    break
                except KeyWrongLastSequenceError:
                    continue  # changed or deleted meanwhile: look again
            # The group is gone (the linearization point); what was filed under it follows.
            await self._forget_events(groups=[group_id])
            streams = await self._scan(f"s.{group_id}.*")
            owned = [*streams, *(f"si.{r['id']}" for r in streams.values())]
            owned += list(await self._scan(f"m.{group_id}.*"))
            owned += list(await self._scan(f"f.{group_id}.*"))
            await self._erase(owned)
            await self._forget_consumers(group_id)

        self._run(delete())

    def group(self, name: str) -> LogGroup | None:
        known = self._lookups.group(name)
        if known is not None and self._caught_up():
            return self._group(known)  # no KV read, no hop to the connection's loop

        async def get() -> LogGroup | None:
            record = known
            if record is None:
                found = await self._load(group_key(name))
                if found is None:
                    return None
                record = found[0]
                self._lookups.keep_group(record)
            await self._own_writes()
            return self._group(record)

        return self._run(get())

    def groups(
        self,
        prefix: str | None,
        contains: str | None,
        log_group_class: str | None,
        after: str | None,
        limit: int,
    ) -> list[LogGroup]:
        async def listed() -> list[LogGroup]:
            records = (await self._scan("g.*")).values()  # hex keys: name (byte) order
            await self._own_writes()
            return [self._group(r) for r in records]

        found = []
        for group in self._run(listed()):
            if (
                (not prefix or group.name.startswith(prefix))
                and (not contains or contains in group.name)
                and (not log_group_class or group.log_group_class == log_group_class)
                and (after is None or group.name.encode() > after.encode())
            ):
                found.append(group)
                if len(found) == limit:
                    break
        return found

    def count_groups(self) -> int:
        return len(self._run(self._scan("g.*")))

    def _change_group(self, group_id: int, change: Any) -> None:
        async def apply() -> None:
            while True:
                key, record, rev = await self._live_group(group_id)
                try:
                    await self._commit([Write(key, orjson.dumps(change(record)), rev)])
                    self._lookups.forget_group(record["name"])
                    return
                except KeyWrongLastSequenceError:
                    continue

        self._run(apply())

    def set_retention(self, group_id: int, days: int | None) -> None:
        self._change_group(group_id, lambda r: {**r, "retention_days": days})

    # -- streams ----------------------------------------------------------------------------

    def create_stream(self, group_id: int, name: str, now: int) -> LogStream | None:
        async def create() -> LogStream | None:
            key = stream_key(group_id, name)
            while True:
                expect = await revision(self._conn, BUCKET, key)
                if await self._load(key) is not None:
                    await self._live_group(group_id)
                    return None
                stream_id = await self._conn.next_id("log_streams")
                record = {"id": stream_id, "name": name, "creation_time": now}
                ref = {"group": group_id, "key": key}
                try:
                    await self._guarded(
                        group_id,
                        Write(key, orjson.dumps(record), expect),
                        Write(f"si.{stream_id}", orjson.dumps(ref), 0),
                    )
                except KeyWrongLastSequenceError:
                    continue  # created (or deleted) concurrently: look again
                return LogStream(stream_id, group_id, name, now, None, None, None, 0)

        return self._run(create())

    async def _stream_by_id(self, stream_id: int) -> tuple[int, str, int] | None:
        """(group id, key, revision) of the live stream with this id."""
        ref = await self._load(f"si.{stream_id}")
        if ref is None:
            return None
        found = await self._load(ref[0]["key"])
        if found is None or found[0]["id"] != stream_id:
            return None
        return ref[0]["group"], ref[0]["key"], found[1]

    def delete_stream(self, stream_id: int) -> None:
        async def delete() -> None:
            while True:
                found = await self._stream_by_id(stream_id)
                if found is None:
                    raise Deleted("stream")  # a concurrent delete won
                group_id, key, rev = found
                try:
                    await self._commit([Write(key, None, rev), Write(f"si.{stream_id}", None)])
                    break
                except KeyWrongLastSequenceError:
                    continue
            await self._forget_events(streams=[(group_id, stream_id)])

        self._run(delete())

    def stream(self, group_id: int, name: str) -> LogStream | None:
        known = self._lookups.stream(group_id, name)
        if known is not None and self._caught_up():
            return self._stream(group_id, known)

        async def get() -> LogStream | None:
            record = known
            if record is None:
                found = await self._load(stream_key(group_id, name))
                if found is None:
                    return None
                record = found[0]
                self._lookups.keep_stream(group_id, record)
            await self._own_writes()
            return self._stream(group_id, record)

        return self._run(get())

    async def _streams(self, group_id: int) -> list[LogStream]:
        records = (await self._scan(f"s.{group_id}.*")).values()
        await self._own_writes()
        return [self._stream(group_id, r) for r in records]

    def streams(
        self,
        group_id: int,
        prefix: str | None,
        by_last_event: bool,
        descending: bool,
        after: tuple[Any, ...] | None,
        limit: int,
    ) -> list[LogStream]:
        """Streams ordered by name, or by (last event timestamp, id) when ``by_last_event``;
        ``after`` is the sort key of the last stream of the previous page."""
        every = self._run(self._streams(group_id))

        def sort_key(s: LogStream) -> tuple[Any, ...]:
            if by_last_event:
                return (s.last_event_timestamp or 0, s.id)
            return (s.name.encode(),)

        chosen = [s for s in every if not prefix or s.name.startswith(prefix)]
        if after is not None:
            bound = tuple(a.encode() if isinstance(a, str) else a for a in after)
            chosen = [
                s for s in chosen if (sort_key(s) < bound if descending else sort_key(s) > bound)
            ]
        chosen.sort(key=sort_key, reverse=descending)
        return chosen[:limit] if limit >= 0 else chosen

    def stream_ids(
        self, group_id: int, names: Sequence[str] | None, prefix: str | None
    ) -> dict[int, str]:
        async def ids() -> dict[int, str]:
            if names is None:
                records = list((await self._scan(f"s.{group_id}.*")).values())
            else:
                loaded = [await self._load(stream_key(group_id, n)) for n in names]
                records = [found[0] for found in loaded if found is not None]
            return {
                r["id"]: r["name"] for r in records if not prefix or r["name"].startswith(prefix)
            }

        return self._run(ids())

    # -- tags -------------------------------------------------------------------------------

    def tags(self, group_id: int) -> dict[str, str]:
        found = self._run(self._group_by_id(group_id))
        return dict(found[1]["tags"]) if found else {}

    def set_tags(self, group_id: int, tags: dict[str, str]) -> None:
        self._change_group(group_id, lambda r: {**r, "tags": {**r["tags"], **tags}})

    def remove_tags(self, group_id: int, keys: Sequence[str]) -> None:
        gone = set(keys)
        self._change_group(
            group_id, lambda r: {**r, "tags": {k: v for k, v in r["tags"].items() if k not in gone}}
        )
