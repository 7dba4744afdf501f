"""``Ec2Store`` (the EC2 subset's resources) on JetStream: one KV record per resource.

Keys ``r.<hex id>``; ``seq`` from the cluster-wide counter. Creation is insert-if-absent
(``ValueError`` for a taken id, on whichever node loses), updates compare-and-set. A listing
scans the bucket (resources are few: VPCs, subnets, flow logs, endpoints).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from nats.js.errors import KeyWrongLastSequenceError

from ..ec2 import ResourceRow
from .atomic import Write, commit, open_bucket
from .options import JetStreamOptions
from .records import load, name_key, revision, scan

__all__ = ["JetStreamEc2Store"]

_BUCKET = "ec2"


def _key(resource_id: str) -> str:
    return f"r.{name_key(resource_id)}"


class JetStreamEc2Store:
    """``Ec2Store`` in the bucket ``<namespace>_ec2``."""

    def __init__(self, options: JetStreamOptions) -> None:
        self._conn, self._kv = open_bucket(options, "ec2", _BUCKET)

    def _write(self, key: str, row: ResourceRow | None, expect: int) -> None:
        value = None if row is None else orjson.dumps(dataclasses.asdict(row))
        self._conn.run(commit(self._conn, _BUCKET, [Write(key, value, expect)]))

    def _found(self, resource_id: str) -> tuple[ResourceRow, int] | None:
        found = self._conn.run(load(self._conn, _BUCKET, _key(resource_id)))
        return (ResourceRow(**found[0]), found[1]) if found else None

    def create(self, row: ResourceRow) -> ResourceRow:
        key = _key(row.id)
        expect = self._conn.run(revision(self._conn, _BUCKET, key))
        if self._found(row.id) is not None:
            raise ValueError(f"the resource {row.id} exists")
        stored = dataclasses.replace(row, seq=self._conn.run(self._conn.next_id(_BUCKET)))
        try:
            self._write(key, stored, expect)
        except KeyWrongLastSequenceError:
            raise ValueError(f"the resource {row.id} exists") from None
        return stored

    def get(self, resource_id: str) -> ResourceRow | None:
        found = self._found(resource_id)
        return found[0] if found else None

    def list(self, kind: str, after_seq: int = 0, limit: int = 1000) -> Sequence[ResourceRow]:
        records = self._conn.run(scan(self._conn, _BUCKET, "r.>")).values()
        rows = sorted(
            (ResourceRow(**r) for r in records if r["kind"] == kind and r["seq"] > after_seq),
            key=lambda row: row.seq,
        )
        return rows[:limit]

    def update(
        self,
        resource_id: str,
        data: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ResourceRow | None:
        while True:
            found = self._found(resource_id)
            if found is None:
                return None
            row, rev = found
            if data is not None:
                row = dataclasses.replace(row, data=dict(data))
            if tags is not None:
                row = dataclasses.replace(row, tags=dict(tags))
            try:
                self._write(_key(resource_id), row, rev)
            except KeyWrongLastSequenceError:
                continue
            return row

    def delete(self, resource_id: str) -> bool:
        while True:
            found = self._found(resource_id)
            if found is None:
                return False  # of concurrent deletes exactly one finds it
            try:
                self._write(_key(resource_id), None, found[1])
            except KeyWrongLastSequenceError:
                continue  # changed or deleted meanwhile: look again
            return True

    def close(self) -> None:
        self._conn.close()
