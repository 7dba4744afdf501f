"""Opening the SQLite files in the data directory, all the same way.

Every store keeps its own file (named in ``factory.py``, the one place stores are opened) so
that their writes never wait on one another, and opens it like this: autocommit (each store
writes explicit ``BEGIN`` ... ``COMMIT`` transactions), shareable between threads (each store
serialises its own use), WAL so readers never block the writer, ``synchronous=FULL`` so a commit
is on disk before it returns, and a busy timeout for the moments another connection holds the
write lock. Every file is the owner's alone (0600): SQLite gives the ``-wal`` and ``-shm`` files
the mode of the database file, so creating (or tightening) that one first covers all three,
whatever the process umask. A write that finds the disk full raises ``DiskFull`` (see
``disk.py``) from whichever statement met it, and the directory's disk state records it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .disk import DiskFull, DiskSpace, is_disk_full, space_for

__all__ = ["Connections", "connect", "transaction"]

log = logging.getLogger("logsieve.storage")

_MEMORY = ":memory:"  # a private in-memory database (dry runs): no file, no WAL
_FILE_MODE = 0o600
_SIDECARS = ("-wal", "-shm", "-journal")


def _private_file(path: Path) -> None:
    """Create the database file 0600 before SQLite does (it would use 0644 & ~umask), and take
    group and other access from an existing one and its sidecar files."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, _FILE_MODE)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, _FILE_MODE)
    finally:
        os.close(fd)
    for suffix in _SIDECARS:
        sidecar = path.with_name(path.name + suffix)
        with contextlib.suppress(FileNotFoundError):
            if sidecar.stat().st_mode & 0o077:
                os.chmod(sidecar, _FILE_MODE)


class _Connection(sqlite3.Connection):
    """A connection whose statements raise ``DiskFull`` for a full disk (and say so to the
    directory's ``DiskSpace``); every other error passes unchanged."""

    space: DiskSpace | None = None
    path = ""

    def _run(self, method: Callable[..., sqlite3.Cursor], *args: Any) -> sqlite3.Cursor:
        try:
            return method(*args)
        except sqlite3.Error as error:
            if self.space is None or not is_disk_full(error, self.space.directory):
                raise
            self.space.failed(self.path, error)
            raise DiskFull() from error

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        return self._run(super().execute, sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        return self._run(super().executemany, sql, parameters)

    def executescript(self, script: str, /) -> sqlite3.Cursor:
        return self._run(super().executescript, script)


def connect(
    path: Path | str, *, schema: str | None = None, cache_mb: int | None = None
) -> sqlite3.Connection:
    """A connection to ``path`` (created with its parent directory if missing), with
    ``schema`` (idempotent DDL) applied when given."""
    memory = str(path) == _MEMORY
    if not memory:
        _private_file(Path(path))
    conn = sqlite3.connect(
        str(path), isolation_level=None, check_same_thread=False, factory=_Connection
    )
    if not memory:
        conn.space = space_for(Path(path).parent)
        conn.path = str(path)
    if not memory:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=10000")
    if cache_mb is not None:
        conn.execute(f"PRAGMA cache_size=-{cache_mb * 1024}")
    if schema is not None:
        conn.executescript(schema)
    return conn


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One ``BEGIN IMMEDIATE`` ... ``COMMIT`` (one fsync), rolled back if the block or the
    commit fails. IMMEDIATE takes SQLite's write lock up front, so a busy file makes the
    transaction wait at its start rather than fail half way through."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # a full disk or an I/O error may have rolled it back already
            conn.execute("ROLLBACK")
        raise
    space = getattr(conn, "space", None)
    if space is not None:
        space.check()  # a commit went through: the disk may have room again


class Connections:
    """A store's connections to its file: one writer behind a lock (SQLite takes one writer at
    a time, and queuing on a Python lock is cheaper than its busy-wait) and one reader per
    thread, which WAL lets read beside the writer without blocking it."""

    def __init__(
        self,
        path: Path,
        *,
        schema: str,
        writer_cache_mb: int | None = None,
        reader_cache_mb: int | None = None,
    ) -> None:
        self.path = path
        self.writer = connect(path, schema=schema, cache_mb=writer_cache_mb)
        self.space = space_for(path.parent)  # the disk state every connection here reports to
        self.write_lock = threading.Lock()
        self._reader_cache_mb = reader_cache_mb
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction on the writer connection; committed (fsynced) on exit."""
        with self.write_lock, transaction(self.writer) as conn:
            yield conn

    def read(self) -> sqlite3.Connection:
        """This thread's reader connection, opened on first use."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, cache_mb=self._reader_cache_mb)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection and leave no WAL file behind, if the disk lets us: on a
        full disk the WAL stays, and the next open replays it (nothing is lost)."""
        with self.write_lock:
            with self._readers_lock:
                for conn in self._readers:
                    conn.close()
                self._readers.clear()
            try:
                self.writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as error:
                log.warning("final checkpoint failed: file=%s error=%s; WAL kept", self.path, error)
            self.writer.close()
