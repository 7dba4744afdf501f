"""The sink: remote events into local groups and streams, with the source's position."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from logsieve.sources import LocalSink, RemoteEvent
from logsieve.storage import LogsStore
from logsieve.storage.factory import open_stores

DAY = 86_400_000


class Recorder:
    def __init__(self) -> None:
        self.groups: list[int] = []
        self.changed = 0

    def check_destination(self, item: object) -> None: ...

    def subscriptions_changed(self) -> None:
        self.changed += 1

    def appended(self, group_id: int) -> None:
        self.groups.append(group_id)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LogsStore]:
    stores = open_stores(tmp_path)
    logs = stores.logs()
    yield logs
    logs.close()


def _events(store: LogsStore, group: str, stream: str) -> list[tuple[int, str]]:
    g = store.group(group)
    assert g is not None
    s = store.stream(g.id, stream)
    assert s is not None
    return [(e[0], e[5]) for e in store.stream_events(s.id, None, None, None, None, 100_000)]


def test_groups_and_streams_are_created_and_names_times_messages_kept(
    tmp_path: Path, store: LogsStore
) -> None:
    recorder = Recorder()
    sink = LocalSink(store, open_stores(tmp_path).source_positions(store), recorder)
    events = [
        RemoteEvent("/aws/vpc/flow", "eni-1", 2_000, "second"),
        RemoteEvent("/aws/clientvpn", "cvpn-a", 1_500, "vpn é"),
        RemoteEvent("/aws/vpc/flow", "eni-1", 1_000, "first"),
        RemoteEvent("/aws/vpc/flow", "eni-2", 1_000, "other stream"),
    ]
    assert sink.write("src", events, {"shard": "42"}) == 4
    assert _events(store, "/aws/vpc/flow", "eni-1") == [(1_000, "first"), (2_000, "second")]
    assert _events(store, "/aws/vpc/flow", "eni-2") == [(1_000, "other stream")]
    assert _events(store, "/aws/clientvpn", "cvpn-a") == [(1_500, "vpn é")]
    assert sink.stored_positions("src") == {"shard": "42"}
    assert recorder.changed == 2  # two new groups: standing subscriptions get to see them
    assert sorted(set(recorder.groups)) == sorted(
        {store.group("/aws/vpc/flow").id, store.group("/aws/clientvpn").id}  # type: ignore[union-attr]
    )
    sink.write("src", [RemoteEvent("/aws/vpc/flow", "eni-1", 3_000, "third")], {"shard": "43"})
    assert recorder.changed == 2  # existing groups are reused
    assert _events(store, "/aws/vpc/flow", "eni-1")[-1] == (3_000, "third")


def test_batches_bigger_than_a_chunk_or_longer_than_a_day_are_split(
    tmp_path: Path, store: LogsStore
) -> None:
    sink = LocalSink(store, open_stores(tmp_path).source_positions(store))
    many = [RemoteEvent("/g", "s", 10 * DAY + i, f"m{i}") for i in range(25_000)]
    spread = [RemoteEvent("/g", "t", 10 * DAY + i * DAY // 2, f"d{i}") for i in range(7)]
    assert sink.write("src", many + spread, {"p": "1"}) == 25_007
    assert len(_events(store, "/g", "s")) == 25_000
    assert [m for _, m in _events(store, "/g", "t")] == [f"d{i}" for i in range(7)]


def test_a_locally_deleted_group_is_created_again(tmp_path: Path, store: LogsStore) -> None:
    sink = LocalSink(store, open_stores(tmp_path).source_positions(store))
    sink.write("src", [RemoteEvent("/g", "s", 1, "before")], {"p": "1"})
    store.delete_group(store.group("/g").id)  # type: ignore[union-attr]
    sink.write("src", [RemoteEvent("/g", "s", 2, "after")], {"p": "2"})
    assert _events(store, "/g", "s") == [(2, "after")]
    assert sink.stored_positions("src") == {"p": "2"}
