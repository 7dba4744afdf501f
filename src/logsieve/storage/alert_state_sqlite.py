"""``AlertStateStore`` on its own SQLite file (``alerts.db`` in the data directory).

One file, WAL journal, ``synchronous=FULL``: a committed decision survives a crash or power
loss. One connection, no lock: the alert engine serialises its use.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

import orjson

from .alert_state import PendingNotification
from .database import connect, transaction

__all__ = ["SqliteAlertStateStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
    rule TEXT NOT NULL, event_id TEXT NOT NULL, wall INTEGER NOT NULL,
    PRIMARY KEY (rule, event_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS seen_wall ON seen (wall);
CREATE TABLE IF NOT EXISTS dedup (
    rule TEXT NOT NULL, key TEXT NOT NULL, event_ms INTEGER NOT NULL, expires INTEGER NOT NULL,
    PRIMARY KEY (rule, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dedup_expires ON dedup (expires);
CREATE TABLE IF NOT EXISTS windows (
    rule TEXT NOT NULL, kind TEXT NOT NULL, grp TEXT NOT NULL,
    state BLOB NOT NULL, due INTEGER, expires INTEGER NOT NULL,
    PRIMARY KEY (rule, kind, grp)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS windows_due ON windows (due);
CREATE INDEX IF NOT EXISTS windows_expires ON windows (expires);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE, channel TEXT NOT NULL, notification BLOB NOT NULL,
    wall INTEGER NOT NULL
);
"""


class SqliteAlertStateStore:
    """Tables and the few queries the engine needs; ``":memory:"`` for dry runs."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        # autocommit mode: transactions are explicit (BEGIN IMMEDIATE), see transaction()
        self._db = connect(path, schema=_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return transaction(self._db)

    # -- input deduplication (at-least-once delivery) --------------------------------------
    def mark_seen(self, rule: str, event_id: str, wall: int) -> bool:
        """Record the event; False when it was already processed (a redelivery)."""
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO seen (rule, event_id, wall) VALUES (?, ?, ?)",
            (rule, event_id, wall),
        )
        return cursor.rowcount == 1

    # -- dedup keys --------------------------------------------------------------------------
    def dedup_get(self, rule: str, key: str) -> int | None:
        row = self._db.execute(
            "SELECT event_ms FROM dedup WHERE rule = ? AND key = ?", (rule, key)
        ).fetchone()
        return None if row is None else int(row[0])

    def dedup_put(self, rule: str, key: str, event_ms: int, expires: int) -> None:
        """Remember ``key`` (alerted for an event at ``event_ms``) until wall time ``expires``."""
        self._db.execute(
            "INSERT OR REPLACE INTO dedup (rule, key, event_ms, expires) VALUES (?, ?, ?, ?)",
            (rule, key, event_ms, expires),
        )

    # -- windows (digests, thresholds, distinct counts) ---------------------------------------
    def window_get(self, rule: str, kind: str, group: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT state FROM windows WHERE rule = ? AND kind = ? AND grp = ?",
            (rule, kind, group),
        ).fetchone()
        return None if row is None else orjson.loads(row[0])

    def window_put(
        self,
        rule: str,
        kind: str,
        group: str,
        state: dict[str, Any],
        due: int | None,
        expires: int,
    ) -> None:
        """Save a window; ``due``: when the engine must close it (digests), ``expires``: when
        an idle counting window may be forgotten (wall-clock ms)."""
        self._db.execute(
            "INSERT OR REPLACE INTO windows (rule, kind, grp, state, due, expires) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (rule, kind, group, orjson.dumps(state), due, expires),
        )

    def dedup_entries(self) -> list[tuple[str, str, int, int]]:
        rows = self._db.execute("SELECT rule, key, event_ms, expires FROM dedup ORDER BY rule, key")
        return [tuple(row) for row in rows]  # type: ignore[misc]

    def windows(self) -> list[tuple[str, str, str, dict[str, Any], int | None, int]]:
        rows = self._db.execute(
            "SELECT rule, kind, grp, state, due, expires FROM windows ORDER BY rule, kind, grp"
        )
        return [(r[0], r[1], r[2], orjson.loads(r[3]), r[4], r[5]) for r in rows]

    def window_delete(self, rule: str, kind: str, group: str) -> None:
        self._db.execute(
            "DELETE FROM windows WHERE rule = ? AND kind = ? AND grp = ?", (rule, kind, group)
        )

    def windows_due(self, now: int | None) -> list[tuple[str, str, str, dict[str, Any]]]:
        """Windows whose ``due`` time has come (all windows with a due time when now is None)."""
        if now is None:
            rows = self._db.execute(
                "SELECT rule, kind, grp, state FROM windows WHERE due IS NOT NULL "
                "ORDER BY due, rule, kind, grp"
            )
        else:
            rows = self._db.execute(
                "SELECT rule, kind, grp, state FROM windows WHERE due <= ? "
                "ORDER BY due, rule, kind, grp",
                (now,),
            )
        return [(rule, kind, grp, orjson.loads(state)) for rule, kind, grp, state in rows]

    # -- decided notifications -----------------------------------------------------------------
    def outbox_add(self, key: str, channel: str, notification: dict[str, Any], wall: int) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO outbox (key, channel, notification, wall) VALUES (?, ?, ?, ?)",
            (key, channel, orjson.dumps(notification), wall),
        )

    def outbox_pending(self, limit: int = 1000) -> list[PendingNotification]:
        rows = self._db.execute(
            "SELECT seq, key, channel, notification FROM outbox ORDER BY seq LIMIT ?", (limit,)
        )
        return [(seq, key, channel, orjson.loads(body)) for seq, key, channel, body in rows]

    def outbox_done(self, seq: int) -> None:
        self._db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))

    # -- housekeeping ----------------------------------------------------------------------------
    def prune(self, now: int, seen_before: int) -> None:
        """Forget input ids processed before ``seen_before`` and expired dedup keys and idle
        counting windows (wall-clock ms). Digest windows (with a due time) are closed by the
        engine, which sends their follow-up first."""
        with self.transaction():
            self._db.execute("DELETE FROM seen WHERE wall < ?", (seen_before,))
            self._db.execute("DELETE FROM dedup WHERE expires < ?", (now,))
            self._db.execute("DELETE FROM windows WHERE due IS NULL AND expires < ?", (now,))

    def counts(self) -> dict[str, int]:
        """Rows per table, for status output and tests."""
        return {
            table: int(self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in ("seen", "dedup", "windows", "outbox")
        }
