"""The ``SourcePositions`` contract, for every engine: a source's position and the events it
appends commit together or not at all."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from logsieve.storage import Chunk, Deleted, LogsStore
from logsieve.storage.factory import Stores


@pytest.fixture
def logs(stores: Stores) -> Iterator[LogsStore]:
    store = stores.logs()
    yield store
    store.close()


def _stream(logs: LogsStore, group: str = "/g", stream: str = "s") -> tuple[int, int]:
    g = logs.create_group(group, 1, None, "STANDARD")
    assert g is not None
    s = logs.create_stream(g.id, stream, 1)
    assert s is not None
    return g.id, s.id


def test_events_and_positions_commit_together(stores: Stores, logs: LogsStore) -> None:
    positions = stores.source_positions(logs)
    group_id, stream_id = _stream(logs)
    assert positions.positions("src") == {}
    seqs = positions.append_at(
        "src", [Chunk(group_id, stream_id, [5, 6], ["a", "bb"], 3)], {"shard-0": "17"}, 100
    )
    assert len(seqs) == 1
    assert positions.positions("src") == {"shard-0": "17"}
    assert [e[5] for e in logs.read_after(0, 10)] == ["a", "bb"]
    positions.append_at("src", [], {"shard-0": "SHARD_END", "shard-1": "3"}, 101)
    positions.append_at("other", [], {"k": "v"}, 101)
    assert positions.positions("src") == {"shard-0": "SHARD_END", "shard-1": "3"}
    positions.append_at("src", [], {"shard-1": None}, 102)
    assert positions.positions("src") == {"shard-0": "SHARD_END"}
    positions.forget("src")
    assert positions.positions("src") == {}
    assert positions.positions("other") == {"k": "v"}


def test_a_deleted_stream_stores_neither_events_nor_position(
    stores: Stores, logs: LogsStore
) -> None:
    positions = stores.source_positions(logs)
    group_id, stream_id = _stream(logs)
    other_group, other_stream = _stream(logs, "/h")
    logs.delete_stream(stream_id)
    with pytest.raises(Deleted):
        positions.append_at(
            "src",
            [Chunk(other_group, other_stream, [1], ["kept?"], 5),
             Chunk(group_id, stream_id, [1], ["x"], 1)],
            {"shard": "9"},
            100,
        )  # fmt: skip
    assert positions.positions("src") == {}
    assert logs.read_after(0, 10) == []
