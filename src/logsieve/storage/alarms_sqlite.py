"""``AlarmStore`` on its own SQLite file (``alarms.db`` in the data directory).

Alarms are few and rarely written; the evaluation ticker reads them all every 10 seconds.
One writer behind a lock and a reader per thread (``Connections``), WAL with
``synchronous=FULL`` like every store here. Configuration and tags are JSON text columns.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from .alarms import AlarmRow, HistoryRow, StateChange
from .database import Connections

__all__ = ["SqliteAlarmStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alarms (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    config TEXT NOT NULL,
    state_value TEXT NOT NULL,
    state_reason TEXT NOT NULL,
    state_reason_data TEXT,
    state_updated_ms INTEGER NOT NULL,
    state_transitioned_ms INTEGER NOT NULL,
    config_updated_ms INTEGER NOT NULL,
    tags TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alarm_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    alarm_name TEXT NOT NULL,
    alarm_type TEXT NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    item_type TEXT NOT NULL,
    summary TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alarm_history_by_name ON alarm_history (alarm_name, seq);
CREATE TABLE IF NOT EXISTS alarm_actions_recorded (
    key TEXT PRIMARY KEY,
    timestamp_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS alarm_actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS alarm_actions_copied (
    key TEXT PRIMARY KEY
);
"""
_COLUMNS = (
    "name, config, state_value, state_reason, state_reason_data, state_updated_ms, "
    "state_transitioned_ms, config_updated_ms, tags, seq"
)
_HISTORY_COLUMNS = "alarm_name, timestamp_ms, item_type, summary, data, alarm_type, seq"


def _json(value: Mapping[str, Any]) -> str:
    return orjson.dumps(dict(value)).decode("utf-8")


def _alarm(row: tuple[Any, ...]) -> AlarmRow:
    name, config, value, reason, data, updated, transitioned, configured, tags, seq = row
    return AlarmRow(
        name, orjson.loads(config), value, reason, data, updated, transitioned, configured,
        orjson.loads(tags), seq,
    )  # fmt: skip


def _history(row: tuple[Any, ...]) -> HistoryRow:
    name, timestamp, item_type, summary, data, alarm_type, seq = row
    return HistoryRow(name, timestamp, item_type, summary, data, alarm_type, seq)


class SqliteAlarmStore:
    """``AlarmStore`` on a SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = Connections(path, schema=_SCHEMA)

    def _find(self, conn: sqlite3.Connection, name: str) -> AlarmRow | None:
        found = conn.execute(f"SELECT {_COLUMNS} FROM alarms WHERE name = ?", (name,)).fetchone()
        return None if found is None else _alarm(found)

    @staticmethod
    def _record(conn: sqlite3.Connection, history: Sequence[HistoryRow]) -> None:
        conn.executemany(
            "INSERT INTO alarm_history (alarm_name, alarm_type, timestamp_ms, item_type, "
            "summary, data) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (h.alarm_name, h.alarm_type, h.timestamp_ms, h.item_type, h.summary, h.data)
                for h in history
            ],
        )

    def put_alarm(self, row: AlarmRow, history: Sequence[HistoryRow] = ()) -> AlarmRow:
        with self._db.write() as conn:
            old = self._find(conn, row.name)
            if old is None:
                conn.execute(
                    "INSERT INTO alarms (name, config, state_value, state_reason, "
                    "state_reason_data, state_updated_ms, state_transitioned_ms, "
                    "config_updated_ms, tags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        row.name, _json(row.config), row.state_value, row.state_reason,
                        row.state_reason_data, row.state_updated_ms, row.state_transitioned_ms,
                        row.config_updated_ms, _json(row.tags),
                    ),
                )  # fmt: skip
            else:
                conn.execute(  # tags stay: PutMetricAlarm ignores Tags on an update
                    "UPDATE alarms SET config = ?, config_updated_ms = ? WHERE name = ?",
                    (_json(row.config), row.config_updated_ms, row.name),
                )
            self._record(conn, history)
            stored = self._find(conn, row.name)
        assert stored is not None
        return stored

    def get_alarm(self, name: str) -> AlarmRow | None:
        return self._find(self._db.read(), name)

    def list_alarms(
        self, after_name: str | None = None, limit: int | None = None, prefix: str | None = None
    ) -> Sequence[AlarmRow]:
        sql = f"SELECT {_COLUMNS} FROM alarms WHERE name > ?"
        params: list[Any] = [after_name or ""]
        if prefix:
            sql += " AND substr(name, 1, ?) = ?"
            params += [len(prefix), prefix]
        sql += " ORDER BY name"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_alarm(row) for row in self._db.read().execute(sql, params).fetchall()]

    def delete_alarms(self, names: Sequence[str], history: Sequence[HistoryRow] = ()) -> list[str]:
        deleted = []
        with self._db.write() as conn:
            for name in dict.fromkeys(names):
                if conn.execute("DELETE FROM alarms WHERE name = ?", (name,)).rowcount:
                    deleted.append(name)
            self._record(conn, [h for h in history if h.alarm_name in deleted])
        return deleted

    def set_state(
        self, name: str, change: StateChange, history: Sequence[HistoryRow] = ()
    ) -> AlarmRow | None:
        with self._db.write() as conn:
            old = self._find(conn, name)
            if old is None or (
                change.config_updated_ms is not None
                and old.config_updated_ms != change.config_updated_ms
            ):
                return None
            moved = old.state_value != change.state_value
            conn.execute(
                "UPDATE alarms SET state_value = ?, state_reason = ?, state_reason_data = ?, "
                "state_updated_ms = ?, state_transitioned_ms = ? WHERE name = ?",
                (
                    change.state_value,
                    change.state_reason,
                    change.state_reason_data,
                    change.at_ms,
                    change.at_ms if moved else old.state_transitioned_ms,
                    name,
                ),
            )
            self._record(conn, history)
            conn.executemany(
                "INSERT OR IGNORE INTO alarm_actions (key, payload) VALUES (?, ?)",
                [(key, bytes(payload)) for key, payload in change.actions],
            )
            return self._find(conn, name)

    def _update(self, name: str, column: str, value: str) -> AlarmRow | None:
        with self._db.write() as conn:
            conn.execute(f"UPDATE alarms SET {column} = ? WHERE name = ?", (value, name))
            return self._find(conn, name)

    def set_config(self, name: str, config: Mapping[str, Any]) -> AlarmRow | None:
        return self._update(name, "config", _json(config))

    def tag(self, name: str, tags: Mapping[str, str]) -> AlarmRow | None:
        with self._db.write() as conn:
            old = self._find(conn, name)
            if old is None:
                return None
            merged = {**old.tags, **tags}
            conn.execute("UPDATE alarms SET tags = ? WHERE name = ?", (_json(merged), name))
            return self._find(conn, name)

    def untag(self, name: str, keys: Sequence[str]) -> AlarmRow | None:
        with self._db.write() as conn:
            old = self._find(conn, name)
            if old is None:
                return None
            kept = {k: v for k, v in old.tags.items() if k not in set(keys)}
            conn.execute("UPDATE alarms SET tags = ? WHERE name = ?", (_json(kept), name))
            return self._find(conn, name)

    def add_history(self, history: Sequence[HistoryRow], once: str | None = None) -> bool:
        with self._db.write() as conn:
            if once is not None:
                first = conn.execute(
                    "INSERT OR IGNORE INTO alarm_actions_recorded (key, timestamp_ms) "
                    "VALUES (?, ?)",
                    (once, max((h.timestamp_ms for h in history), default=0)),
                ).rowcount
                if not first:
                    return False
            self._record(conn, history)
        return True

    def prune_history(self, before_ms: int) -> int:
        with self._db.write() as conn:
            cursor = conn.execute("DELETE FROM alarm_history WHERE timestamp_ms < ?", (before_ms,))
            conn.execute("DELETE FROM alarm_actions_recorded WHERE timestamp_ms < ?", (before_ms,))
            return int(cursor.rowcount)

    def pending_actions(self, limit: int = 100) -> Sequence[tuple[int, str, bytes]]:
        rows = self._db.read().execute(
            "SELECT id, key, payload FROM alarm_actions ORDER BY id LIMIT ?", (limit,)
        )
        return [(row[0], row[1], bytes(row[2])) for row in rows.fetchall()]

    def actions_done(self, ids: Sequence[int]) -> None:
        with self._db.write() as conn:
            conn.executemany("DELETE FROM alarm_actions WHERE id = ?", [(i,) for i in ids])

    def add_copied_actions(self, actions: Sequence[tuple[str, bytes]]) -> int:
        added = 0
        with self._db.write() as conn:
            for key, payload in actions:
                copied = conn.execute(
                    "INSERT OR IGNORE INTO alarm_actions_copied (key) VALUES (?)", (key,)
                ).rowcount
                if copied:
                    added += conn.execute(
                        "INSERT OR IGNORE INTO alarm_actions (key, payload) VALUES (?, ?)",
                        (key, bytes(payload)),
                    ).rowcount
        return added

    def history(
        self,
        alarm_name: str | None = None,
        item_type: str | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        newest_first: bool = True,
        after_seq: int | None = None,
        limit: int = 100,
    ) -> Sequence[HistoryRow]:
        where, params = ["1"], []  # type: ignore[var-annotated]
        for clause, value in (
            ("alarm_name = ?", alarm_name),
            ("item_type = ?", item_type),
            ("timestamp_ms >= ?", start_ms),
            ("timestamp_ms < ?", end_ms),
            ("seq < ?" if newest_first else "seq > ?", after_seq),
        ):
            if value is not None:
                where.append(clause)
                params.append(value)
        order = "DESC" if newest_first else "ASC"
        sql = (
            f"SELECT {_HISTORY_COLUMNS} FROM alarm_history WHERE {' AND '.join(where)} "
            f"ORDER BY seq {order} LIMIT ?"
        )
        rows = self._db.read().execute(sql, [*params, limit]).fetchall()
        return [_history(row) for row in rows]

    def close(self) -> None:
        self._db.close()
