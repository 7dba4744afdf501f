"""``Ec2Store`` (the EC2 subset's resources) on JetStream: one KV bucket.

Keys (names hex-encoded, seqs zero-padded): ``r.<kind>.<seq>`` holds the resource, so a kind's
keys sort in creation order and listing one kind scans only its own keys; ``i.<id>`` points
from the id to that key. Creation writes both as one atomic batch, insert-if-absent on the
id, so two nodes creating one id agree on one; updates are compare-and-set on the resource.
Seqs come from a cluster-wide counter. Configuration is tiny and rarely written, so the
per-key reads of ``records.scan`` are plenty.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from nats.js.errors import KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from ..ec2 import ResourceRow
from .atomic import Write, allow_atomic, commit
from .connection import Connection
from .options import JetStreamOptions
from .records import id_key, load, modify, name_key, revision, scan

__all__ = ["JetStreamEc2Store"]

_BUCKET = "ec2"


def _resource_key(kind: str, seq: int) -> str:
    return f"r.{name_key(kind)}.{id_key(seq)}"


def _id_key(resource_id: str) -> str:
    return f"i.{name_key(resource_id)}"


def _dump(row: ResourceRow) -> bytes:
    return orjson.dumps(dataclasses.asdict(row))


class JetStreamEc2Store:
    """``Ec2Store`` in the bucket ``<namespace>_ec2``."""

    def __init__(self, options: JetStreamOptions) -> None:
        self._conn = Connection(options, "ec2")
        try:
            self._conn.run(self._conn.ensure_counters())
            self._kv: KeyValue = self._conn.run(self._conn.ensure_kv(_BUCKET))
            self._conn.run(allow_atomic(self._conn, self._kv, _BUCKET))
        except BaseException:
            self._conn.close()
            raise

    async def _where(self, resource_id: str) -> tuple[str, int] | None:
        """The key holding ``resource_id`` and the pointer's revision, or None."""
        found = await load(self._conn, _BUCKET, _id_key(resource_id))
        return (found[0]["key"], found[1]) if found else None

    async def _get(self, resource_id: str) -> ResourceRow | None:
        where = await self._where(resource_id)
        if where is None:
            return None
        found = await load(self._conn, _BUCKET, where[0])
        return ResourceRow(**found[0]) if found else None

    def create(self, row: ResourceRow) -> ResourceRow:
        async def create() -> ResourceRow:
            pointer = _id_key(row.id)
            # the revision before the look: a pointer written in between fails the commit
            expect = await revision(self._conn, _BUCKET, pointer)
            if await self._where(row.id) is not None:
                raise ValueError(f"resource {row.id} exists")
            seq = await self._conn.next_id(_BUCKET)
            stored = dataclasses.replace(row, data=dict(row.data), tags=dict(row.tags), seq=seq)
            key = _resource_key(row.kind, seq)
            writes = [Write(pointer, orjson.dumps({"key": key}), expect), Write(key, _dump(stored))]
            try:
                await commit(self._conn, _BUCKET, writes)
            except KeyWrongLastSequenceError:
                raise ValueError(f"resource {row.id} exists") from None
            return stored

        return self._conn.run(create())

    def get(self, resource_id: str) -> ResourceRow | None:
        return self._conn.run(self._get(resource_id))

    def list(self, kind: str, after_seq: int = 0, limit: int = 1000) -> Sequence[ResourceRow]:
        found = self._conn.run(scan(self._conn, _BUCKET, f"r.{name_key(kind)}.*"))
        rows = (ResourceRow(**record) for record in found.values())  # keys sort by seq
        return [row for row in rows if row.seq > after_seq][:limit]

    def update(
        self,
        resource_id: str,
        data: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ResourceRow | None:
        def change(record: dict[str, Any]) -> dict[str, Any]:
            if data is not None:
                record["data"] = dict(data)
            if tags is not None:
                record["tags"] = dict(tags)
            return record

        async def update() -> ResourceRow | None:
            where = await self._where(resource_id)
            if where is None:
                return None
            if not await modify(self._conn, self._kv, _BUCKET, where[0], change):
                return None
            return await self._get(resource_id)

        return self._conn.run(update())

    def delete(self, resource_id: str) -> bool:
        async def delete() -> bool:
            while True:
                where = await self._where(resource_id)
                if where is None:
                    return False
                key, pointer_revision = where
                writes = [Write(_id_key(resource_id), None, pointer_revision), Write(key, None)]
                try:
                    await commit(self._conn, _BUCKET, writes)
                except KeyWrongLastSequenceError:
                    continue  # deleted or recreated meanwhile: look again
                return True

        return self._conn.run(delete())

    def close(self) -> None:
        self._conn.close()
