"""Schema changes applied when a store opens a data directory written by an older version.

Each step checks whether it is needed, so opening is idempotent, and runs in one transaction,
so a crash half way leaves the old schema intact for the next start to migrate again.
"""

from __future__ import annotations

import logging
import re
import sqlite3

__all__ = ["ACTIVATED", "move_activation_times", "never_reuse_ids"]

log = logging.getLogger("logsieve.storage")

_ROWID_KEY = re.compile(r"\bid\s+INTEGER\s+PRIMARY\s+KEY\b(?!\s+AUTOINCREMENT)", re.IGNORECASE)


def never_reuse_ids(conn: sqlite3.Connection, table: str, floor: str) -> bool:
    """Make ``table``'s ``id INTEGER PRIMARY KEY`` an AUTOINCREMENT key, keeping every row
    and id; returns whether the table was rebuilt.

    A plain rowid key hands out max(id) + 1, so deleting the newest row frees its id for the
    next insert, and anything still filed under that id (an event appended while the row was
    deleted) would then belong to the newcomer. SQLite cannot add AUTOINCREMENT to a table, so
    the table is copied into a new one that has it. ``floor`` is a query for the highest id
    ever used (rows elsewhere may still name ids deleted from ``table``); new ids start above
    it. Run inside the caller's write transaction.
    """
    row = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    if row is None or not _ROWID_KEY.search(row[0]):
        return False
    columns = ", ".join(r[1] for r in conn.execute(f"PRAGMA table_info({table})"))
    staging = f"{table}_autoincrement"
    create = _ROWID_KEY.sub("id INTEGER PRIMARY KEY AUTOINCREMENT", row[0], count=1)
    create = create.replace(table, staging, 1)  # "CREATE TABLE <table> (" as SQLite stores it
    conn.execute(f"DROP TABLE IF EXISTS {staging}")
    conn.execute(create)
    conn.execute(f"INSERT INTO {staging} ({columns}) SELECT {columns} FROM {table}")
    conn.execute(f"DROP TABLE {table}")
    conn.execute(f"ALTER TABLE {staging} RENAME TO {table}")
    highest = conn.execute(floor).fetchone()[0] or 0
    conn.execute("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
    conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, highest))
    log.info("migrated table=%s ids=autoincrement next_id=%d", table, highest + 1)
    return True


ACTIVATED = "activated"  # the consumer_state key of a standing subscription's activation time
_OLD_ACTIVATED_PREFIX = "standing-activated/"  # how versions before consumer_state kept it


def move_activation_times(conn: sqlite3.Connection) -> int:
    """Move standing subscriptions' activation times from the cursor table, where versions
    before ``consumer_state`` kept them as fake cursors (``standing-activated/<name>``), to
    ``consumer_state``; returns how many moved. A value already in ``consumer_state`` wins.
    Run inside the caller's write transaction."""
    size = len(_OLD_ACTIVATED_PREFIX)
    where = "substr(consumer, 1, ?) = ?"
    conn.execute(
        "INSERT OR IGNORE INTO consumer_state (consumer, key, value) "
        f"SELECT substr(consumer, ?), ?, seq FROM cursors WHERE {where}",
        (size + 1, ACTIVATED, size, _OLD_ACTIVATED_PREFIX),
    )
    moved = conn.execute(f"DELETE FROM cursors WHERE {where}", (size, _OLD_ACTIVATED_PREFIX))
    if moved.rowcount:
        log.info("migrated activation_times=%d to=consumer_state", moved.rowcount)
    return moved.rowcount
