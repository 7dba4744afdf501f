"""EC2, CloudTrail, alarms and metrics shared by two logsieve nodes on one cluster: what one
node writes the other reads at once, races between them settle on one winner, and a node
that starts later (an empty cache or mirror) rebuilds the same state from the cluster."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from logsieve.storage.alarms import AlarmRow, HistoryRow, StateChange
from logsieve.storage.ec2 import ResourceRow
from logsieve.storage.factory import Stores, open_stores
from logsieve.storage.jetstream import JetStreamOptions
from logsieve.storage.jetstream.cluster import LocalCluster
from logsieve.storage.metrics import Observation
from logsieve.storage.trails import EventRow
from tests.jetstream.cluster import drop_namespace, options

CPU = ("NS", "CPU", (("host", "a"),))


@pytest.fixture
def shared(nats_cluster: LocalCluster) -> Iterator[JetStreamOptions]:
    settings = options(nats_cluster)
    yield settings
    drop_namespace(settings)


def _node(shared: JetStreamOptions, tmp_path: Path) -> Stores:
    return open_stores(tmp_path, "jetstream", shared)


def _messages(settings: JetStreamOptions, stream: str) -> int:
    """How many messages the namespace's ``stream`` holds (expired ones are deleted)."""
    import nats

    async def count() -> int:
        nc = await nats.connect(list(settings.urls))
        try:
            info = await nc.jetstream().stream_info(f"{settings.namespace}_{stream}")
            return int(info.state.messages)
        finally:
            await nc.close()

    return asyncio.run(count())


def _value(ts: int, v: float) -> Observation:
    return Observation(CPU, ts, "None", 1, v, v, v)


def test_two_nodes_creating_one_resource_id_agree_on_one(shared, tmp_path) -> None:
    """Five rounds of two nodes creating the same id at once: one wins each, the other is
    refused, and both then read the winner's resource."""
    one, two = _node(shared, tmp_path).ec2(), _node(shared, tmp_path).ec2()
    start = threading.Barrier(2)

    def create(store, node: str, resource_id: str, outcomes: list[str]) -> None:
        start.wait()
        try:
            store.create(ResourceRow(resource_id, "vpc", {"node": node}))
            outcomes.append(node)
        except ValueError:
            outcomes.append("refused")

    try:
        for n in range(5):
            outcomes: list[str] = []
            threads = [
                threading.Thread(target=create, args=(store, node, f"vpc-{n}", outcomes))
                for store, node in ((one, "1"), (two, "2"))
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(outcomes)[1] == "refused" and sorted(outcomes)[0] in ("1", "2")
            row = one.get(f"vpc-{n}")
            assert row == two.get(f"vpc-{n}") and row is not None
            assert row.data == {"node": sorted(outcomes)[0]}
        assert [row.id for row in two.list("vpc")] == [f"vpc-{n}" for n in range(5)]
    finally:
        one.close()
        two.close()


def test_events_expired_on_one_node_leave_the_other(shared, tmp_path) -> None:
    one, two = _node(shared, tmp_path).cloudtrail(), _node(shared, tmp_path).cloudtrail()
    try:
        event = EventRow("id-1", 1000, "CreateTrail", "cloudtrail", None, None, False, (), "{}")
        one.append_events([event, EventRow(**{**event.__dict__, "event_id": "id-2"})])
        assert len(two.lookup_events(0, 5000, None, None, 10)) == 2  # two's cache holds them
        assert one.expire_events(2000) == 2
        assert two.lookup_events(0, 5000, None, None, 10) == []
        one.append_events([EventRow(**{**event.__dict__, "event_id": "id-3", "time_ms": 3000})])
        assert [e.event_id for e in two.lookup_events(0, 5000, None, None, 10)] == ["id-3"]
    finally:
        one.close()
        two.close()


def test_one_transition_wins_when_two_nodes_evaluate_one_alarm(shared, tmp_path) -> None:
    one, two = _node(shared, tmp_path).alarms(), _node(shared, tmp_path).alarms()
    try:
        one.put_alarm(AlarmRow("a", {}, config_updated_ms=1))
        change = StateChange("ALARM", "r", None, 5, 1, [("a:5", b"notify")])
        history = [HistoryRow("a", 5, "StateUpdate", "to ALARM", "{}")]
        assert one.set_state("a", change, history) is not None
        assert two.set_state("a", change, history) is not None  # same action key: kept once
        assert [key for _, key, _ in two.pending_actions()] == ["a:5"]
        assert two.add_history(history, once="a:5:arn")
        assert not one.add_history(history, once="a:5:arn")
        assert len(one.history("a")) == 3
        assert one.get_alarm("a") == two.get_alarm("a")
    finally:
        one.close()
        two.close()


def test_a_put_on_one_node_is_read_on_the_other_and_replayed_by_a_new_one(shared, tmp_path) -> None:
    one, two = _node(shared, tmp_path).metrics(), _node(shared, tmp_path).metrics()
    try:
        one.put([_value(0, 1), _value(10, 2)])  # a message holding only old observations
        one.put([_value(30, 4), _value(200, 8)], {"filter/1": 7})
        assert [b.count for b in two.buckets(CPU, 0, 240, 60)] == [3, 1]
        assert two.progress("filter/1") == 7
        assert _messages(shared, "metrics") == 2
        assert two.expire(20) == 2
        assert _messages(shared, "metrics") == 2  # the first put gone, a watermark added
        assert [(b.start, b.count) for b in one.buckets(CPU, 0, 240, 60)] == [(0, 1), (180, 1)]
        assert [(b.start, b.count) for b in one.buckets(CPU, 0, 241, 60)] == [(0, 1), (180, 1)]
        later = _node(shared, tmp_path).metrics()  # replays the stream from its start
        try:
            assert [(b.start, b.count) for b in later.buckets(CPU, 0, 240, 60)] == [
                (0, 1),
                (180, 1),
            ]
            assert later.progress("filter/1") == 7
            assert later.metrics() == [CPU]
        finally:
            later.close()
    finally:
        one.close()
        two.close()


def test_two_nodes_creating_one_topic_agree_on_one(shared, tmp_path) -> None:
    """Two nodes creating the same SNS topic at once: one creates it, the other gets the
    winner's row (never a second "created" that overwrites the first)."""
    from logsieve.storage.topics import TopicRow

    one, two = _node(shared, tmp_path).topics(), _node(shared, tmp_path).topics()
    try:
        for n in range(20):
            arn = f"arn:aws:sns:us-east-1:123456789012:race-{n}"
            start = threading.Barrier(2)
            results: list[tuple[TopicRow, bool]] = []

            def create(store, results=results, arn=arn, start=start) -> None:
                start.wait()
                results.append(store.create_topic(TopicRow(arn, arn.rsplit(":", 1)[-1], {}, {})))

            threads = [threading.Thread(target=create, args=(s,)) for s in (one, two)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(created for _, created in results) == [False, True], n
            assert results[0][0].seq == results[1][0].seq
    finally:
        one.close()
        two.close()
