"""``StreamStore`` on its own SQLite file (``kinesis.db`` in the data directory).

Same durability recipe as the log store (``sqlite.py``): WAL journal with ``synchronous=FULL``,
so a commit is fsynced before ``append`` returns and a 200 from PutRecord(s) survives ``kill -9``
the instant after; one writer connection behind a lock; per-thread reader connections that never
block it. One row per record, keyed by an AUTOINCREMENT ``seq`` that is never reused (not even
after retention or DeleteStream removed the newest rows), so positions held by consumers stay
meaningful forever. Stream ids are AUTOINCREMENT too: a recreated stream never sees the rows of
the one it replaced, even before they are purged.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .database import Connections
from .streams import NewRecord, StoredRecord, StreamRow
from .tags import TagTable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS streams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    shard_count INTEGER NOT NULL,
    mode TEXT NOT NULL,
    status TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    retention_hours INTEGER NOT NULL,
    max_record_kib INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id INTEGER NOT NULL,
    shard INTEGER NOT NULL,
    arrival_ms INTEGER NOT NULL,
    partition_key TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_shard ON records (stream_id, shard, seq);
CREATE INDEX IF NOT EXISTS records_by_arrival ON records (stream_id, shard, arrival_ms);
CREATE TABLE IF NOT EXISTS stream_tags (
    stream_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (stream_id, key)
);
CREATE TABLE IF NOT EXISTS purges (
    stream_id INTEGER PRIMARY KEY
);
"""
_STREAM_COLUMNS = "id, name, shard_count, mode, status, created_ms, retention_hours, max_record_kib"
_RECORD_COLUMNS = "seq, shard, arrival_ms, partition_key, data"
_HOUR_MS = 3_600_000
_DELETE_BATCH = 5_000  # rows per transaction when expiring: keeps the writer lock short
_SIGNING_KEY = "iterator-signing-key"


class SqliteStreamStore:
    """``StreamStore`` on a SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = Connections(path, schema=_SCHEMA)
        self._tags = TagTable(self._db, "stream_tags", "stream_id")
        with self._db.write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                (_SIGNING_KEY, secrets.token_bytes(32)),
            )
            self._key: bytes = conn.execute(
                "SELECT value FROM meta WHERE key = ?", (_SIGNING_KEY,)
            ).fetchone()[0]

    def close(self) -> None:
        self._db.close()

    def signing_key(self) -> bytes:
        return self._key

    # --- streams ---------------------------------------------------------------------------

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
        with self._db.write() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO streams (name, shard_count, mode, status, created_ms, "
                "retention_hours, max_record_kib) VALUES (?, ?, ?, 'ACTIVE', ?, ?, ?)",
                (name, shard_count, mode, now, retention_hours, max_record_kib),
            )
            if cur.rowcount == 0:
                return None
            stream_id = cur.lastrowid or 0
            self._tags.write(conn, stream_id, tags)
        return StreamRow(
            stream_id, name, shard_count, mode, "ACTIVE", now, retention_hours, max_record_kib
        )

    def delete_stream(self, stream_id: int) -> bool:
        with self._db.write() as conn:
            if conn.execute("DELETE FROM streams WHERE id = ?", (stream_id,)).rowcount == 0:
                return False
            conn.execute("DELETE FROM stream_tags WHERE stream_id = ?", (stream_id,))
            conn.execute("INSERT OR IGNORE INTO purges (stream_id) VALUES (?)", (stream_id,))
        return True

    def stream(self, name: str) -> StreamRow | None:
        row = (
            self._db.read()
            .execute(f"SELECT {_STREAM_COLUMNS} FROM streams WHERE name = ?", (name,))
            .fetchone()
        )
        return StreamRow(*row) if row else None

    def streams(self, after: str | None, limit: int) -> list[StreamRow]:
        sql = f"SELECT {_STREAM_COLUMNS} FROM streams"
        args: list[Any] = []
        if after is not None:
            sql += " WHERE name > ?"
            args.append(after)
        sql += " ORDER BY name LIMIT ?"
        args.append(limit)
        return [StreamRow(*row) for row in self._db.read().execute(sql, args)]

    def total_shards(self) -> int:
        row = (
            self._db.read().execute("SELECT coalesce(sum(shard_count), 0) FROM streams").fetchone()
        )
        return int(row[0])

    def set_retention(self, stream_id: int, hours: int) -> None:
        with self._db.write() as conn:
            conn.execute("UPDATE streams SET retention_hours = ? WHERE id = ?", (hours, stream_id))

    # --- records ---------------------------------------------------------------------------

    def append(self, stream_id: int, records: Sequence[NewRecord], now: int) -> list[int] | None:
        with self._db.write() as conn:
            if conn.execute("SELECT 1 FROM streams WHERE id = ?", (stream_id,)).fetchone() is None:
                return None
            seqs = []
            for shard, key, data in records:
                cur = conn.execute(
                    "INSERT INTO records (stream_id, shard, arrival_ms, partition_key, data) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (stream_id, shard, now, key, data),
                )
                seqs.append(cur.lastrowid or 0)
        return seqs

    def read(
        self,
        stream_id: int,
        shard: int,
        start: int,
        not_before: int,
        limit: int,
        max_bytes: int,
    ) -> list[StoredRecord]:
        cursor = self._db.read().execute(
            f"SELECT {_RECORD_COLUMNS} FROM records WHERE stream_id = ? AND shard = ? "
            "AND seq >= ? AND arrival_ms >= ? ORDER BY seq LIMIT ?",
            (stream_id, shard, start, not_before, limit),
        )
        found: list[StoredRecord] = []
        size = 0
        for row in cursor:
            record = StoredRecord(*row)
            size += len(record.data) + len(record.partition_key.encode())
            if found and size > max_bytes:
                break
            found.append(record)
        cursor.close()
        return found

    def first(self, stream_id: int, shard: int, start: int, not_before: int) -> StoredRecord | None:
        row = (
            self._db.read()
            .execute(
                f"SELECT {_RECORD_COLUMNS} FROM records WHERE stream_id = ? AND shard = ? "
                "AND seq >= ? AND arrival_ms >= ? ORDER BY seq LIMIT 1",
                (stream_id, shard, start, not_before),
            )
            .fetchone()
        )
        return StoredRecord(*row) if row else None

    def first_arrived(self, stream_id: int, shard: int, at: int) -> StoredRecord | None:
        row = (
            self._db.read()
            .execute(
                f"SELECT {_RECORD_COLUMNS} FROM records INDEXED BY records_by_arrival "
                "WHERE stream_id = ? AND shard = ? AND arrival_ms >= ? "
                "ORDER BY arrival_ms, seq LIMIT 1",
                (stream_id, shard, at),
            )
            .fetchone()
        )
        return StoredRecord(*row) if row else None

    def last_seq(self, stream_id: int, shard: int) -> int:
        row = (
            self._db.read()
            .execute(
                "SELECT max(seq) FROM records WHERE stream_id = ? AND shard = ?",
                (stream_id, shard),
            )
            .fetchone()
        )
        return row[0] or 0

    def expire(self, now: int) -> int:
        """Batched deletes, so a large backlog never holds the writer lock for long."""
        deleted = 0
        reader = self._db.read()
        streams = reader.execute("SELECT id, shard_count, retention_hours FROM streams")
        for stream_id, shards, hours in streams.fetchall():
            cutoff = now - hours * _HOUR_MS
            for shard in range(shards):
                deleted += self._delete_batches(
                    "stream_id = ? AND shard = ? AND arrival_ms < ?", (stream_id, shard, cutoff)
                )
        for (stream_id,) in reader.execute("SELECT stream_id FROM purges").fetchall():
            deleted += self._delete_batches("stream_id = ?", (stream_id,))
            with self._db.write() as conn:
                conn.execute("DELETE FROM purges WHERE stream_id = ?", (stream_id,))
        return deleted

    def _delete_batches(self, where: str, args: tuple[int, ...]) -> int:
        probe = f"SELECT 1 FROM records WHERE {where} LIMIT 1"
        if self._db.read().execute(probe, args).fetchone() is None:
            return 0  # the common case: no write transaction at all
        total = 0
        while True:
            with self._db.write() as conn:
                count = conn.execute(
                    f"DELETE FROM records WHERE seq IN "
                    f"(SELECT seq FROM records WHERE {where} LIMIT {_DELETE_BATCH})",
                    args,
                ).rowcount
            total += count
            if count < _DELETE_BATCH:
                return total

    # --- tags --------------------------------------------------------------------------------

    def tags(self, stream_id: int) -> dict[str, str]:
        return self._tags.get(stream_id)

    def set_tags(self, stream_id: int, tags: Mapping[str, str]) -> None:
        self._tags.set(stream_id, tags)

    def remove_tags(self, stream_id: int, keys: Sequence[str]) -> None:
        self._tags.remove(stream_id, keys)
