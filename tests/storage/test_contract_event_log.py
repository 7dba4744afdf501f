"""The ``EventLog`` contract: sequence numbers, cursors, consumer state, bounds, retention.

Every test runs on each engine (``conftest.py``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from logsieve.storage import LogsStore
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


def test_chunk_size_limit(store: LogsStore) -> None:
    g = store.create_group("/g", 0, None, "STANDARD")
    s = store.create_stream(g.id, "s", 0)
    with pytest.raises(ValueError):
        put(store, g.id, s.id, [(1, "x")] * 20_000, 0)


def test_consumer_values_are_kept_per_consumer_and_key(store: LogsStore) -> None:
    assert store.consumer_value("alert:a", "activated") is None
    store.set_consumer_value("alert:a", "activated", 1_000)
    store.set_consumer_value("alert:b", "activated", 2_000)
    store.set_consumer_value("alert:a", "other", 3)
    assert store.consumer_value("alert:a", "activated") == 1_000
    assert store.consumer_value("alert:b", "activated") == 2_000
    store.set_consumer_value("alert:a", "activated", 1_500)
    assert store.consumer_value("alert:a", "activated") == 1_500
    assert store.cursor("alert:a") == 0  # a value is not a cursor


def test_consumer_values_and_cursors_survive_reopening(stores: Stores) -> None:
    store = stores.logs()
    store.set_consumer_value("alert:a", "activated", 1_000)
    store.commit_cursor("alert:a", 42)
    store.close()
    again = stores.logs()
    try:
        assert again.consumer_value("alert:a", "activated") == 1_000
        assert again.cursor("alert:a") == 42
    finally:
        again.close()
