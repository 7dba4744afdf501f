"""``Ec2Store`` on its own SQLite file (``ec2.db`` in the data directory).

Same durability recipe as the other stores (WAL, ``synchronous=FULL``): a resource the API
acknowledged survives ``kill -9``. Writes are rare and tiny, so one connection behind one lock
serves readers and writers. Data and tags are JSON text columns, read and written whole.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from .database import connect, transaction
from .ec2 import ResourceRow

__all__ = ["SqliteEc2Store"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    tags TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS resources_by_kind ON resources (kind, seq);
"""
_COLUMNS = "id, kind, data, tags, created_ms, seq"


def _json(value: Mapping[str, Any]) -> str:
    return orjson.dumps(dict(value)).decode("utf-8")


def _row(found: tuple[Any, ...]) -> ResourceRow:
    rid, kind, data, tags, created_ms, seq = found
    return ResourceRow(rid, kind, orjson.loads(data), orjson.loads(tags), created_ms, seq)


class SqliteEc2Store:
    """``Ec2Store`` on a SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = connect(path, schema=_SCHEMA)
        self._lock = threading.Lock()

    def _select(self, resource_id: str) -> ResourceRow | None:
        found = self._db.execute(
            f"SELECT {_COLUMNS} FROM resources WHERE id = ?", (resource_id,)
        ).fetchone()
        return None if found is None else _row(found)

    def create(self, row: ResourceRow) -> ResourceRow:
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO resources (id, kind, data, tags, created_ms) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (row.id, row.kind, _json(row.data), _json(row.tags), row.created_ms),
                )
            except sqlite3.IntegrityError:
                raise ValueError(f"resource {row.id} exists") from None
            stored = self._select(row.id)
        assert stored is not None
        return stored

    def get(self, resource_id: str) -> ResourceRow | None:
        with self._lock:
            return self._select(resource_id)

    def list(self, kind: str, after_seq: int = 0, limit: int = 1000) -> Sequence[ResourceRow]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM resources WHERE kind = ? AND seq > ? ORDER BY seq LIMIT ?",
                (kind, after_seq, limit),
            ).fetchall()
        return [_row(found) for found in rows]

    def update(
        self,
        resource_id: str,
        data: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ResourceRow | None:
        with self._lock, transaction(self._db):  # both columns or neither, one fsync
            if data is not None:
                self._db.execute(
                    "UPDATE resources SET data = ? WHERE id = ?", (_json(data), resource_id)
                )
            if tags is not None:
                self._db.execute(
                    "UPDATE resources SET tags = ? WHERE id = ?", (_json(tags), resource_id)
                )
            return self._select(resource_id)

    def delete(self, resource_id: str) -> bool:
        with self._lock:
            deleted = self._db.execute("DELETE FROM resources WHERE id = ?", (resource_id,))
        return deleted.rowcount == 1

    def close(self) -> None:
        with self._lock:
            self._db.close()
