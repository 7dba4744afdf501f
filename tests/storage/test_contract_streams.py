"""The ``StreamStore`` contract (Kinesis-compatible streams), for every engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from logsieve.storage.factory import Stores
from logsieve.storage.streams import NewRecord, StreamStore

HOUR = 3_600_000


@pytest.fixture
def store(stores: Stores) -> Iterator[StreamStore]:
    opened = stores.streams()
    yield opened
    opened.close()


def create(store: StreamStore, name: str = "s", shards: int = 2, now: int = 1_000):
    row = store.create_stream(name, shards, "PROVISIONED", now, 24, 1024, {"team": "a"})
    assert row is not None
    return row


def test_streams_are_created_once_and_listed_by_name(store: StreamStore) -> None:
    b = create(store, "b", shards=2)
    create(store, "a", shards=3)
    assert (b.status, b.shard_count, b.retention_hours, b.max_record_kib) == ("ACTIVE", 2, 24, 1024)
    assert store.create_stream("b", 1, "ON_DEMAND", 0, 24, 1024, {}) is None
    assert [row.name for row in store.streams(None, 10)] == ["a", "b"]
    assert [row.name for row in store.streams("a", 10)] == ["b"]
    assert [row.name for row in store.streams(None, 1)] == ["a"]
    assert store.stream("b") == b and store.stream("missing") is None
    assert store.total_shards() == 5
    store.set_retention(b.id, 48)
    assert store.stream("b").retention_hours == 48


def test_appended_records_are_read_per_shard_in_order(store: StreamStore) -> None:
    row = create(store)
    first = store.append(row.id, [NewRecord(0, "k1", b"one"), NewRecord(1, "k2", b"two")], 5)
    second = store.append(row.id, [NewRecord(0, "k3", b"three")], 6)
    assert first is not None and second is not None and first[0] < first[1] < second[0]
    shard0 = store.read(row.id, 0, 0, 0, 10, 1 << 20)
    assert [(r.partition_key, r.data, r.arrival_ms) for r in shard0] == [
        ("k1", b"one", 5), ("k3", b"three", 6),
    ]  # fmt: skip
    assert [r.seq for r in store.read(row.id, 0, shard0[0].seq + 1, 0, 10, 1 << 20)] == second
    assert [r.data for r in store.read(row.id, 0, 0, 6, 10, 1 << 20)] == [b"three"]
    assert len(store.read(row.id, 0, 0, 0, 1, 1 << 20)) == 1
    assert store.first(row.id, 0, 0, 6).data == b"three"
    assert store.first(row.id, 1, first[1] + 1, 0) is None
    assert store.first_arrived(row.id, 0, 6).data == b"three"
    assert store.first_arrived(row.id, 0, 7) is None
    assert store.last_seq(row.id, 0) == second[0] and store.last_seq(row.id, 1) == first[1]


def test_a_read_stops_before_max_bytes_but_returns_at_least_one(store: StreamStore) -> None:
    row = create(store)
    store.append(row.id, [NewRecord(0, "k", b"x" * 10) for _ in range(3)], 5)
    assert len(store.read(row.id, 0, 0, 0, 10, 1)) == 1  # one record, even over the limit
    assert len(store.read(row.id, 0, 0, 0, 10, 22)) == 2  # 11 bytes each with the key


def test_a_deleted_stream_takes_no_records_and_its_records_are_purged(store: StreamStore) -> None:
    row = create(store)
    stored = store.append(row.id, [NewRecord(0, "k", b"old")], 5)
    assert store.delete_stream(row.id) is True
    assert store.delete_stream(row.id) is False  # of concurrent deletes, one wins
    assert store.append(row.id, [NewRecord(0, "k", b"late")], 6) is None
    again = create(store)
    assert again.id != row.id and store.read(again.id, 0, 0, 0, 10, 1 << 20) == []
    assert store.expire(7) == 1
    fresh = store.append(again.id, [NewRecord(0, "k", b"new")], 8)
    assert fresh is not None and fresh[0] > stored[0]  # positions are never reused


def test_retention_deletes_records_older_than_the_stream_keeps(store: StreamStore) -> None:
    row = create(store)
    store.append(row.id, [NewRecord(0, "k", b"old")], 0)
    store.append(row.id, [NewRecord(0, "k", b"new")], 23 * HOUR)
    assert store.expire(24 * HOUR + 1) == 1
    assert [r.data for r in store.read(row.id, 0, 0, 0, 10, 1 << 20)] == [b"new"]


def test_tags_are_kept_per_stream(store: StreamStore) -> None:
    row = create(store)
    assert store.tags(row.id) == {"team": "a"}
    store.set_tags(row.id, {"env": "prod", "team": "b"})
    store.remove_tags(row.id, ["team", "absent"])
    assert store.tags(row.id) == {"env": "prod"}


def test_data_and_the_signing_key_survive_reopening(stores: Stores) -> None:
    first = stores.streams()
    row = create(first)
    first.append(row.id, [NewRecord(1, "k", b"kept")], 5)
    key = first.signing_key()
    assert len(key) >= 16
    first.close()
    again = stores.streams()
    try:
        assert again.signing_key() == key
        assert [r.data for r in again.read(row.id, 1, 0, 0, 10, 1 << 20)] == [b"kept"]
    finally:
        again.close()
