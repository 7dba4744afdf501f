"""The shared way every store opens its SQLite file and writes to it."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from logsieve.storage.database import Connections, connect, transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS parents (id INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS children (
    id INTEGER PRIMARY KEY,
    parent INTEGER REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED
);
"""


def test_transaction_commits_the_block(tmp_path: Path) -> None:
    conn = connect(tmp_path / "db", schema=_SCHEMA)
    with transaction(conn):
        conn.execute("INSERT INTO parents (id) VALUES (1)")
        conn.execute("INSERT INTO parents (id) VALUES (2)")
    other = connect(tmp_path / "db")
    assert other.execute("SELECT count(*) FROM parents").fetchone() == (2,)


def test_transaction_rolls_back_when_the_block_raises(tmp_path: Path) -> None:
    conn = connect(tmp_path / "db", schema=_SCHEMA)
    with pytest.raises(KeyError), transaction(conn):
        conn.execute("INSERT INTO parents (id) VALUES (1)")
        raise KeyError("boom")
    assert not conn.in_transaction
    assert conn.execute("SELECT count(*) FROM parents").fetchone() == (0,)


def test_transaction_rolls_back_when_the_commit_fails(tmp_path: Path) -> None:
    """A deferred foreign key fails at COMMIT, which leaves the transaction open: without the
    rollback the connection could never begin another one."""
    conn = connect(tmp_path / "db", schema=_SCHEMA)
    conn.execute("PRAGMA foreign_keys=ON")
    with pytest.raises(sqlite3.IntegrityError), transaction(conn):
        conn.execute("INSERT INTO children (id, parent) VALUES (1, 99)")
    assert not conn.in_transaction
    with transaction(conn):
        conn.execute("INSERT INTO parents (id) VALUES (99)")
    assert conn.execute("SELECT count(*) FROM children").fetchone() == (0,)


def test_connections_give_each_thread_its_own_reader(tmp_path: Path) -> None:
    db = Connections(tmp_path / "db", schema=_SCHEMA)
    with db.write() as conn:
        conn.execute("INSERT INTO parents (id) VALUES (1)")
    mine = db.read()
    assert db.read() is mine
    theirs: list[sqlite3.Connection] = []
    worker = threading.Thread(target=lambda: theirs.append(db.read()))
    worker.start()
    worker.join()
    assert theirs[0] is not mine
    assert theirs[0].execute("SELECT id FROM parents").fetchall() == [(1,)]
    db.close()
    with pytest.raises(sqlite3.ProgrammingError):
        theirs[0].execute("SELECT 1")
    assert not (tmp_path / "db-wal").exists() or (tmp_path / "db-wal").stat().st_size == 0


def test_database_files_are_created_and_tightened_to_0600(tmp_path: Path) -> None:
    """With a umask of 022, SQLite alone makes 0644 files; a database left like that by an
    earlier version is tightened, its -wal and -shm files too, and new ones start at 0600."""
    old_umask = os.umask(0o022)
    try:
        loose = tmp_path / "old.db"
        holder = sqlite3.connect(loose, isolation_level=None)  # keeps -wal and -shm alive
        holder.execute("PRAGMA journal_mode=WAL")
        holder.execute("CREATE TABLE t (x)")
        holder.execute("INSERT INTO t VALUES (1)")
        files = [loose, tmp_path / "old.db-wal", tmp_path / "old.db-shm"]
        assert {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o644}
        tightened = connect(loose)
        fresh = connect(tmp_path / "new" / "fresh.db", schema="CREATE TABLE t (x);")
        fresh.execute("INSERT INTO t VALUES (1)")
        files += [tmp_path / "new" / f"fresh.db{suffix}" for suffix in ("", "-wal", "-shm")]
        assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {
            p.name: "0o600" for p in files
        }
        assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
        for conn in (tightened, fresh, holder):
            conn.close()
    finally:
        os.umask(old_umask)
