"""Opening a data directory written before group and stream ids were AUTOINCREMENT."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson

from logsieve.storage import SqliteStore
from logsieve.storage import sqlite as sqlite_module

# The schema as earlier versions created it: plain rowid keys, whose ids come back after a
# delete of the newest row.
OLD_SCHEMA = sqlite_module._SCHEMA.replace(
    "id INTEGER PRIMARY KEY AUTOINCREMENT,", "id INTEGER PRIMARY KEY,", 2
)


def chunk(seq: int, group_id: int, stream_id: int, messages: list[str]) -> tuple:
    stamps = list(range(10, 10 + len(messages)))
    payload = orjson.dumps({"t": stamps, "m": messages})
    return (seq, group_id, stream_id, stamps[0], stamps[-1], len(messages), 2, 100, payload)


def test_old_ids_and_event_ids_survive_and_are_never_reused(tmp_path: Path) -> None:
    """An old file with what the old code's races left behind: group 2 and stream 4 deleted
    while an append into stream 4 committed after the delete."""
    assert OLD_SCHEMA.count("AUTOINCREMENT") == 1  # only chunks.seq had it
    path = tmp_path / "logsieve.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(OLD_SCHEMA)
    conn.execute(
        "INSERT INTO log_groups (id, name, creation_time, log_group_class) "
        "VALUES (1, '/kept', 0, 'STANDARD')"
    )
    conn.execute(
        "INSERT INTO log_streams (id, group_id, name, creation_time) "
        "VALUES (1, 1, 'a', 0), (3, 1, 'b', 0)"
    )
    conn.executemany(
        "INSERT INTO chunks (seq, group_id, stream_id, min_ts, max_ts, count, bytes, "
        "ingestion_time, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [chunk(7, 1, 3, ["k1", "k2"]), chunk(8, 2, 4, ["orphan"])],
    )
    conn.execute("INSERT INTO tags (group_id, key, value) VALUES (2, 'left', 'behind')")
    conn.close()

    store = SqliteStore(path)
    try:
        schema = dict(store._db.read().execute("SELECT name, sql FROM sqlite_master").fetchall())
        assert "AUTOINCREMENT" in schema["log_groups"]
        assert "AUTOINCREMENT" in schema["log_streams"]
        assert store.group("/kept").id == 1
        streams = store.streams(1, None, False, False, None, 10)
        assert {s.name: s.id for s in streams} == {"a": 1, "b": 3}
        events = store.stream_events(3, None, None, None, None, 10)
        first = 7 << sqlite_module.SEQ_BITS
        assert [(e[1], e[5]) for e in events] == [(first, "k1"), (first + 1, "k2")]
        assert [e[5] for e in store.read_after(0, 10)] == ["k1", "k2"]  # the orphan is gone
        assert store.tags(2) == {}
        group = store.create_group("/new", 0, None, "STANDARD")
        stream = store.create_stream(group.id, "s", 0)
        assert (group.id, stream.id) == (3, 5)  # above every id ever used, not 2 and 4
        assert store.stream_events(stream.id, None, None, None, None, 10) == []
        assert store.append(group.id, stream.id, [5], ["new"], 3, 0) > first  # seqs go on
    finally:
        store.close()
    again = SqliteStore(path)  # opening a migrated file changes nothing
    try:
        assert again.group("/new").id == 3
        assert [e[5] for e in again.read_after(0, 10)] == ["k1", "k2", "new"]
    finally:
        again.close()
