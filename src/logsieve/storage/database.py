"""Opening the SQLite files in the data directory, all the same way.

Every store keeps its own file (``logsieve.db``, ``kinesis.db``, ``sns.db``,
``dead-letters.db``, ``outbox.db``, ``alerts.db``) so that their writes never wait on one
another, and opens it like this: autocommit (each store writes explicit ``BEGIN`` ...
``COMMIT`` transactions), shareable between threads (each store serialises its own use), WAL so
readers never block the writer, ``synchronous=FULL`` so a commit is on disk before it returns,
and a busy timeout for the moments another connection holds the write lock.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["connect"]

_MEMORY = ":memory:"  # a private in-memory database (dry runs): no file, no WAL


def connect(
    path: Path | str, *, schema: str | None = None, cache_mb: int | None = None
) -> sqlite3.Connection:
    """A connection to ``path`` (created with its parent directory if missing), with
    ``schema`` (idempotent DDL) applied when given."""
    memory = str(path) == _MEMORY
    if not memory:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    if not memory:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=10000")
    if cache_mb is not None:
        conn.execute(f"PRAGMA cache_size=-{cache_mb * 1024}")
    if schema is not None:
        conn.executescript(schema)
    return conn
