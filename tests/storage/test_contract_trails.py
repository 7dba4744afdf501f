"""The ``TrailStore`` contract, for every engine."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from logsieve.storage.factory import Stores
from logsieve.storage.trails import EventRow, TrailRow, TrailStore


@pytest.fixture
def trails(stores: Stores) -> Iterator[TrailStore]:
    store = stores.cloudtrail()
    yield store
    store.close()


def _event(n: int, time_ms: int, **changes: object) -> EventRow:
    base = EventRow(
        f"id-{n}", time_ms, "CreateLogGroup", "logs.amazonaws.com", "alice", "AKIAALICE",
        False, (("AWS::Logs::LogGroup", f"g{n}"),), f'{{"n": {n}}}',
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


def test_trails_round_trip_and_survive_reopening(stores: Stores, trails: TrailStore) -> None:
    row = TrailRow("arn:t/a", "a", "us-east-1", {"S3BucketName": "b"}, {"k": "v", "n": None},
                   created_ms=5)  # fmt: skip
    assert trails.create_trail(row)
    assert not trails.create_trail(dataclasses.replace(row, name="other"))
    changed = dataclasses.replace(
        row, logging=True, started_ms=7, event_selectors=[{"x": 1}], tags={"n": None, "k2": "w"}
    )
    assert trails.put_trail(changed)
    assert not trails.put_trail(dataclasses.replace(row, arn="arn:t/none"))
    trails.create_trail(TrailRow("arn:t/b", "b", "us-east-1"))
    trails.close()
    reopened = stores.cloudtrail()
    try:
        assert reopened.get_trail("arn:t/a") == changed
        assert [t.name for t in reopened.list_trails()] == ["a", "b"]
        assert reopened.delete_trail("arn:t/a")
        assert not reopened.delete_trail("arn:t/a")
        assert reopened.get_trail("arn:t/a") is None
    finally:
        reopened.close()


def test_events_are_looked_up_newest_first_by_attribute_and_page(trails: TrailStore) -> None:
    trails.append_events([_event(1, 1000), _event(2, 2000, username="bob"), _event(3, 2000)])
    trails.append_events([_event(4, 3000, read_only=True, name="DescribeLogGroups")])
    everything = trails.lookup_events(0, 10_000, None, None, 10)
    assert [e.event_id for e in everything] == ["id-4", "id-3", "id-2", "id-1"]
    first = trails.lookup_events(0, 10_000, None, None, 2)
    rest = trails.lookup_events(0, 10_000, None, (first[-1].time_ms, first[-1].seq), 10)
    assert [e.event_id for e in [*first, *rest]] == ["id-4", "id-3", "id-2", "id-1"]
    assert [e.event_id for e in trails.lookup_events(1500, 2500, None, None, 10)] == [
        "id-3",
        "id-2",
    ]

    def ids(key: str, value: str) -> list[str]:
        return [e.event_id for e in trails.lookup_events(0, 10_000, (key, value), None, 10)]

    assert ids("Username", "bob") == ["id-2"]
    assert ids("ReadOnly", "true") == ["id-4"]
    assert ids("ReadOnly", "false") == ["id-3", "id-2", "id-1"]
    assert ids("EventName", "DescribeLogGroups") == ["id-4"]
    assert ids("ResourceName", "g3") == ["id-3"]
    assert ids("ResourceType", "AWS::Logs::LogGroup") == ["id-4", "id-3", "id-2", "id-1"]
    assert ids("EventId", "id-1") == ["id-1"]
    assert ids("AccessKeyId", "AKIANONE") == []
    assert everything[-1] == dataclasses.replace(_event(1, 1000), seq=everything[-1].seq)


def test_old_events_expire(trails: TrailStore) -> None:
    trails.append_events([_event(1, 1000), _event(2, 5000)])
    assert trails.expire_events(2000) == 1
    assert [e.event_id for e in trails.lookup_events(0, 10_000, None, None, 10)] == ["id-2"]
