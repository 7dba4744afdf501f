"""``TrailStore`` on its own SQLite file (``cloudtrail.db`` in the data directory).

Same durability recipe as the other stores (WAL, ``synchronous=FULL``). Trails are tiny and
rarely written: settings, tags and selectors are JSON text read and written whole. Events are
appended in batches by the recorder; the LookupEvents attributes are columns (resources a JSON
list of ``[type, name]`` pairs) so each lookup is one indexed query.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from .database import connect, transaction
from .trails import EventRow, TrailRow

__all__ = ["SqliteTrailStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS trails (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    arn TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    username TEXT,
    access_key_id TEXT,
    read_only INTEGER NOT NULL,
    resources TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_time ON events (time_ms, seq);
"""

_EVENT_COLUMNS = (
    "event_id, time_ms, name, source, username, access_key_id, read_only, resources, record, seq"
)
_ATTRIBUTE_SQL = {
    "EventId": "event_id = ?",
    "EventName": "name = ?",
    "EventSource": "source = ?",
    "Username": "username = ?",
    "AccessKeyId": "access_key_id = ?",
    "ReadOnly": "read_only = ?",
    "ResourceType": "EXISTS (SELECT 1 FROM json_each(resources) WHERE value ->> 0 = ?)",
    "ResourceName": "EXISTS (SELECT 1 FROM json_each(resources) WHERE value ->> 1 = ?)",
}


def _dump_trail(row: TrailRow) -> str:
    body = {k: v for k, v in row.__dict__.items() if k != "arn"}
    return orjson.dumps(body).decode("utf-8")


def _load_trail(arn: str, body: str) -> TrailRow:
    return TrailRow(arn=arn, **orjson.loads(body))


def _event(row: tuple[Any, ...]) -> EventRow:
    event_id, time_ms, name, source, user, key, read_only, resources, record, seq = row
    pairs = tuple((kind, value) for kind, value in orjson.loads(resources))
    return EventRow(event_id, time_ms, name, source, user, key, bool(read_only), pairs, record, seq)


class SqliteTrailStore:
    """``TrailStore`` on a SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = connect(path, schema=_SCHEMA)
        self._lock = threading.Lock()

    def create_trail(self, row: TrailRow) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO trails (arn, body) VALUES (?, ?)",
                (row.arn, _dump_trail(row)),
            )
            return cursor.rowcount == 1

    def get_trail(self, arn: str) -> TrailRow | None:
        with self._lock:
            found = self._db.execute("SELECT body FROM trails WHERE arn = ?", (arn,)).fetchone()
        return None if found is None else _load_trail(arn, found[0])

    def list_trails(self) -> Sequence[TrailRow]:
        with self._lock:
            rows = self._db.execute("SELECT arn, body FROM trails ORDER BY seq").fetchall()
        return [_load_trail(arn, body) for arn, body in rows]

    def put_trail(self, row: TrailRow) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "UPDATE trails SET body = ? WHERE arn = ?", (_dump_trail(row), row.arn)
            )
            return cursor.rowcount == 1

    def delete_trail(self, arn: str) -> bool:
        with self._lock:
            return self._db.execute("DELETE FROM trails WHERE arn = ?", (arn,)).rowcount == 1

    def append_events(self, events: Sequence[EventRow]) -> None:
        rows = [
            (
                e.event_id, e.time_ms, e.name, e.source, e.username, e.access_key_id,
                int(e.read_only), orjson.dumps([list(p) for p in e.resources]).decode(), e.record,
            )
            for e in events
        ]  # fmt: skip
        with self._lock, transaction(self._db):
            self._db.executemany(
                "INSERT INTO events (event_id, time_ms, name, source, username, access_key_id, "
                "read_only, resources, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def lookup_events(
        self,
        start_ms: int,
        end_ms: int,
        attribute: tuple[str, str] | None,
        before: tuple[int, int] | None,
        limit: int,
    ) -> Sequence[EventRow]:
        where = ["time_ms >= ?", "time_ms <= ?"]
        params: list[Any] = [start_ms, end_ms]
        if attribute is not None:
            key, value = attribute
            where.append(_ATTRIBUTE_SQL[key])
            params.append(int(value == "true") if key == "ReadOnly" else value)
        if before is not None:
            where.append("(time_ms, seq) < (?, ?)")
            params.extend(before)
        sql = (
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE {' AND '.join(where)} "
            "ORDER BY time_ms DESC, seq DESC LIMIT ?"
        )
        with self._lock:
            rows = self._db.execute(sql, (*params, limit)).fetchall()
        return [_event(row) for row in rows]

    def expire_events(self, before_ms: int) -> int:
        with self._lock:
            return self._db.execute("DELETE FROM events WHERE time_ms < ?", (before_ms,)).rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()
