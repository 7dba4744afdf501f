"""``Leases`` on the SQLite engine: one process, so the leases live in memory.

A SQLite server is the only process on its data directory (``datadir.claim`` locks it), so
every lease it asks for is granted to it; the table still records holders and expiry
honestly, so the same ownership code runs on both engines. In memory on purpose: a lease
never outlives its process, and a restarted server (a new node id) must not wait out the
leases of its previous run.

Tokens come from a one-row counter that is never deleted, so they never go back, even after
``sweep`` deleted the rows of long-expired (or released: ``expires_ms`` 0) leases.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from .database import connect, transaction
from .leases import Lease

__all__ = ["SqliteLeases"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY, node TEXT NOT NULL, token INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lease_tokens (
    id INTEGER PRIMARY KEY CHECK (id = 0), last INTEGER NOT NULL
);
INSERT OR IGNORE INTO lease_tokens (id, last) VALUES (0, 0);
"""


def _now_ms() -> int:
    return int(time.time() * 1000)


class SqliteLeases:
    """Leases of one process, in a private in-memory database."""

    shared = False

    def __init__(self) -> None:
        self._db = connect(":memory:", schema=_SCHEMA)
        self._lock = threading.Lock()

    def _row(self, name: str) -> Lease | None:
        row = self._db.execute(
            "SELECT name, node, token, expires_ms FROM leases WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else Lease(*row)

    def _write(self, name: str, node: str, ttl_ms: int) -> Lease:
        (token,) = self._db.execute(
            "UPDATE lease_tokens SET last = last + 1 RETURNING last"
        ).fetchone()
        lease = Lease(name, node, token, _now_ms() + ttl_ms)
        self._db.execute(
            "INSERT OR REPLACE INTO leases (name, node, token, expires_ms) VALUES (?, ?, ?, ?)",
            (lease.name, lease.node, lease.token, lease.expires_ms),
        )
        return lease

    def acquire(self, name: str, node: str, ttl_ms: int) -> Lease | None:
        with self._lock, transaction(self._db):
            current = self._row(name)
            if current is not None and current.node != node and current.expires_ms > _now_ms():
                return None
            return self._write(name, node, ttl_ms)

    def _renew(self, lease: Lease, ttl_ms: int) -> Lease | None:
        current = self._row(lease.name)
        if current != lease or current.expires_ms <= _now_ms():
            return None
        return self._write(lease.name, lease.node, ttl_ms)

    def renew(self, lease: Lease, ttl_ms: int) -> Lease | None:
        return self.renew_many([lease], ttl_ms)[0]

    def renew_many(self, leases: Sequence[Lease], ttl_ms: int) -> list[Lease | None]:
        with self._lock, transaction(self._db):
            return [self._renew(lease, ttl_ms) for lease in leases]

    def release(self, lease: Lease) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE leases SET expires_ms = 0 WHERE name = ? AND token = ?",
                (lease.name, lease.token),
            )

    def valid(self, lease: Lease) -> bool:
        with self._lock:
            current = self._row(lease.name)
        return current == lease and current.expires_ms > _now_ms()

    def held(self, prefix: str = "") -> list[Lease]:
        with self._lock:
            rows = self._db.execute(
                "SELECT name, node, token, expires_ms FROM leases "
                "WHERE expires_ms > ? AND substr(name, 1, ?) = ? ORDER BY name",
                (_now_ms(), len(prefix), prefix),
            ).fetchall()
        return [Lease(*row) for row in rows]

    def sweep(self, older_than_ms: int) -> int:
        with self._lock, transaction(self._db):
            return self._db.execute(
                "DELETE FROM leases WHERE expires_ms < ?", (_now_ms() - older_than_ms,)
            ).rowcount

    def close(self) -> None:
        self._db.close()
