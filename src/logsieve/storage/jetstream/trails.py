"""``TrailStore`` (CloudTrail trails and event history) on JetStream: one KV bucket.

Keys: ``t.<arn>`` (hex) a trail, with its creation seq from a cluster-wide counter (the
listing order); ``e.<seq>`` (zero-padded) one recorded event. An append reserves its seqs with
one counter increment and writes its events as atomic batches (of at most ``MAX_BATCH``, the
server's limit: a bigger append commits in several). Events are read and expired through
``written_once.WrittenOnce`` (a cache of what this store has read; expiry purges).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import orjson
from nats.js.errors import KeyWrongLastSequenceError

from ..trails import EventRow, TrailRow
from .atomic import MAX_BATCH, Write, commit, open_bucket
from .options import JetStreamOptions
from .records import id_key, load, modify, name_key, revision, scan
from .written_once import WrittenOnce, reserve

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
        self._conn, self._kv = open_bucket(options, "cloudtrail", _BUCKET)
        self._events = WrittenOnce(self._conn, _BUCKET, "e")

    # -- trails -------------------------------------------------------------------------------

    def create_trail(self, row: TrailRow) -> bool:
        async def create() -> bool:
            key = _trail_key(row.arn)
            expect = await revision(self._conn, _BUCKET, key)  # before the look, not after
            if await load(self._conn, _BUCKET, key) is not None:
                return False
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
            first = await reserve(self._conn, _EVENTS, len(events))
            writes = [
                Write(f"e.{id_key(first + n)}", orjson.dumps(dataclasses.replace(e, seq=first + n)))
                for n, e in enumerate(events)
            ]
            for start in range(0, len(writes), MAX_BATCH):
                await commit(self._conn, _BUCKET, writes[start : start + MAX_BATCH])

        self._conn.run(append())

    def lookup_events(
        self,
        start_ms: int,
        end_ms: int,
        attribute: tuple[str, str] | None,
        before: tuple[int, int] | None,
        limit: int,
    ) -> Sequence[EventRow]:
        stored = self._conn.run(self._events.all())
        chosen = [
            event
            for event in map(_event, stored.values())
            if start_ms <= event.time_ms <= end_ms
            and _matches(event, attribute)
            and (before is None or (event.time_ms, event.seq) < before)
        ]
        chosen.sort(key=lambda e: (e.time_ms, e.seq), reverse=True)
        return chosen[:limit]

    def expire_events(self, before_ms: int) -> int:
        async def expire() -> int:
            stored = await self._events.all()
            old = [key for key, record in stored.items() if record["time_ms"] < before_ms]
            await self._events.forget(old)
            return len(old)

        return self._conn.run(expire())

    def close(self) -> None:
        self._conn.close()
