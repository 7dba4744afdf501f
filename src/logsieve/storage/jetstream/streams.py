"""``StreamStore`` (Kinesis-compatible streams) on JetStream.

Metadata in a KV bucket: ``n.<hex name>`` the stream (row and tags), ``i.<id>`` its name, and
the iterator signing key. Records in one stream ``<namespace>_kinesis`` with a subject per
shard, ``<namespace>.kinesis.<stream id>.<shard>``: a record's Kinesis sequence number is its
JetStream sequence (growing, never reused, kept across purges), one ``append`` is one atomic
batch, and retention is a purge per shard subject below the first record to keep.

Reads walk a shard's subject with ``next_by_subj`` message gets through the stream leader
(read-your-writes), one request per record: a batched direct get (ADR-31) is the faster path
when GetRecords throughput matters. ``append`` checks that the stream exists just before it
publishes; records a concurrent delete lets through are unreachable (ids are never reused)
and purged by the next ``expire``, as the protocol allows.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import os
import struct
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from nats.js import api
from nats.js.errors import KeyWrongLastSequenceError, NotFoundError
from nats.js.kv import KeyValue

from ..streams import NewRecord, StoredRecord, StreamRow
from .atomic import MAX_BATCH, Write, allow_atomic, commit
from .connection import Connection
from .options import JetStreamOptions
from .records import load, name_key, revision, scan

__all__ = ["JetStreamStreamStore"]

_BUCKET = "kinesis"
_HOUR_MS = 3_600_000
_HEAD = struct.Struct(">qH")  # arrival ms, partition key length


def _pack(arrival: int, record: NewRecord) -> bytes:
    key = record.partition_key.encode("utf-8")
    return _HEAD.pack(arrival, len(key)) + key + record.data


def _unpack(seq: int, shard: int, payload: bytes) -> StoredRecord:
    arrival, size = _HEAD.unpack_from(payload)
    start = _HEAD.size
    key = payload[start : start + size].decode("utf-8")
    return StoredRecord(seq, shard, arrival, key, payload[start + size :])


class JetStreamStreamStore:
    """``StreamStore`` on the bucket ``<namespace>_kinesis`` and the stream of that name."""

    def __init__(self, options: JetStreamOptions) -> None:
        self._conn = conn = Connection(options, "kinesis")
        self._records = conn.name("kinesis")
        try:
            conn.setup(conn.ensure_counters())
            self._kv: KeyValue = conn.setup(conn.ensure_kv(_BUCKET))
            conn.setup(
                conn.ensure_stream(
                    api.StreamConfig(
                        name=self._records,
                        subjects=[conn.subject("kinesis", ">")],
                        allow_atomic=True,
                    )
                )
            )
            conn.setup(allow_atomic(conn, self._kv, _BUCKET))
        except BaseException:
            conn.close()
            raise

    def _subject(self, stream_id: int, shard: int | str) -> str:
        return self._conn.subject("kinesis", stream_id, shard)

    # -- metadata ---------------------------------------------------------------------------

    def _row(self, record: dict[str, Any]) -> StreamRow:
        return StreamRow(**record["row"])

    def _by_id(self, stream_id: int) -> tuple[str, dict[str, Any], int] | None:
        """(name key, record, revision) of the live stream with this id."""
        found = self._conn.run(load(self._conn, _BUCKET, f"i.{stream_id}"))
        if found is None:
            return None
        key = found[0]["name"]
        record = self._conn.run(load(self._conn, _BUCKET, key))
        if record is None or record[0]["row"]["id"] != stream_id:
            return None
        return key, record[0], record[1]

    def create_stream(
        self,
        name: str,
        shard_count: int,
        mode: str,
        now: int,
        retention_hours: int,
        max_record_kib: int,
        tags: Mapping[str, str],
    ) -> StreamRow | None:
        key = f"n.{name_key(name)}"
        if self._conn.run(load(self._conn, _BUCKET, key)) is not None:
            return None
        expect = self._conn.run(revision(self._conn, _BUCKET, key))
        stream_id = self._conn.run(self._conn.next_id(_BUCKET))
        row = StreamRow(
            stream_id, name, shard_count, mode, "ACTIVE", now, retention_hours, max_record_kib
        )
        record = {"row": dataclasses.asdict(row), "tags": dict(tags)}
        try:
            self._commit(
                Write(key, orjson.dumps(record), expect),
                Write(f"i.{stream_id}", orjson.dumps({"name": key}), 0),
            )
        except KeyWrongLastSequenceError:
            return None  # another node created it first
        return row

    def _commit(self, *writes: Write) -> None:
        self._conn.run(commit(self._conn, _BUCKET, writes))

    def delete_stream(self, stream_id: int) -> bool:
        while True:
            found = self._by_id(stream_id)
            if found is None:
                return False  # of concurrent deletes exactly one finds it
            key, _, rev = found
            try:
                self._commit(Write(key, None, rev), Write(f"i.{stream_id}", None))
            except KeyWrongLastSequenceError:
                continue  # changed or deleted meanwhile: look again
            return True

    def stream(self, name: str) -> StreamRow | None:
        found = self._conn.run(load(self._conn, _BUCKET, f"n.{name_key(name)}"))
        return self._row(found[0]) if found else None

    def _all(self) -> list[StreamRow]:
        found = self._conn.run(scan(self._conn, _BUCKET, "n.>"))
        return [self._row(record) for record in found.values()]  # hex keys: name order

    def streams(self, after: str | None, limit: int) -> list[StreamRow]:
        rows = [row for row in self._all() if after is None or row.name > after]
        return rows[:limit]

    def total_shards(self) -> int:
        return sum(row.shard_count for row in self._all())

    def _change(self, stream_id: int, change: Any) -> None:
        while True:
            found = self._by_id(stream_id)
            if found is None:
                return
            key, record, rev = found
            try:
                self._commit(Write(key, orjson.dumps(change(record)), rev))
                return
            except KeyWrongLastSequenceError:
                continue

    def set_retention(self, stream_id: int, hours: int) -> None:
        self._change(stream_id, lambda r: {**r, "row": {**r["row"], "retention_hours": hours}})

    def tags(self, stream_id: int) -> dict[str, str]:
        found = self._by_id(stream_id)
        return dict(found[1]["tags"]) if found else {}

    def set_tags(self, stream_id: int, tags: Mapping[str, str]) -> None:
        self._change(stream_id, lambda r: {**r, "tags": {**r["tags"], **tags}})

    def remove_tags(self, stream_id: int, keys: Sequence[str]) -> None:
        self._change(
            stream_id,
            lambda r: {**r, "tags": {k: v for k, v in r["tags"].items() if k not in keys}},
        )

    def signing_key(self) -> bytes:
        found = self._conn.run(load(self._conn, _BUCKET, "signing_key"))
        if found is None:
            fresh = {"key": base64.b64encode(os.urandom(32)).decode("ascii")}
            with contextlib.suppress(KeyWrongLastSequenceError):  # another node made one
                self._commit(Write("signing_key", orjson.dumps(fresh), 0))
            found = self._conn.run(load(self._conn, _BUCKET, "signing_key"))
        if found is None:
            raise RuntimeError("the Kinesis signing key vanished from the cluster")
        return base64.b64decode(found[0]["key"])

    # -- records ----------------------------------------------------------------------------

    def append(self, stream_id: int, records: Sequence[NewRecord], now: int) -> list[int] | None:
        if self._by_id(stream_id) is None:
            return None
        if not records:
            return []
        if len(records) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} records per append")
        last = self._conn.run(self._publish(stream_id, records, now))
        return list(range(last - len(records) + 1, last + 1))

    async def _publish(self, stream_id: int, records: Sequence[NewRecord], now: int) -> int:
        """One atomic batch on the records stream; the last record's sequence."""
        conn, batch = self._conn, os.urandom(16).hex()
        reply: Any = None
        for number, record in enumerate(records, start=1):
            headers = {"Nats-Batch-Id": batch, "Nats-Batch-Sequence": str(number)}
            subject, payload = self._subject(stream_id, record.shard), _pack(now, record)
            if number == len(records):
                headers["Nats-Batch-Commit"] = "1"
            if number == 1 or number == len(records):
                reply = await conn.retrying(
                    conn.nc.request, subject, payload,
                    timeout=conn.options.timeout_seconds, headers=headers,
                )  # fmt: skip
            else:
                await conn.nc.publish(subject, payload, headers=headers)
        answer = orjson.loads(reply.data)
        if "error" in answer:
            raise RuntimeError(f"appending to Kinesis stream {stream_id}: {answer['error']}")
        return int(answer["seq"])

    async def _next(self, subject: str, seq: int) -> tuple[int, bytes] | None:
        try:
            msg = await self._conn.retrying(
                self._conn.js.get_msg, self._records, seq=max(seq, 1), subject=subject, next=True
            )
        except NotFoundError:
            return None
        return msg.seq or 0, msg.data or b""

    def read(
        self,
        stream_id: int,
        shard: int,
        start: int,
        not_before: int,
        limit: int,
        max_bytes: int,
    ) -> list[StoredRecord]:
        async def walk() -> list[StoredRecord]:
            subject, seq, size = self._subject(stream_id, shard), start, 0
            found: list[StoredRecord] = []
            while len(found) < limit:
                got = await self._next(subject, seq)
                if got is None:
                    break
                record = _unpack(got[0], shard, got[1])
                seq = record.seq + 1
                if record.arrival_ms < not_before:
                    continue
                size += len(record.data) + len(record.partition_key.encode("utf-8"))
                if found and size > max_bytes:
                    break
                found.append(record)
            return found

        return self._conn.run(walk())

    def first(self, stream_id: int, shard: int, start: int, not_before: int) -> StoredRecord | None:
        found = self.read(stream_id, shard, start, not_before, 1, 1 << 62)
        return found[0] if found else None

    def first_arrived(self, stream_id: int, shard: int, at: int) -> StoredRecord | None:
        return self.first(stream_id, shard, 0, at)

    def last_seq(self, stream_id: int, shard: int) -> int:
        try:
            msg = self._conn.run(
                self._conn.retrying(
                    self._conn.js.get_last_msg, self._records, self._subject(stream_id, shard)
                )
            )
        except NotFoundError:
            return 0
        return msg.seq or 0

    def expire(self, now: int) -> int:
        live = {row.id: row for row in self._all()}
        info = self._conn.run(
            self._conn.retrying(
                self._conn.js.stream_info,
                self._records,
                subjects_filter=self._conn.subject("kinesis", "*", "*"),
            )
        )
        deleted = 0
        for subject, count in (info.state.subjects or {}).items():
            stream_id, shard = map(int, subject.rsplit(".", 2)[1:])
            row = live.get(stream_id)
            if row is None:
                self._conn.run(self._purge(subject, None))
                deleted += count
                continue
            cutoff = now - row.retention_hours * _HOUR_MS
            keep = self.first_arrived(stream_id, shard, cutoff)
            if keep is None:
                self._conn.run(self._purge(subject, None))
                deleted += count
            else:
                before = len(self.read(stream_id, shard, 0, 0, count, 1 << 62))
                self._conn.run(self._purge(subject, keep.seq))
                deleted += before - len(self.read(stream_id, shard, 0, 0, count, 1 << 62))
        return deleted

    async def _purge(self, subject: str, below: int | None) -> None:
        await self._conn.retrying(
            self._conn.js.purge_stream, self._records, seq=below, subject=subject
        )

    def close(self) -> None:
        self._conn.close()
