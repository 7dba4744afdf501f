"""``OutboxStore`` on its own SQLite file (``outbox.db`` in the data directory).

Same durability recipe as the other stores (WAL, ``synchronous=FULL``): an item enqueued is on
disk when ``enqueue`` returns. One connection behind one lock, shared by producers (any
thread) and the scheduler's database thread. Fair scheduling is one query per pass: the
pending items of a kind that are due, minus those behind a waiting item of their destination
and those of destinations already at their quota.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .database import connect, transaction
from .outbox import (
    PENDING,
    Entry,
    FailingDestination,
    KindCounters,
    OutboxCounts,
    QueuedItem,
)

__all__ = ["SqliteOutboxStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    key TEXT,
    payload BLOB,                   -- NULL once sent (only the key is kept, for idempotency)
    state TEXT NOT NULL,            -- pending | sent | given_up
    created REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    first_attempt REAL,             -- the give-up window starts here, not at enqueue
    next_attempt REAL NOT NULL,
    last_error TEXT,
    finished REAL,                  -- when sent or given up
    dest TEXT NOT NULL DEFAULT ''   -- the destination (endpoint, address): scheduled fairly
);
CREATE UNIQUE INDEX IF NOT EXISTS outbox_items_key ON outbox_items (kind, key)
    WHERE key IS NOT NULL;
CREATE INDEX IF NOT EXISTS outbox_items_pending ON outbox_items (kind, id)
    WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS outbox_items_finished ON outbox_items (state, finished);
CREATE TABLE IF NOT EXISTS outbox_kinds (
    kind TEXT PRIMARY KEY,
    sent INTEGER NOT NULL DEFAULT 0,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_error_time REAL
);
CREATE TABLE IF NOT EXISTS outbox_destinations (
    kind TEXT NOT NULL,
    dest TEXT NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_error_time REAL,
    last_sent_time REAL,
    PRIMARY KEY (kind, dest)
);
"""
# After the migration of files written before destinations existed (no ``dest`` column).
_DEST_INDEXES = """
CREATE INDEX IF NOT EXISTS outbox_items_waiting ON outbox_items (kind, next_attempt)
    WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS outbox_items_dest ON outbox_items (kind, dest, id)
    WHERE state = 'pending';
"""

_ENSURE_KIND = "INSERT OR IGNORE INTO outbox_kinds (kind) VALUES (?)"
_ENSURE_DEST = "INSERT OR IGNORE INTO outbox_destinations (kind, dest) VALUES (?, ?)"

Statements = list[tuple[str, tuple[Any, ...]]]


class SqliteOutboxStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db = connect(self.path, schema=_SCHEMA)
        _migrate(self._db)
        self._lock = threading.Lock()
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the outbox is closed")

    def enqueue(self, entries: Sequence[Entry], now: float) -> list[str]:
        rows = [
            (kind, key, payload, PENDING, now, now, dest) for kind, payload, key, dest in entries
        ]
        with self._lock:
            self._check_open()
            with transaction(self._db):
                return [
                    row[0]
                    for row in rows
                    if self._db.execute(
                        "INSERT OR IGNORE INTO outbox_items (kind, key, payload, state, created, "
                        "next_attempt, dest) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        row,
                    ).rowcount
                ]

    def ready(
        self,
        kind: str,
        now: float,
        busy: Mapping[str, int],
        per_destination: int,
        inflight: Sequence[int],
        free: int,
    ) -> tuple[list[QueuedItem], float | None]:
        """A destination whose quota fills is left out of the next query, so a long queue for
        one destination costs one pass, never a stall of the others."""
        busy = dict(busy)
        chosen: list[QueuedItem] = []
        with self._lock:
            while len(chosen) < free:
                full = [dest for dest, count in busy.items() if count >= per_destination]
                taken = list(inflight) + [item.id for item in chosen]
                limit = free - len(chosen)
                found = self._db.execute(
                    "WITH waiting (dest, first) AS (SELECT dest, MIN(id) FROM outbox_items "
                    "  WHERE kind = ?1 AND state = 'pending' AND next_attempt > ?2 GROUP BY dest) "
                    "SELECT o.id, o.dest, o.payload, o.attempts, o.first_attempt, o.next_attempt "
                    "FROM outbox_items o LEFT JOIN waiting w ON w.dest = o.dest "
                    "WHERE o.kind = ?1 AND o.state = 'pending' AND o.next_attempt <= ?2 "
                    "AND (w.first IS NULL OR o.id < w.first) "
                    "AND o.dest NOT IN (SELECT value FROM json_each(?3)) "
                    "AND o.id NOT IN (SELECT value FROM json_each(?4)) "
                    "ORDER BY o.id LIMIT ?5",
                    (kind, now, json.dumps(full), json.dumps(taken), limit),
                ).fetchall()
                progress = False
                for entry in found:
                    item = QueuedItem(*entry)
                    if busy.get(item.dest, 0) >= per_destination:
                        continue
                    busy[item.dest] = busy.get(item.dest, 0) + 1
                    chosen.append(item)
                    progress = True
                    if len(chosen) >= free:
                        break
                if len(found) < limit or not progress:  # no more candidates
                    break
            due = self._db.execute(
                "SELECT MIN(next_attempt) FROM outbox_items "
                "WHERE kind = ? AND state = 'pending' AND next_attempt > ?",
                (kind, now),
            ).fetchone()[0]
        return chosen, due

    def _write(self, statements: Statements) -> None:
        """Run statements as one transaction (one fsync)."""
        with self._lock, transaction(self._db):
            for sql, params in statements:
                self._db.execute(sql, params)

    def mark_sent(self, kind: str, dest: str, item_id: int, now: float) -> None:
        self._write(
            [
                # Keyless items are forgotten at once; keyed ones keep their key (not payload).
                ("DELETE FROM outbox_items WHERE id = ? AND key IS NULL", (item_id,)),
                (
                    "UPDATE outbox_items SET state = 'sent', payload = NULL, finished = ?, "
                    "attempts = attempts + 1 WHERE id = ?",
                    (now, item_id),
                ),
                (_ENSURE_KIND, (kind,)),
                ("UPDATE outbox_kinds SET sent = sent + 1 WHERE kind = ?", (kind,)),
                (_ENSURE_DEST, (kind, dest)),
                (
                    "UPDATE outbox_destinations SET sent = sent + 1, last_sent_time = ? "
                    "WHERE kind = ? AND dest = ?",
                    (now, kind, dest),
                ),
            ]
        )

    def mark_failed(
        self,
        kind: str,
        dest: str,
        item_id: int,
        first: float,
        next_attempt: float,
        message: str,
        now: float,
    ) -> None:
        self._write(
            [
                (
                    "UPDATE outbox_items SET attempts = attempts + 1, first_attempt = ?, "
                    "next_attempt = ?, last_error = ? WHERE id = ?",
                    (first, next_attempt, message, item_id),
                ),
                *_failed_statements(kind, dest, message, now),
            ]
        )

    def mark_given_up(
        self,
        kind: str,
        dest: str,
        item_id: int,
        first: float,
        message: str,
        now: float,
        window: float | None,
    ) -> None:
        statements: Statements = [
            (
                "UPDATE outbox_items SET state = 'given_up', attempts = attempts + 1, "
                "first_attempt = ?, last_error = ?, finished = ? WHERE id = ?",
                (first, message, now, item_id),
            ),
            *_failed_statements(kind, dest, message, now),
        ]
        if window is not None:
            statements.append(
                (
                    "UPDATE outbox_items SET state = 'given_up', last_error = ?, finished = ? "
                    "WHERE kind = ? AND dest = ? AND state = 'pending' AND created <= ?",
                    (f"{message} (its destination failed for its whole retry window)", now,
                     kind, dest, now - window),
                )
            )  # fmt: skip
        self._write(statements)

    def pending_kinds(self) -> list[str]:
        with self._lock:
            return [
                kind
                for (kind,) in self._db.execute(
                    "SELECT DISTINCT kind FROM outbox_items WHERE state = 'pending'"
                )
            ]

    def prune(self, cutoff: float) -> None:
        with self._lock:
            self._db.execute(
                "DELETE FROM outbox_items WHERE state = 'sent' AND finished < ?", (cutoff,)
            )
            # Destinations (endpoints, addresses) come and go: forget the idle ones' counters.
            self._db.execute(
                "DELETE FROM outbox_destinations WHERE MAX(COALESCE(last_sent_time, 0), "
                "COALESCE(last_error_time, 0)) < ? AND NOT EXISTS (SELECT 1 FROM outbox_items i "
                "WHERE i.kind = outbox_destinations.kind AND i.dest = outbox_destinations.dest "
                "AND i.state = 'pending')",
                (cutoff,),
            )

    def change_marker(self) -> int:
        with self._lock:
            return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def counts(self) -> OutboxCounts:
        with self._lock:
            self._check_open()
            states = self._db.execute(
                "SELECT kind, state, COUNT(*), MIN(created) FROM outbox_items "
                "WHERE state != 'sent' GROUP BY kind, state"
            ).fetchall()
            kinds = self._db.execute(
                "SELECT kind, sent, failed_attempts, last_error, last_error_time FROM outbox_kinds"
            ).fetchall()
            last_sent = dict(
                self._db.execute(
                    "SELECT kind, MAX(last_sent_time) FROM outbox_destinations GROUP BY kind"
                ).fetchall()
            )
            failing = self._db.execute(
                "SELECT d.kind, d.dest, d.failed_attempts, d.last_error, d.last_error_time, "
                "(SELECT COUNT(*) FROM outbox_items i WHERE i.kind = d.kind AND i.dest = d.dest "
                " AND i.state = 'pending') AS pending "
                "FROM outbox_destinations d WHERE d.last_error_time IS NOT NULL "
                "AND d.last_error_time > COALESCE(d.last_sent_time, 0) AND pending > 0 "
                "ORDER BY d.last_error_time DESC"
            ).fetchall()
        return OutboxCounts(
            states=[tuple(row) for row in states],
            kinds=[KindCounters(*row) for row in kinds],
            last_sent=last_sent,
            failing=[FailingDestination(*row) for row in failing],
        )

    def pending_entries(self) -> list[tuple[int, Entry]]:
        with self._lock:
            self._check_open()
            rows = self._db.execute(
                "SELECT id, kind, payload, key, dest FROM outbox_items WHERE state = 'pending' "
                "ORDER BY id"
            ).fetchall()
        return [(row[0], (row[1], bytes(row[2]), row[3], row[4])) for row in rows]

    def failures(self, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            self._check_open()
            found = self._db.execute(
                "SELECT id, kind, key, payload, attempts, last_error, created, first_attempt, "
                "finished FROM outbox_items WHERE state = 'given_up' "
                "ORDER BY finished DESC, id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        names = (
            "id", "kind", "key", "payload", "attempts", "error", "created", "first_attempt",
            "given_up_at",
        )  # fmt: skip
        return [dict(zip(names, entry, strict=True)) for entry in found]

    def redrive(self, ids: Iterable[int] | None, kind: str | None, now: float) -> int:
        sql = (
            "UPDATE outbox_items SET state = 'pending', attempts = 0, first_attempt = NULL, "
            "next_attempt = ?, finished = NULL WHERE state = 'given_up'"
        )
        params: list[Any] = [now]
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        with self._lock:
            self._check_open()
            if ids is None:
                return int(self._db.execute(sql, params).rowcount)
            with transaction(self._db):
                return sum(
                    self._db.execute(sql + " AND id = ?", [*params, item_id]).rowcount
                    for item_id in ids
                )

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._db.close()


def _failed_statements(kind: str, dest: str, message: str, now: float) -> Statements:
    return [
        (_ENSURE_KIND, (kind,)),
        (
            "UPDATE outbox_kinds SET failed_attempts = failed_attempts + 1, last_error = ?, "
            "last_error_time = ? WHERE kind = ?",
            (message, now, kind),
        ),
        (_ENSURE_DEST, (kind, dest)),
        (
            "UPDATE outbox_destinations SET failed_attempts = failed_attempts + 1, "
            "last_error = ?, last_error_time = ? WHERE kind = ? AND dest = ?",
            (message, now, kind, dest),
        ),
    ]


def _migrate(db: sqlite3.Connection) -> None:
    """Files written before destinations existed: add the ``dest`` column ("" for old items,
    one destination per kind as before), then the indexes that need it."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(outbox_items)")}
    if "dest" not in columns:
        db.execute("ALTER TABLE outbox_items ADD COLUMN dest TEXT NOT NULL DEFAULT ''")
    db.executescript(_DEST_INDEXES)
