"""``TrailStore`` (CloudTrail trails and event history) on JetStream: one KV bucket.

Keys: ``t.<arn>`` (hex) a trail, with its creation seq from a cluster-wide counter (the
listing order); ``e.<seq>`` (zero-padded) one recorded event. An append reserves its seqs with
one counter increment and writes its events as atomic batches (of at most ``MAX_BATCH``, the
server's limit: a bigger append commits in several). Events never change once written, so
each store keeps the ones it has read, and a lookup fetches only keys it has not seen (the key
list comes from the stream's leader, so a lookup sees every committed append). Expiry purges
the keys' subjects, so they leave the list.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import Any

import orjson
from nats.js.errors import KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from ..trails import EventRow, TrailRow
from .atomic import MAX_BATCH, Write, allow_atomic, commit
from .connection import Connection
from .options import JetStreamOptions
from .records import id_key, load, modify, name_key, revision, scan

__all__ = ["JetStreamTrailStore"]

_BUCKET = "cloudtrail"
_TRAILS = "trails"
_EVENTS = "cloudtrail_events"


def _trail_key(arn: str) -> str:
    return f"t.{name_key(arn)}"


def _event(record: dict[str, Any]) -> EventRow:
    resources = tuple((kind, value) for kind, value in record["resources"])
    return EventRow(**{**record, "resources": resources})


def _matches(event: EventRow, attribute: tuple[str, str] | None) -> bool:
    if attribute is None:
        return True
    key, value = attribute
    if key == "ResourceType":
        return any(kind == value for kind, _ in event.resources)
    if key == "ResourceName":
        return any(name == value for _, name in event.resources)
    if key == "ReadOnly":
        return event.read_only == (value == "true")
    field = {
        "EventId": "event_id",
        "EventName": "name",
        "EventSource": "source",
        "Username": "username",
        "AccessKeyId": "access_key_id",
    }[key]
    return bool(getattr(event, field) == value)


class JetStreamTrailStore:
    """``TrailStore`` in the bucket ``<namespace>_cloudtrail``."""

    def __init__(self, options: JetStreamOptions) -> None:
        self._conn = Connection(options, "cloudtrail")
        self._seen: dict[str, tuple[EventRow, int]] = {}  # key -> (event, stream sequence)
        try:
            self._conn.run(self._conn.ensure_counters())
            self._kv: KeyValue = self._conn.run(self._conn.ensure_kv(_BUCKET))
            self._conn.run(allow_atomic(self._conn, self._kv, _BUCKET))
        except BaseException:
            self._conn.close()
            raise

    # -- trails -------------------------------------------------------------------------------

    def create_trail(self, row: TrailRow) -> bool:
        async def create() -> bool:
            key = _trail_key(row.arn)
            if await load(self._conn, _BUCKET, key) is not None:
                return False
            expect = await revision(self._conn, _BUCKET, key)
            seq = await self._conn.next_id(_TRAILS)
            record = {"seq": seq, "row": dataclasses.asdict(row)}
            try:
                await commit(self._conn, _BUCKET, [Write(key, orjson.dumps(record), expect)])
            except KeyWrongLastSequenceError:
                return False  # another node created it first
            return True

        return self._conn.run(create())

    def get_trail(self, arn: str) -> TrailRow | None:
        found = self._conn.run(load(self._conn, _BUCKET, _trail_key(arn)))
        return TrailRow(**found[0]["row"]) if found else None

    def list_trails(self) -> Sequence[TrailRow]:
        records = self._conn.run(scan(self._conn, _BUCKET, "t.*")).values()
        return [TrailRow(**r["row"]) for r in sorted(records, key=lambda r: r["seq"])]

    def put_trail(self, row: TrailRow) -> bool:
        def replace(record: dict[str, Any]) -> dict[str, Any]:
            return {**record, "row": dataclasses.asdict(row)}

        return self._conn.run(modify(self._conn, self._kv, _BUCKET, _trail_key(row.arn), replace))

    def delete_trail(self, arn: str) -> bool:
        async def delete() -> bool:
            key = _trail_key(arn)
            while True:
                found = await load(self._conn, _BUCKET, key)
                if found is None:
                    return False
                try:
                    await commit(self._conn, _BUCKET, [Write(key, None, found[1])])
                except KeyWrongLastSequenceError:
                    continue
                return True

        return self._conn.run(delete())

    # -- events -------------------------------------------------------------------------------

    def append_events(self, events: Sequence[EventRow]) -> None:
        async def append() -> None:
            if not events:
                return
            ack = await self._conn.retrying(
                self._conn.js.publish,
                self._conn.subject("counter", _EVENTS),
                b"",
                headers={"Nats-Incr": f"+{len(events)}"},
            )
            first = int(ack.val) - len(events) + 1
            writes = [
                Write(f"e.{id_key(first + n)}", orjson.dumps(dataclasses.replace(e, seq=first + n)))
                for n, e in enumerate(events)
            ]
            for start in range(0, len(writes), MAX_BATCH):
                await commit(self._conn, _BUCKET, writes[start : start + MAX_BATCH])

        self._conn.run(append())

    async def _refresh(self) -> dict[str, tuple[EventRow, int]]:
        """Every stored event by key, with its revision, reading only keys not seen before."""
        name = self._conn.name(_BUCKET)
        prefix = f"$KV.{name}."
        info = await self._conn.retrying(
            self._conn.js.stream_info, f"KV_{name}", subjects_filter=prefix + "e.*"
        )
        keys = {subject.removeprefix(prefix) for subject in info.state.subjects or {}}
        for gone in self._seen.keys() - keys:
            del self._seen[gone]
        missing = sorted(keys - self._seen.keys())
        found = await asyncio.gather(*(load(self._conn, _BUCKET, key) for key in missing))
        for key, loaded in zip(missing, found, strict=True):
            if loaded is not None:
                self._seen[key] = (_event(loaded[0]), loaded[1])
        return dict(self._seen)

    def lookup_events(
        self,
        start_ms: int,
        end_ms: int,
        attribute: tuple[str, str] | None,
        before: tuple[int, int] | None,
        limit: int,
    ) -> Sequence[EventRow]:
        stored = self._conn.run(self._refresh())
        chosen = [
            event
            for event, _ in stored.values()
            if start_ms <= event.time_ms <= end_ms
            and _matches(event, attribute)
            and (before is None or (event.time_ms, event.seq) < before)
        ]
        chosen.sort(key=lambda e: (e.time_ms, e.seq), reverse=True)
        return chosen[:limit]

    def expire_events(self, before_ms: int) -> int:
        async def expire() -> int:
            name = self._conn.name(_BUCKET)
            old = [
                key
                for key, (event, _) in (await self._refresh()).items()
                if event.time_ms < before_ms
            ]
            for key in old:  # a purge by subject leaves no marker: the key leaves the list
                await self._conn.retrying(
                    self._conn.js.purge_stream, f"KV_{name}", subject=f"$KV.{name}.{key}"
                )
                self._seen.pop(key, None)
            return len(old)

        return self._conn.run(expire())

    def close(self) -> None:
        self._conn.close()
