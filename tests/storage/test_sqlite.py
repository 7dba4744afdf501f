"""The event-log contract: sequence numbers, cursors, bounds, retention.

Every test taking ``store`` runs on each engine (``conftest.py``); the WAL test is SQLite's own.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from logsieve.storage import LogsStore, SqliteStore
from logsieve.storage import checkpoint as checkpoint_module
from logsieve.storage.factory import Stores
from logsieve.storage.records import event_id, parse_event_id

DAY = 86_400_000


def put(store: LogsStore, group_id: int, stream_id: int, events, now: int) -> int:
    """Append (timestamp, message) pairs the way the Logs service does."""
    timestamps = [ts for ts, _ in events]
    messages = [m for _, m in events]
    size = sum(len(m.encode()) for m in messages)
    return store.append(group_id, stream_id, timestamps, messages, size, now)


def group_events(store: LogsStore, *args, **kwargs) -> list:
    """``group_windows`` flattened: the events in read order."""
    return list(itertools.chain.from_iterable(store.group_windows(*args, **kwargs)))


@pytest.fixture
def store(stores: Stores) -> Iterator[LogsStore]:
    s = stores.logs()
    yield s
    s.close()


def test_append_sequence_and_read_after(store: LogsStore) -> None:
    g = store.create_group("/g", 0, None, "STANDARD")
    s = store.create_stream(g.id, "s", 0)
    first = put(store, g.id, s.id, [(10, "a"), (11, "b")], 100)
    second = put(store, g.id, s.id, [(5, "c")], 101)
    assert second > first + 1
    seqs = [e[1] for e in store.read_after(0, 10)]
    assert seqs == [first, first + 1, second]
    assert [e[5] for e in store.read_after(first, 10)] == ["b", "c"]
    assert store.read_after(second, 10) == []
    store.commit_cursor("sub", first + 1)
    assert store.cursor("sub") == first + 1 and store.cursor("other") == 0


def test_reads_are_in_time_order_across_batches(store: LogsStore) -> None:
    g = store.create_group("/g", 0, None, "STANDARD")
    a = store.create_stream(g.id, "a", 0)
    b = store.create_stream(g.id, "b", 0)
    put(store, g.id, a.id, [(1, "a1"), (5, "a5")], 0)
    put(store, g.id, b.id, [(2, "b2"), (3, "b3")], 0)
    put(store, g.id, a.id, [(4, "a4")], 0)  # a late batch
    assert [e[5] for e in group_events(store, g.id, None, None, None, None)] == [
        "a1", "b2", "b3", "a4", "a5",
    ]  # fmt: skip
    assert [e[5] for e in group_events(store, g.id, [b.id], None, None, None)] == ["b2", "b3"]
    assert [e[5] for e in group_events(store, g.id, None, 2, 4, None)] == ["b2", "b3", "a4"]
    newest = group_events(store, g.id, None, None, None, None, newest_first=True)
    assert [e[5] for e in newest] == ["a5", "a4", "b3", "b2", "a1"]
    assert [e[5] for e in store.stream_events(a.id, None, 5, None, None, 10)] == ["a1", "a4"]
    assert [e[5] for e in store.stream_events(a.id, None, None, None, None, -2)] == ["a4", "a5"]


def test_positions_resume_exactly(store: LogsStore) -> None:
    g = store.create_group("/g", 0, None, "STANDARD")
    s = store.create_stream(g.id, "s", 0)
    put(store, g.id, s.id, [(7, "x"), (7, "y"), (7, "z")], 0)
    events = list(group_events(store, g.id, None, None, None, None))
    after_first = events[0][:2]
    rest = list(group_events(store, g.id, None, None, None, after_first))
    assert [e[5] for e in rest] == ["y", "z"]
    assert parse_event_id(event_id(*after_first)) == after_first


def test_retention_deletes_whole_expired_chunks(store: LogsStore) -> None:
    g = store.create_group("/g", 0, None, "STANDARD")
    s = store.create_stream(g.id, "s", 0)
    now = 100 * DAY
    put(store, g.id, s.id, [(now - 10 * DAY, "old")], now)
    put(store, g.id, s.id, [(now, "new")], now)
    store.set_retention(g.id, 7)
    assert store.expire(now) == 1
    assert [e[5] for e in group_events(store, g.id, None, None, None, None)] == ["new"]
    assert store.group("/g").stored_bytes == 3
    first = store.read_after(0, 10)[0][1]
    put(store, g.id, s.id, [(now, "later")], now)
    assert store.read_after(first, 10)[0][5] == "later"  # sequence numbers never reused


def test_delete_stream_and_group(store: LogsStore) -> None:
    g = store.create_group("/g", 0, None, "STANDARD")
    s = store.create_stream(g.id, "s", 0)
    put(store, g.id, s.id, [(1, "abc")], 0)
    assert store.create_stream(g.id, "s", 0) is None
    store.delete_stream(s.id)
    assert store.group("/g").stored_bytes == 0
    assert list(group_events(store, g.id, None, None, None, None)) == []
    store.delete_group(g.id)
    assert store.group("/g") is None and store.create_group("/g", 0, None, "STANDARD")


def test_chunk_size_limit(store: LogsStore) -> None:
    g = store.create_group("/g", 0, None, "STANDARD")
    s = store.create_stream(g.id, "s", 0)
    with pytest.raises(ValueError):
        put(store, g.id, s.id, [(1, "x")] * 20_000, 0)


def _wal_generation(wal: Path) -> bytes:
    """The WAL header's checkpoint sequence number: SQLite bumps it each time the WAL restarts."""
    with wal.open("rb") as f:
        return f.read(16)[12:16]


def test_wal_starts_over_under_sustained_appends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Appends that never pause still let the WAL start over: without the checkpoint under the
    write lock it never restarts and grows by everything written. Counting restarts rather than
    bounding the file size keeps the test independent of how fast this machine writes."""
    monkeypatch.setattr(checkpoint_module, "WAL_RESTART_BYTES", 1 << 20)
    monkeypatch.setattr(checkpoint_module, "EVERY_S", 0.05)
    store = SqliteStore(tmp_path / "db.sqlite")
    try:
        g = store.create_group("/g", 0, None, "STANDARD")
        s = store.create_stream(g.id, "s", 0)
        wal = tmp_path / "db.sqlite-wal"
        message = "x" * 2000
        generations = set()
        batches = 0
        while len(generations) < 3:  # the first generation and two restarts
            assert batches < 1000, "200 MB appended back to back and the WAL never restarted"
            put(store, g.id, s.id, [(batches, message)] * 100, batches)
            batches += 1
            generations.add(_wal_generation(wal))
        assert sum(1 for _ in store.read_after(0, 10_000_000)) == batches * 100
    finally:
        store.close()
