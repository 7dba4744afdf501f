"""``TopicStore`` on its own SQLite file (``sns.db`` in the data directory).

Same durability recipe as the other stores: WAL journal with ``synchronous=FULL``, so a topic
or subscription acknowledged by the API survives ``kill -9`` the instant after. Writes are rare
and tiny, so one connection behind one lock serves readers and writers alike. Attributes and
tags are JSON text columns: they are read and written whole, never queried.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from .database import connect, transaction
from .topics import SubscriptionRow, TopicRow

__all__ = ["SqliteTopicStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    arn TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    attributes TEXT NOT NULL,
    tags TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    subscriptions_deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS subscriptions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    arn TEXT NOT NULL UNIQUE,
    topic_arn TEXT NOT NULL,
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    owner TEXT NOT NULL,
    attributes TEXT NOT NULL,
    pending INTEGER NOT NULL,
    token TEXT NOT NULL,
    authenticated INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    UNIQUE (topic_arn, protocol, endpoint)
);
CREATE INDEX IF NOT EXISTS subscriptions_by_token ON subscriptions (token);
"""
_TOPIC_COLUMNS = "arn, name, attributes, tags, created_ms, subscriptions_deleted, seq"
_SUB_COLUMNS = (
    "arn, topic_arn, protocol, endpoint, owner, attributes, pending, token, authenticated, "
    "created_ms, seq"
)


def _json(value: Mapping[str, str]) -> str:
    return orjson.dumps(dict(value)).decode("utf-8")


def _topic(row: tuple[Any, ...]) -> TopicRow:
    arn, name, attributes, tags, created_ms, deleted, seq = row
    return TopicRow(
        arn, name, orjson.loads(attributes), orjson.loads(tags), created_ms, deleted, seq
    )


def _subscription(row: tuple[Any, ...]) -> SubscriptionRow:
    arn, topic, protocol, endpoint, owner, attributes, pending, token, auth, created, seq = row
    return SubscriptionRow(
        arn, topic, protocol, endpoint, owner, orjson.loads(attributes), bool(pending), token,
        bool(auth), created, seq,
    )  # fmt: skip


class SqliteTopicStore:
    """``TopicStore`` on a SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = connect(path, schema=_SCHEMA)
        self._lock = threading.Lock()

    # -- helpers -------------------------------------------------------------------------

    def _one(self, sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        with self._lock:
            return self._db.execute(sql, params).fetchone()

    def _all(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- topics --------------------------------------------------------------------------

    def create_topic(self, row: TopicRow) -> tuple[TopicRow, bool]:
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO topics (arn, name, attributes, tags, created_ms) "
                "VALUES (?, ?, ?, ?, ?)",
                (row.arn, row.name, _json(row.attributes), _json(row.tags), row.created_ms),
            )
            created = cursor.rowcount == 1
            found = self._db.execute(
                f"SELECT {_TOPIC_COLUMNS} FROM topics WHERE arn = ?", (row.arn,)
            ).fetchone()
        return _topic(found), created

    def get_topic(self, arn: str) -> TopicRow | None:
        found = self._one(f"SELECT {_TOPIC_COLUMNS} FROM topics WHERE arn = ?", (arn,))
        return None if found is None else _topic(found)

    def list_topics(self, after_seq: int, limit: int) -> Sequence[TopicRow]:
        rows = self._all(
            f"SELECT {_TOPIC_COLUMNS} FROM topics WHERE seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        )
        return [_topic(row) for row in rows]

    def update_topic(
        self,
        arn: str,
        attributes: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> TopicRow | None:
        with self._lock, transaction(self._db):  # both columns or neither, one fsync
            if attributes is not None:
                self._db.execute(
                    "UPDATE topics SET attributes = ? WHERE arn = ?", (_json(attributes), arn)
                )
            if tags is not None:
                self._db.execute("UPDATE topics SET tags = ? WHERE arn = ?", (_json(tags), arn))
            found = self._db.execute(
                f"SELECT {_TOPIC_COLUMNS} FROM topics WHERE arn = ?", (arn,)
            ).fetchone()
        return None if found is None else _topic(found)

    def delete_topic(self, arn: str) -> bool:
        with self._lock, transaction(self._db):
            self._db.execute("DELETE FROM subscriptions WHERE topic_arn = ?", (arn,))
            deleted = self._db.execute("DELETE FROM topics WHERE arn = ?", (arn,)).rowcount
        return deleted == 1

    # -- subscriptions -------------------------------------------------------------------

    def add_subscription(self, row: SubscriptionRow) -> tuple[SubscriptionRow, bool]:
        with self._lock, transaction(self._db):
            topic = self._db.execute(
                "SELECT 1 FROM topics WHERE arn = ?", (row.topic_arn,)
            ).fetchone()
            if topic is None:
                raise ValueError(f"no topic {row.topic_arn}")
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO subscriptions (arn, topic_arn, protocol, endpoint, "
                "owner, attributes, pending, token, authenticated, created_ms) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row.arn, row.topic_arn, row.protocol, row.endpoint, row.owner,
                    _json(row.attributes), int(row.pending), row.token,
                    int(row.authenticated), row.created_ms,
                ),
            )  # fmt: skip
            created = cursor.rowcount == 1
            found = self._db.execute(
                f"SELECT {_SUB_COLUMNS} FROM subscriptions "
                "WHERE topic_arn = ? AND protocol = ? AND endpoint = ?",
                (row.topic_arn, row.protocol, row.endpoint),
            ).fetchone()
        return _subscription(found), created

    def get_subscription(self, arn: str) -> SubscriptionRow | None:
        found = self._one(f"SELECT {_SUB_COLUMNS} FROM subscriptions WHERE arn = ?", (arn,))
        return None if found is None else _subscription(found)

    def subscription_by_token(self, token: str) -> SubscriptionRow | None:
        if not token:
            return None
        found = self._one(f"SELECT {_SUB_COLUMNS} FROM subscriptions WHERE token = ?", (token,))
        return None if found is None else _subscription(found)

    def confirm_subscription(self, arn: str, authenticated: bool) -> SubscriptionRow | None:
        with self._lock:
            self._db.execute(
                "UPDATE subscriptions SET pending = 0, authenticated = MAX(authenticated, ?) "
                "WHERE arn = ?",
                (int(authenticated), arn),
            )
            found = self._db.execute(
                f"SELECT {_SUB_COLUMNS} FROM subscriptions WHERE arn = ?", (arn,)
            ).fetchone()
        return None if found is None else _subscription(found)

    def set_subscription_attributes(
        self, arn: str, attributes: Mapping[str, str]
    ) -> SubscriptionRow | None:
        with self._lock:
            self._db.execute(
                "UPDATE subscriptions SET attributes = ? WHERE arn = ?", (_json(attributes), arn)
            )
            found = self._db.execute(
                f"SELECT {_SUB_COLUMNS} FROM subscriptions WHERE arn = ?", (arn,)
            ).fetchone()
        return None if found is None else _subscription(found)

    def delete_subscription(self, arn: str) -> SubscriptionRow | None:
        with self._lock, transaction(self._db):
            found = self._db.execute(
                f"SELECT {_SUB_COLUMNS} FROM subscriptions WHERE arn = ?", (arn,)
            ).fetchone()
            if found is not None:
                self._db.execute("DELETE FROM subscriptions WHERE arn = ?", (arn,))
                self._db.execute(
                    "UPDATE topics SET subscriptions_deleted = subscriptions_deleted + 1 "
                    "WHERE arn = ?",
                    (found[1],),
                )
        return None if found is None else _subscription(found)

    def list_subscriptions(
        self, topic_arn: str | None, after_seq: int, limit: int
    ) -> Sequence[SubscriptionRow]:
        if topic_arn is None:
            rows = self._all(
                f"SELECT {_SUB_COLUMNS} FROM subscriptions WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            )
        else:
            rows = self._all(
                f"SELECT {_SUB_COLUMNS} FROM subscriptions WHERE topic_arn = ? AND seq > ? "
                "ORDER BY seq LIMIT ?",
                (topic_arn, after_seq, limit),
            )
        return [_subscription(row) for row in rows]

    def topic_subscriptions(self, topic_arn: str) -> Sequence[SubscriptionRow]:
        rows = self._all(
            f"SELECT {_SUB_COLUMNS} FROM subscriptions WHERE topic_arn = ? ORDER BY seq",
            (topic_arn,),
        )
        return [_subscription(row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
