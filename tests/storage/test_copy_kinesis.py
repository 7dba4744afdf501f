"""storage/copying/kinesis.py from a SQLite directory into each engine: streams keep their
settings and tags, each shard its records in order with their arrival times, once, also when
a run stopped between appends and saving its progress."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from logsieve.storage import copying
from logsieve.storage.copying import kinesis
from logsieve.storage.factory import Stores, open_stores
from logsieve.storage.streams import NewRecord, StreamStore

T0 = 1_700_000_000_000
Shards = list[list[tuple[int, str, bytes]]]


def _source(tmp_path: Path) -> Stores:
    stores = open_stores(tmp_path / "source", "sqlite")
    kinesis = stores.streams()
    try:
        s = kinesis.create_stream("orders", 2, "PROVISIONED", T0, 48, 1024, {"team": "web"})
        assert s is not None
        for n in range(5):
            batch = [NewRecord(i % 2, f"k{i}", f"{n}-{i}".encode()) for i in range(n + 1)]
            kinesis.append(s.id, batch, T0 + n * 1000)
        kinesis.append(s.id, [NewRecord(1, "same", b"x"), NewRecord(1, "same", b"x")], T0 + 9)
    finally:
        kinesis.close()
    return stores


def _shards(store: StreamStore) -> Shards:
    s = store.stream("orders")
    assert s is not None
    return [
        [(r.arrival_ms, r.partition_key, r.data) for r in store.read(s.id, n, 0, 0, 100, 1 << 30)]
        for n in range(s.shard_count)
    ]


def _copy(source: Stores, target: Stores) -> copying.CopyReport:
    return copying.copy_stores(source, target, "/data/old", lambda line: None)


def test_streams_and_records_arrive_in_order_once(tmp_path: Path, stores: Stores) -> None:
    source = _source(tmp_path)
    first, again = _copy(source, stores), _copy(source, stores)
    assert (first.copied["Kinesis streams"], first.copied["Kinesis records"]) == (1, 17)
    assert (again.present["Kinesis streams"], again.copied["Kinesis records"]) == (1, 0)
    old, new = source.streams(), stores.streams()
    try:
        assert _shards(new) == _shards(old)
        before, after = old.stream("orders"), new.stream("orders")
        assert before and after
        assert dataclasses.replace(after, id=before.id) == before
        assert new.tags(after.id) == {"team": "web"}
    finally:
        old.close()
        new.close()


class _Stops(Exception):
    pass


class _StopsAfter:
    """A target whose ``appends``-th append stores its records and then fails (the copy
    interrupted before it saved its progress)."""

    def __init__(self, store: StreamStore, appends: int) -> None:
        self.store, self.left = store, appends

    def append(self, stream_id: int, records: list[NewRecord], now: int) -> list[int] | None:
        stored = self.store.append(stream_id, records, now)
        self.left -= 1
        if not self.left:
            raise _Stops
        return stored

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)


@pytest.mark.parametrize("appends", [1, 3, 4, 6])
def test_a_resumed_copy_appends_nothing_twice(
    tmp_path: Path, stores: Stores, monkeypatch: pytest.MonkeyPatch, appends: int
) -> None:
    monkeypatch.setattr(kinesis, "SAVE_EVERY", 2)
    source = _source(tmp_path)
    old, new, logs = source.streams(), stores.streams(), stores.logs()
    try:
        with pytest.raises(_Stops):
            kinesis.copy_kinesis(old, _StopsAfter(new, appends), logs, "/data/old",  # type: ignore[arg-type]
                                 copying.CopyReport(), lambda line: None)  # fmt: skip
        report = copying.CopyReport()
        kinesis.copy_kinesis(old, new, logs, "/data/old", report, lambda line: None)
        assert report.present["Kinesis streams"] == 1
        assert _shards(new) == _shards(old)
    finally:
        old.close()
        new.close()
        logs.close()
