"""Resource tags in a store's SQLite file: one table per kind of resource, keyed by its id."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence

from .database import Connections
from .protocols import Deleted

__all__ = ["TagTable"]


class TagTable:
    """The tags of one kind of resource: ``(owner, key, value)`` rows of ``table``, whose
    primary key is ``(owner, key)``. With ``owners`` (the resources' table, keyed by ``id``),
    a change to a resource deleted since its lookup raises ``Deleted`` instead of leaving
    tags behind."""

    def __init__(self, db: Connections, table: str, owner: str, owners: str | None = None) -> None:
        self._db = db
        self._exists = f"SELECT 1 FROM {owners} WHERE id = ?" if owners else None
        self._select = f"SELECT key, value FROM {table} WHERE {owner} = ? ORDER BY key"
        self._upsert = (
            f"INSERT INTO {table} ({owner}, key, value) VALUES (?, ?, ?) "
            f"ON CONFLICT ({owner}, key) DO UPDATE SET value = excluded.value"
        )
        self._delete = f"DELETE FROM {table} WHERE {owner} = ? AND key = ?"

    def get(self, owner_id: int) -> dict[str, str]:
        """The resource's tags, by key."""
        return dict(self._db.read().execute(self._select, (owner_id,)).fetchall())

    def set(self, owner_id: int, tags: Mapping[str, str]) -> None:
        """Add ``tags``, replacing the values of keys the resource already has."""
        with self._db.write() as conn:
            self._check(conn, owner_id)
            self.write(conn, owner_id, tags)

    def _check(self, conn: sqlite3.Connection, owner_id: int) -> None:
        if self._exists and conn.execute(self._exists, (owner_id,)).fetchone() is None:
            raise Deleted("group")

    def write(self, conn: sqlite3.Connection, owner_id: int, tags: Mapping[str, str]) -> None:
        """``set`` inside the caller's transaction (a resource created with its tags)."""
        conn.executemany(self._upsert, [(owner_id, k, v) for k, v in tags.items()])

    def remove(self, owner_id: int, keys: Sequence[str]) -> None:
        """Remove the tags with these keys; keys the resource lacks are ignored."""
        with self._db.write() as conn:
            self._check(conn, owner_id)
            conn.executemany(self._delete, [(owner_id, k) for k in keys])
