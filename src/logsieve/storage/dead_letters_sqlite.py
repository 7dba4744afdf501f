"""``DeadLetters`` on their own SQLite file (``dead-letters.db`` in the data directory).

A file of their own, so recording a failure never waits for the ingestion writer. Each keeps the
gzip'd payload exactly as it would have been delivered, the subscription it belongs to and the
last error, until ``redrive`` delivers it.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from .database import connect
from .records import DeadLetter

__all__ = ["SqliteDeadLetterStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created INTEGER NOT NULL,
    group_name TEXT NOT NULL,
    filter_name TEXT NOT NULL,
    destination_arn TEXT NOT NULL,
    log_stream TEXT NOT NULL,
    event_count INTEGER NOT NULL,
    first_timestamp INTEGER NOT NULL,
    last_timestamp INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    error TEXT NOT NULL,
    data BLOB NOT NULL,
    redriven INTEGER
);
"""
_COLUMNS = (
    "id, created, group_name, filter_name, destination_arn, log_stream, event_count, "
    "first_timestamp, last_timestamp, attempts, error, data, redriven"
)


class SqliteDeadLetterStore:
    """``DeadLetters`` on one SQLite connection behind a lock: writes are rare (a subscription
    giving up) and tiny."""

    def __init__(self, path: Path) -> None:
        self._conn = connect(path, schema=_SCHEMA)
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    def add(self, letter: DeadLetter) -> int:
        """Store ``letter`` (its ``id`` and ``redriven`` are ignored); its new id."""
        with self._locked() as conn:
            cur = conn.execute(
                f"INSERT INTO dead_letters ({_COLUMNS}) VALUES "
                "(NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                (
                    letter.created, letter.group_name, letter.filter_name,
                    letter.destination_arn, letter.log_stream, letter.event_count,
                    letter.first_timestamp, letter.last_timestamp, letter.attempts,
                    letter.error, letter.data,
                ),
            )  # fmt: skip
            return cur.lastrowid or 0

    def get(self, letter_id: int) -> DeadLetter | None:
        with self._locked() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM dead_letters WHERE id = ?", (letter_id,)
            ).fetchone()
        return DeadLetter(*row) if row else None

    def list(self, include_redriven: bool = False, limit: int = 1000) -> list[DeadLetter]:
        where = "" if include_redriven else "WHERE redriven IS NULL"
        with self._locked() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM dead_letters {where} ORDER BY id LIMIT ?", (limit,)
            ).fetchall()
        return [DeadLetter(*row) for row in rows]

    def pending_events(self, group_name: str, filter_name: str) -> int:
        """Events of a subscription still waiting in the dead-letter store."""
        with self._locked() as conn:
            row = conn.execute(
                "SELECT coalesce(sum(event_count), 0) FROM dead_letters "
                "WHERE group_name = ? AND filter_name = ? AND redriven IS NULL",
                (group_name, filter_name),
            ).fetchone()
        return row[0]

    def mark_redriven(self, letter_id: int, now: int) -> None:
        with self._locked() as conn:
            conn.execute("UPDATE dead_letters SET redriven = ? WHERE id = ?", (now, letter_id))

    def record_failure(self, letter_id: int, error: str) -> None:
        with self._locked() as conn:
            conn.execute(
                "UPDATE dead_letters SET attempts = attempts + 1, error = ? WHERE id = ?",
                (error, letter_id),
            )

    def close(self) -> None:
        with self._locked() as conn:
            conn.close()
