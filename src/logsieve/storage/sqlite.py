"""The embedded store: one SQLite database in the data directory.

Events are stored a batch at a time: each accepted PutLogEvents batch is one chunk row (its
events as one orjson payload, its time bounds indexed), so ingestion writes one row and one
index entry per batch instead of per event, and reads merge the chunks in time order
(``merge.py``).

Durability: WAL journal with ``synchronous=FULL``, so a commit is fsynced before ``append``
returns and a 200 from PutLogEvents survives ``kill -9`` the instant after. One writer
connection behind a lock (SQLite has one writer anyway); readers use their own per-thread
connections and never block it. Chunk numbers come from AUTOINCREMENT, so event sequence
numbers are never reused, even after retention deletes the newest chunks: consumer cursors
stay valid forever. Group and stream ids come from AUTOINCREMENT as well, and every write that
names a group or stream checks it still exists in the same transaction: an append racing a
delete either lands before it (and is deleted with it) or fails, and never files events under
an id a newer group or stream could get.
Reads stream from disk in chunks, so memory does not grow with the amount stored.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from .checkpoint import Checkpointer
from .database import Connections
from .merge import MAX_CHUNK_SPAN_MS, ChunkRef, merge, stream_page
from .migrate import move_activation_times, never_reuse_ids
from .protocols import Deleted, Position
from .records import (
    LogGroup,
    LogStream,
    MetricFilter,
    StoredEvent,
    SubscriptionFilter,
    subscription_consumer,
)
from .source_positions import Chunk
from .tags import TagTable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS log_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    creation_time INTEGER NOT NULL,
    retention_days INTEGER,
    stored_bytes INTEGER NOT NULL DEFAULT 0,
    kms_key_id TEXT,
    log_group_class TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS log_streams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    creation_time INTEGER NOT NULL,
    first_event_timestamp INTEGER,
    last_event_timestamp INTEGER,
    last_ingestion_time INTEGER,
    stored_bytes INTEGER NOT NULL DEFAULT 0,
    UNIQUE (group_id, name)
);
CREATE TABLE IF NOT EXISTS chunks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id INTEGER NOT NULL,
    stream_id INTEGER NOT NULL,
    min_ts INTEGER NOT NULL,
    max_ts INTEGER NOT NULL,
    count INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    ingestion_time INTEGER NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_stream ON chunks (stream_id, min_ts);
CREATE INDEX IF NOT EXISTS chunks_by_group ON chunks (group_id, min_ts);
CREATE TABLE IF NOT EXISTS tags (
    group_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (group_id, key)
);
CREATE TABLE IF NOT EXISTS metric_filters (
    group_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    pattern TEXT NOT NULL,
    transformations TEXT NOT NULL,
    creation_time INTEGER NOT NULL,
    PRIMARY KEY (group_id, name)
);
CREATE TABLE IF NOT EXISTS subscription_filters (
    group_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    pattern TEXT NOT NULL,
    destination_arn TEXT NOT NULL,
    role_arn TEXT,
    distribution TEXT NOT NULL,
    creation_time INTEGER NOT NULL,
    options TEXT NOT NULL,
    PRIMARY KEY (group_id, name)
);
CREATE TABLE IF NOT EXISTS cursors (
    consumer TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS consumer_state (
    consumer TEXT NOT NULL,
    key TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (consumer, key)
);
CREATE TABLE IF NOT EXISTS source_positions (
    source TEXT NOT NULL,
    key TEXT NOT NULL,
    position TEXT NOT NULL,
    PRIMARY KEY (source, key)
);
"""
_CHUNK_COLUMNS = "seq, min_ts, max_ts"
_GROUP_COLUMNS = (
    "id, name, creation_time, retention_days, stored_bytes, kms_key_id, log_group_class"
)
_STREAM_COLUMNS = (
    "id, group_id, name, creation_time, first_event_timestamp, last_event_timestamp, "
    "last_ingestion_time, stored_bytes"
)
_DAY_MS = 86_400_000
# The highest ids ever used, including those only rows of other tables still name.
_HIGHEST_GROUP_ID = (
    "SELECT max(coalesce((SELECT max(id) FROM log_groups), 0), "
    "coalesce((SELECT max(group_id) FROM log_streams), 0), "
    "coalesce((SELECT max(group_id) FROM chunks), 0), "
    "coalesce((SELECT max(group_id) FROM tags), 0), "
    "coalesce((SELECT max(group_id) FROM metric_filters), 0), "
    "coalesce((SELECT max(group_id) FROM subscription_filters), 0))"
)
_HIGHEST_STREAM_ID = (
    "SELECT max(coalesce((SELECT max(id) FROM log_streams), 0), "
    "coalesce((SELECT max(stream_id) FROM chunks), 0))"
)
# Rows filed under a group or stream that no longer exists (appends and settings that raced a
# delete before the check was inside the write).
_ORPHANS = (
    "DELETE FROM log_streams WHERE group_id NOT IN (SELECT id FROM log_groups)",
    "DELETE FROM chunks WHERE NOT EXISTS (SELECT 1 FROM log_streams s "
    "WHERE s.id = chunks.stream_id AND s.group_id = chunks.group_id)",
    "DELETE FROM tags WHERE group_id NOT IN (SELECT id FROM log_groups)",
    "DELETE FROM metric_filters WHERE group_id NOT IN (SELECT id FROM log_groups)",
    "DELETE FROM subscription_filters WHERE group_id NOT IN (SELECT id FROM log_groups)",
)
SEQ_BITS = (
    14  # an event's seq is (chunk seq << 14) | its index: PutLogEvents caps a batch at 10,000
)
_INDEX_MASK = (1 << SEQ_BITS) - 1


_WRITER_CACHE_MB = 32
_READER_CACHE_MB = 4  # one reader per worker thread: keep their caches small
_WAL_KEEP_BYTES = 64 * 1024 * 1024  # journal_size_limit: the WAL file shrinks back to this


def _in_range(
    events: list[StoredEvent], lo: int | None, hi: int | None, after: Position | None,
    before: Position | None,
) -> list[StoredEvent]:  # fmt: skip
    """The events of one chunk inside [lo, hi] and strictly between the two positions."""
    if lo is None and hi is None and after is None and before is None:
        return events
    lo = -(1 << 63) if lo is None else lo
    hi = 1 << 63 if hi is None else hi
    return [
        e
        for e in events
        if lo <= e[0] <= hi
        and (after is None or e[:2] > after)
        and (before is None or e[:2] < before)
    ]


def _end_of_log(conn: sqlite3.Connection) -> int:
    """The highest sequence number any event appended so far can have (0 when none)."""
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'chunks'").fetchone()
    return ((row[0] + 1) << SEQ_BITS) - 1 if row else 0


def _check_group(conn: sqlite3.Connection, group_id: int) -> None:
    """Inside a write: raise ``Deleted`` if the group is gone (deleted since its lookup)."""
    if conn.execute("SELECT 1 FROM log_groups WHERE id = ?", (group_id,)).fetchone() is None:
        raise Deleted("group")


def _check_chunk(timestamps: Sequence[int], messages: Sequence[str]) -> None:
    count = len(timestamps)
    if not 0 < count <= _INDEX_MASK + 1 or len(messages) != count:
        raise ValueError(f"a chunk holds 1 to {_INDEX_MASK + 1} events")
    if list(timestamps) != sorted(timestamps):
        raise ValueError("a chunk's events must be in timestamp order")
    if timestamps[-1] - timestamps[0] > MAX_CHUNK_SPAN_MS:
        raise ValueError("a chunk spans at most 24 hours")


def _insert_chunk(
    conn: sqlite3.Connection, group_id: int, stream_id: int, timestamps: Sequence[int],
    messages: Sequence[str], size: int, now: int,
) -> int:  # fmt: skip
    """Inside a write: store one checked chunk and add it to its stream's and group's totals;
    the chunk's number. ``Deleted`` (nothing stored) if the stream is gone."""
    # In this transaction: a stream deleted since the caller looked it up gets nothing.
    found = conn.execute(
        "SELECT 1 FROM log_streams WHERE id = ? AND group_id = ?", (stream_id, group_id)
    ).fetchone()
    if found is None:
        _check_group(conn, group_id)  # the whole group went: say so, as AWS would
        raise Deleted("stream")
    first, last = timestamps[0], timestamps[-1]
    payload = orjson.dumps({"t": timestamps, "m": messages})
    cur = conn.execute(
        "INSERT INTO chunks (group_id, stream_id, min_ts, max_ts, count, bytes, "
        "ingestion_time, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (group_id, stream_id, first, last, len(timestamps), size, now, payload),
    )
    conn.execute(
        "UPDATE log_streams SET "
        "first_event_timestamp = min(coalesce(first_event_timestamp, ?), ?), "
        "last_event_timestamp = max(coalesce(last_event_timestamp, ?), ?), "
        # max(): concurrent batches may commit out of the order they were stamped in
        "last_ingestion_time = max(coalesce(last_ingestion_time, 0), ?), "
        "stored_bytes = stored_bytes + ? WHERE id = ?",
        (first, first, last, last, now, size, stream_id),
    )
    conn.execute(
        "UPDATE log_groups SET stored_bytes = stored_bytes + ? WHERE id = ?", (size, group_id)
    )
    return cur.lastrowid or 0


class SqliteStore:
    """``LogsStore`` (``EventLog``, ``LogsMetadata`` and ``LogFilters``) on one SQLite file:
    one file because deletes and new subscriptions write to all three in one transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = Connections(
            path, schema=_SCHEMA, writer_cache_mb=_WRITER_CACHE_MB, reader_cache_mb=_READER_CACHE_MB
        )
        self._tags = TagTable(self._db, "tags", "group_id", owners="log_groups")
        self._migrate()
        # Checkpoints copy the WAL into the database file; done inside a commit they stall
        # PutLogEvents, so a background thread does them (PASSIVE: never blocks a writer).
        self._db.writer.execute("PRAGMA wal_autocheckpoint=0")
        self._db.writer.execute(f"PRAGMA journal_size_limit={_WAL_KEEP_BYTES}")
        self._checkpointer = Checkpointer(path, self._db.write_lock, self._db.space)
        self._checkpointer.start()

    def close(self) -> None:
        self._checkpointer.stop()
        self._db.close()

    def _migrate(self) -> None:
        """Data directories written before ids were AUTOINCREMENT: rebuild the two tables with
        it (ids and event ids unchanged), and drop what earlier races left behind, which is
        exactly what the old scheme could hand to a newer group or stream."""
        with self._db.write() as conn:
            groups = never_reuse_ids(conn, "log_groups", _HIGHEST_GROUP_ID)
            streams = never_reuse_ids(conn, "log_streams", _HIGHEST_STREAM_ID)
            if groups or streams:
                for sql in _ORPHANS:
                    conn.execute(sql)
            move_activation_times(conn)

    # --- log groups ------------------------------------------------------------------------

    def create_group(
        self, name: str, now: int, kms_key_id: str | None, log_group_class: str
    ) -> LogGroup | None:
        with self._db.write() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO log_groups (name, creation_time, kms_key_id, "
                "log_group_class) VALUES (?, ?, ?, ?)",
                (name, now, kms_key_id, log_group_class),
            )
            if cur.rowcount == 0:
                return None
            return LogGroup(cur.lastrowid or 0, name, now, None, 0, kms_key_id, log_group_class)

    def delete_group(self, group_id: int) -> None:
        with self._db.write() as conn:
            if conn.execute("DELETE FROM log_groups WHERE id = ?", (group_id,)).rowcount == 0:
                raise Deleted("group")  # a concurrent delete won
            tables = ("chunks", "log_streams", "tags", "metric_filters", "subscription_filters")
            for table in tables:
                conn.execute(f"DELETE FROM {table} WHERE group_id = ?", (group_id,))
            prefix = subscription_consumer(group_id, "")
            for table in ("cursors", "consumer_state"):
                conn.execute(
                    f"DELETE FROM {table} WHERE substr(consumer, 1, ?) = ?", (len(prefix), prefix)
                )

    def group(self, name: str) -> LogGroup | None:
        row = (
            self._db.read()
            .execute(f"SELECT {_GROUP_COLUMNS} FROM log_groups WHERE name = ?", (name,))
            .fetchone()
        )
        return LogGroup(*row) if row else None

    def groups(
        self,
        prefix: str | None,
        contains: str | None,
        log_group_class: str | None,
        after: str | None,
        limit: int,
    ) -> list[LogGroup]:
        sql = f"SELECT {_GROUP_COLUMNS} FROM log_groups WHERE 1"
        args: list[Any] = []
        if prefix:
            sql += " AND substr(name, 1, ?) = ?"
            args += [len(prefix), prefix]
        if contains:
            sql += " AND instr(name, ?) > 0"
            args.append(contains)
        if log_group_class:
            sql += " AND log_group_class = ?"
            args.append(log_group_class)
        if after is not None:
            sql += " AND name > ?"
            args.append(after)
        sql += " ORDER BY name LIMIT ?"
        args.append(limit)
        return [LogGroup(*row) for row in self._db.read().execute(sql, args)]

    def count_groups(self) -> int:
        return self._db.read().execute("SELECT count(*) FROM log_groups").fetchone()[0]

    def set_retention(self, group_id: int, days: int | None) -> None:
        with self._db.write() as conn:
            cur = conn.execute(
                "UPDATE log_groups SET retention_days = ? WHERE id = ?", (days, group_id)
            )
            if cur.rowcount == 0:
                raise Deleted("group")

    # --- log streams -----------------------------------------------------------------------

    def create_stream(self, group_id: int, name: str, now: int) -> LogStream | None:
        with self._db.write() as conn:
            _check_group(conn, group_id)
            cur = conn.execute(
                "INSERT OR IGNORE INTO log_streams (group_id, name, creation_time) "
                "VALUES (?, ?, ?)",
                (group_id, name, now),
            )
            if cur.rowcount == 0:
                return None
            return LogStream(cur.lastrowid or 0, group_id, name, now, None, None, None, 0)

    def delete_stream(self, stream_id: int) -> None:
        with self._db.write() as conn:
            row = conn.execute(
                "SELECT group_id, stored_bytes FROM log_streams WHERE id = ?", (stream_id,)
            ).fetchone()
            if row is None:
                raise Deleted("stream")  # a concurrent delete won
            conn.execute("DELETE FROM chunks WHERE stream_id = ?", (stream_id,))
            conn.execute("DELETE FROM log_streams WHERE id = ?", (stream_id,))
            conn.execute(
                "UPDATE log_groups SET stored_bytes = max(0, stored_bytes - ?) WHERE id = ?",
                (row[1], row[0]),
            )

    def stream(self, group_id: int, name: str) -> LogStream | None:
        row = (
            self._db.read()
            .execute(
                f"SELECT {_STREAM_COLUMNS} FROM log_streams WHERE group_id = ? AND name = ?",
                (group_id, name),
            )
            .fetchone()
        )
        return LogStream(*row) if row else None

    def streams(
        self,
        group_id: int,
        prefix: str | None,
        by_last_event: bool,
        descending: bool,
        after: tuple[Any, ...] | None,
        limit: int,
    ) -> list[LogStream]:
        """Streams ordered by name, or by (last event timestamp, id) when ``by_last_event``.

        ``after`` is the sort key of the last stream of the previous page.
        """
        sql = f"SELECT {_STREAM_COLUMNS} FROM log_streams WHERE group_id = ?"
        args: list[Any] = [group_id]
        if prefix:
            sql += " AND substr(name, 1, ?) = ?"
            args += [len(prefix), prefix]
        direction = "DESC" if descending else "ASC"
        compare = "<" if descending else ">"
        columns = ["coalesce(last_event_timestamp, 0)", "id"] if by_last_event else ["name"]
        if after is not None:
            sql += f" AND ({', '.join(columns)}) {compare} ({', '.join('?' * len(after))})"
            args += list(after)
        sql += " ORDER BY " + ", ".join(f"{c} {direction}" for c in columns) + " LIMIT ?"
        args.append(limit)
        return [LogStream(*row) for row in self._db.read().execute(sql, args)]

    def stream_ids(
        self, group_id: int, names: Sequence[str] | None, prefix: str | None
    ) -> dict[int, str]:
        sql = "SELECT id, name FROM log_streams WHERE group_id = ?"
        args: list[Any] = [group_id]
        if names is not None:
            sql += f" AND name IN ({', '.join('?' * len(names))})"
            args += list(names)
        if prefix:
            sql += " AND substr(name, 1, ?) = ?"
            args += [len(prefix), prefix]
        return dict(self._db.read().execute(sql, args).fetchall())

    # --- events ----------------------------------------------------------------------------

    def append(
        self,
        group_id: int,
        stream_id: int,
        timestamps: Sequence[int],
        messages: Sequence[str],
        size: int,
        now: int,
    ) -> int:
        _check_chunk(timestamps, messages)
        with self._db.write() as conn:
            chunk = _insert_chunk(conn, group_id, stream_id, timestamps, messages, size, now)
        return chunk << SEQ_BITS

    # --- source positions (``SourcePositions``) ------------------------------------------------

    def append_at(
        self,
        source: str,
        chunks: Sequence[Chunk],
        positions: Mapping[str, str | None],
        now: int,
    ) -> list[int]:
        for chunk in chunks:
            _check_chunk(chunk.timestamps, chunk.messages)
        with self._db.write() as conn:
            seqs = [
                _insert_chunk(conn, c.group_id, c.stream_id, c.timestamps, c.messages, c.size, now)
                << SEQ_BITS
                for c in chunks
            ]
            for key, position in positions.items():
                if position is None:
                    conn.execute(
                        "DELETE FROM source_positions WHERE source = ? AND key = ?", (source, key)
                    )
                else:
                    conn.execute(
                        "INSERT INTO source_positions (source, key, position) VALUES (?, ?, ?) "
                        "ON CONFLICT (source, key) DO UPDATE SET position = excluded.position",
                        (source, key, position),
                    )
        return seqs

    def positions(self, source: str) -> dict[str, str]:
        rows = self._db.read().execute(
            "SELECT key, position FROM source_positions WHERE source = ?", (source,)
        )
        return dict(rows.fetchall())

    def forget(self, source: str) -> None:
        with self._db.write() as conn:
            conn.execute("DELETE FROM source_positions WHERE source = ?", (source,))

    def _load(self, ref: ChunkRef) -> list[StoredEvent]:
        row = (
            self._db.read()
            .execute(
                "SELECT group_id, stream_id, ingestion_time, payload FROM chunks WHERE seq = ?",
                (ref.seq,),
            )
            .fetchone()
        )
        if row is None:  # deleted since the read began (retention, DeleteLogStream)
            return []
        group_id, stream_id, ingested, payload = row
        columns = orjson.loads(payload)  # {"t": [timestamps], "m": [messages]}
        count = len(columns["t"])
        base = ref.seq << SEQ_BITS
        return list(
            zip(
                columns["t"],
                range(base, base + count),
                itertools.repeat(group_id, count),
                itertools.repeat(stream_id, count),
                itertools.repeat(ingested, count),
                columns["m"],
                strict=True,
            )
        )

    def _events(
        self,
        where: str,
        args: list[Any],
        lo: int | None,
        hi: int | None,
        after: Position | None,
        before: Position | None,
        newest_first: bool,
    ) -> Iterator[list[StoredEvent]]:
        """Events of the chunks selected by ``where``, inside [lo, hi] and the positions, in
        windows (see ``merge``)."""
        low = max(x for x in (lo, after[0] if after else None, -(1 << 62)) if x is not None)
        high = min(x for x in (hi, before[0] if before else None, 1 << 62) if x is not None)
        sql = (
            f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE {where} AND min_ts <= ? AND max_ts >= ?"
            f" AND min_ts >= ? ORDER BY {'max_ts DESC' if newest_first else 'min_ts ASC'}, seq"
        )
        # A chunk spans at most 24 hours, which bounds the index range to scan from below.
        cursor = self._db.read().execute(sql, [*args, high, low, low - MAX_CHUNK_SPAN_MS])

        def load(ref: ChunkRef) -> list[StoredEvent]:
            events = self._load(ref)
            inside = (
                (lo is None or ref.min_ts >= lo)
                and (hi is None or ref.max_ts <= hi)
                and (after is None or ref.min_ts > after[0])
                and (before is None or ref.max_ts < before[0])
            )
            return events if inside else _in_range(events, lo, hi, after, before)

        # The cursor is released with the merge (when it is exhausted, closed or dropped).
        return merge((ChunkRef(*row) for row in cursor), load, newest_first)

    def stream_events(
        self,
        stream_id: int,
        start: int | None,
        end: int | None,
        after: Position | None,
        before: Position | None,
        limit: int,
    ) -> list[StoredEvent]:
        return stream_page(
            lambda hi, newest_first: self._events(
                "stream_id = ?", [stream_id], start, hi, after, before, newest_first
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
        where, args = "group_id = ?", [group_id]
        if stream_ids is not None:
            where += f" AND stream_id IN ({', '.join('?' * len(stream_ids))})"
            args += list(stream_ids)
        before = after if newest_first else None
        return self._events(
            where, args, start, end, None if newest_first else after, before, newest_first
        )

    def read_after(self, seq: int, limit: int, group_id: int | None = None) -> list[StoredEvent]:
        where, args = "seq >= ?", [seq >> SEQ_BITS]
        if group_id is not None:
            where += " AND group_id = ?"
            args.append(group_id)
        rows = self._db.read().execute(
            f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE {where} ORDER BY seq", args
        )
        found: list[StoredEvent] = []
        for row in rows:
            ref = ChunkRef(*row)
            found.extend(e for e in self._load(ref) if e[1] > seq)
            if len(found) >= limit:
                break
        rows.close()
        return found[:limit]

    def last_seq(self, group_id: int | None = None) -> int:  # one log: any group's end
        return _end_of_log(self._db.read())

    def cursor(self, consumer: str) -> int:
        row = (
            self._db.read()
            .execute("SELECT seq FROM cursors WHERE consumer = ?", (consumer,))
            .fetchone()
        )
        return row[0] if row else 0

    def commit_cursor(self, consumer: str, seq: int) -> None:
        """Durable against a crash of the process, without an fsync of its own.

        Cursors move after every delivered window; an fsync each time would compete with
        PutLogEvents for the disk. With ``synchronous=NORMAL`` the commit is in the WAL (the
        OS has it) and reaches the disk with the next fsync; a power cut can only move a cursor
        back, which re-delivers: still at least once.
        """
        with self._db.write_lock:
            conn = self._db.writer
            conn.execute("PRAGMA synchronous=NORMAL")
            try:
                conn.execute(
                    "INSERT INTO cursors (consumer, seq) VALUES (?, ?) "
                    "ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq",
                    (consumer, seq),
                )
            finally:
                conn.execute("PRAGMA synchronous=FULL")

    def consumer_value(self, consumer: str, key: str) -> int | None:
        row = (
            self._db.read()
            .execute(
                "SELECT value FROM consumer_state WHERE consumer = ? AND key = ?", (consumer, key)
            )
            .fetchone()
        )
        return row[0] if row else None

    def set_consumer_value(self, consumer: str, key: str, value: int) -> None:
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO consumer_state (consumer, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (consumer, key) DO UPDATE SET value = excluded.value",
                (consumer, key, value),
            )

    def backlog(self, group_id: int, seq: int) -> tuple[int, int | None]:
        """A group's events after ``seq``: how many, and the oldest one's ingestion time."""
        chunk, index = seq >> SEQ_BITS, seq & _INDEX_MASK
        conn = self._db.read()
        count, oldest = conn.execute(
            "SELECT coalesce(sum(count), 0), min(ingestion_time) FROM chunks "
            "WHERE group_id = ? AND seq > ?",
            (group_id, chunk),
        ).fetchone()
        row = conn.execute(
            "SELECT count, ingestion_time FROM chunks WHERE seq = ? AND group_id = ?",
            (chunk, group_id),
        ).fetchone()
        if row is not None and row[0] - 1 > index:
            count += row[0] - 1 - index
            oldest = row[1] if oldest is None else min(oldest, row[1])
        return count, oldest

    def expire(self, now: int) -> int:
        """Delete chunks whose newest event is past retention (AWS also expires lazily)."""
        deleted = 0
        groups = self._db.read().execute(
            "SELECT id, retention_days FROM log_groups WHERE retention_days IS NOT NULL"
        )
        for group_id, days in groups.fetchall():
            cutoff = now - days * _DAY_MS
            with self._db.write() as conn:
                per_stream = conn.execute(
                    "SELECT stream_id, sum(bytes), sum(count) FROM chunks "
                    "WHERE group_id = ? AND max_ts < ? GROUP BY stream_id",
                    (group_id, cutoff),
                ).fetchall()
                if not per_stream:
                    continue
                conn.execute(
                    "DELETE FROM chunks WHERE group_id = ? AND max_ts < ?", (group_id, cutoff)
                )
                deleted += sum(count for _, _, count in per_stream)
                conn.executemany(
                    "UPDATE log_streams SET stored_bytes = max(0, stored_bytes - ?) WHERE id = ?",
                    [(size, stream_id) for stream_id, size, _ in per_stream],
                )
                conn.execute(
                    "UPDATE log_groups SET stored_bytes = max(0, stored_bytes - ?) WHERE id = ?",
                    (sum(size for _, size, _ in per_stream), group_id),
                )
        return deleted

    # --- tags --------------------------------------------------------------------------------

    def tags(self, group_id: int) -> dict[str, str]:
        return self._tags.get(group_id)

    def set_tags(self, group_id: int, tags: dict[str, str]) -> None:
        self._tags.set(group_id, tags)

    def remove_tags(self, group_id: int, keys: Sequence[str]) -> None:
        self._tags.remove(group_id, keys)

    # --- metric filters ----------------------------------------------------------------------

    def put_metric_filter(self, group_id: int, item: MetricFilter) -> None:
        with self._db.write() as conn:
            _check_group(conn, group_id)
            conn.execute(
                "INSERT INTO metric_filters (group_id, name, pattern, transformations, "
                "creation_time) VALUES (?, ?, ?, ?, ?) ON CONFLICT (group_id, name) DO UPDATE "
                "SET pattern = excluded.pattern, transformations = excluded.transformations",
                (
                    group_id,
                    item.name,
                    item.pattern,
                    orjson.dumps(item.transformations).decode(),
                    item.creation_time,
                ),
            )

    def delete_metric_filter(self, group_id: int, name: str) -> bool:
        with self._db.write() as conn:
            cur = conn.execute(
                "DELETE FROM metric_filters WHERE group_id = ? AND name = ?", (group_id, name)
            )
            return cur.rowcount > 0

    def count_metric_filters(self, group_id: int) -> int:
        row = (
            self._db.read()
            .execute("SELECT count(*) FROM metric_filters WHERE group_id = ?", (group_id,))
            .fetchone()
        )
        return row[0]

    def metric_filters(
        self,
        group_name: str | None,
        prefix: str | None,
        metric: tuple[str, str] | None,
        after: tuple[str, str] | list[str] | None,
        limit: int,
    ) -> list[MetricFilter]:
        sql = (
            "SELECT g.name, f.name, f.pattern, f.transformations, f.creation_time "
            "FROM metric_filters f JOIN log_groups g ON g.id = f.group_id WHERE 1"
        )
        args: list[Any] = []
        if group_name is not None:
            sql += " AND g.name = ?"
            args.append(group_name)
        if prefix:
            sql += " AND substr(f.name, 1, ?) = ?"
            args += [len(prefix), prefix]
        if after is not None:
            sql += " AND (f.name, g.name) > (?, ?)"
            args += list(after)
        sql += " ORDER BY f.name, g.name"
        rows = self._db.read().execute(sql, args)
        found: list[MetricFilter] = []
        for group, name, pattern, transformations, created in rows:
            parsed = orjson.loads(transformations)
            if metric is not None and not any(
                (t.get("metricName"), t.get("metricNamespace")) == metric for t in parsed
            ):
                continue
            found.append(MetricFilter(group, name, pattern, parsed, created))
            if len(found) == limit:
                break
        return found

    # --- subscription filters ----------------------------------------------------------------

    def put_subscription_filter(self, item: SubscriptionFilter) -> None:
        """Create or replace; a new filter's cursor starts at the end of the event log."""
        with self._db.write() as conn:
            _check_group(conn, item.group_id)
            conn.execute(
                "INSERT INTO subscription_filters (group_id, name, pattern, destination_arn, "
                "role_arn, distribution, creation_time, options) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (group_id, name) DO UPDATE SET pattern = excluded.pattern, "
                "destination_arn = excluded.destination_arn, role_arn = excluded.role_arn, "
                "distribution = excluded.distribution, options = excluded.options",
                (
                    item.group_id,
                    item.name,
                    item.pattern,
                    item.destination_arn,
                    item.role_arn,
                    item.distribution,
                    item.creation_time,
                    orjson.dumps(item.options).decode(),
                ),
            )
            conn.execute(
                "INSERT OR IGNORE INTO cursors (consumer, seq) VALUES (?, ?)",
                (item.consumer, _end_of_log(conn)),
            )

    def delete_subscription_filter(self, group_id: int, name: str) -> bool:
        with self._db.write() as conn:
            cur = conn.execute(
                "DELETE FROM subscription_filters WHERE group_id = ? AND name = ?",
                (group_id, name),
            )
            conn.execute(
                "DELETE FROM cursors WHERE consumer = ?", (subscription_consumer(group_id, name),)
            )
            return cur.rowcount > 0

    def subscription_filters(
        self, group_id: int | None, prefix: str | None = None, after: str | None = None,
        limit: int = -1,
    ) -> list[SubscriptionFilter]:  # fmt: skip
        """A group's filters (every group's when ``group_id`` is None), by group then name."""
        sql = (
            "SELECT f.group_id, g.name, f.name, f.pattern, f.destination_arn, f.role_arn, "
            "f.distribution, f.creation_time, f.options "
            "FROM subscription_filters f JOIN log_groups g ON g.id = f.group_id WHERE 1"
        )
        args: list[Any] = []
        if group_id is not None:
            sql += " AND f.group_id = ?"
            args.append(group_id)
        if prefix:
            sql += " AND substr(f.name, 1, ?) = ?"
            args += [len(prefix), prefix]
        if after is not None:
            sql += " AND f.name > ?"
            args.append(after)
        sql += " ORDER BY g.name, f.name LIMIT ?"
        args.append(limit)
        return [
            SubscriptionFilter(*row[:8], orjson.loads(row[8]))
            for row in self._db.read().execute(sql, args)
        ]
