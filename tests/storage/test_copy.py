"""storage/copying/ from a SQLite directory into each engine: batches keep their timestamps and
ingestion times, filters move to the new group id, a re-run adds nothing, and a batch appended
by a run interrupted before it saved its progress is not appended twice."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import orjson
import pytest

from logsieve.metrics.alarms.actions import KIND, AlarmActions
from logsieve.notify.outbox import Outbox
from logsieve.storage import copying
from logsieve.storage.alarms import AlarmRow, HistoryRow, StateChange
from logsieve.storage.copying import ec2 as copy_ec2
from logsieve.storage.copying import logs as copy_logs
from logsieve.storage.ec2 import ResourceRow
from logsieve.storage.factory import Stores, open_stores
from logsieve.storage.protocols import LogsStore
from logsieve.storage.records import MetricFilter, SubscriptionFilter
from logsieve.storage.source_positions import Chunk
from logsieve.storage.trails import EventRow, TrailRow

SOURCE = "/data/old"
T0 = 1_700_000_000_000


def _source(tmp_path: Path, sizes: tuple[int, ...] = (3, 7, 2)) -> Stores:
    stores = open_stores(tmp_path / "source", "sqlite")
    logs = stores.logs()
    try:
        g = logs.create_group("/app", T0 - 10, None, "STANDARD")
        assert g is not None
        logs.set_retention(g.id, 7)
        logs.set_tags(g.id, {"team": "web"})
        web = logs.create_stream(g.id, "web", T0 - 5)
        db = logs.create_stream(g.id, "db", T0 - 4)
        assert web and db
        for n, size in enumerate(sizes):
            stream = (web, db)[n % 2]
            messages = [f"{stream.name} {n} {i}" for i in range(size)]
            stamps = [T0 + n * 100 + i for i in range(size)]
            logs.append(g.id, stream.id, stamps, messages, sum(map(len, messages)), T0 + n)
        logs.put_metric_filter(g.id, MetricFilter("/app", "errors", "ERROR", [], T0))
        logs.put_subscription_filter(
            SubscriptionFilter(g.id, "/app", "to-f", "", "arn:aws:lambda:us-east-1:1:function:f",
                               None, "ByLogStream", T0, {})
        )  # fmt: skip
    finally:
        logs.close()
    return stores


def _events(logs: LogsStore) -> dict[str, list[tuple[int, int, str]]]:
    g = logs.group("/app")
    assert g is not None
    return {
        name: [(e[0], e[4], e[5]) for e in logs.stream_events(sid, None, None, None, None, 100)]
        for sid, name in logs.stream_ids(g.id, None, None).items()
    }


def _copy(source: Stores, target: Stores) -> copying.CopyReport:
    return copying.copy_stores(source, target, SOURCE, lambda line: None)


def test_events_filters_and_settings_arrive_as_they_were(tmp_path: Path, stores: Stores) -> None:
    source = _source(tmp_path)
    report = _copy(source, stores)
    assert report.copied["events"] == 12
    old, new = source.logs(), stores.logs()
    try:
        assert _events(new) == _events(old)
        g = new.group("/app")
        assert g is not None
        assert (g.creation_time, g.retention_days) == (T0 - 10, 7)
        assert new.tags(g.id) == {"team": "web"}
        assert [f.name for f in new.metric_filters("/app", None, None, None, 10)] == ["errors"]
        [moved] = new.subscription_filters(g.id)
        assert (moved.name, moved.group_id) == ("to-f", g.id)
    finally:
        old.close()
        new.close()


def test_a_rerun_adds_nothing(tmp_path: Path, stores: Stores) -> None:
    source = _source(tmp_path)
    _copy(source, stores)
    again = _copy(source, stores)
    assert again.copied.get("events", 0) == 0
    assert again.present["log groups"] == 1 and again.present["log streams"] == 2
    new = stores.logs()
    try:
        assert sum(map(len, _events(new).values())) == 12
    finally:
        new.close()


def test_a_batch_appended_before_an_interruption_is_not_appended_twice(
    tmp_path: Path, stores: Stores
) -> None:
    source = _source(tmp_path)
    _copy(source, stores)
    old, new = source.logs(), stores.logs()
    try:
        g = old.group("/app")
        assert g is not None
        seqs = sorted({e[1] for e in old.read_after(0, 100, g.id)})
        before_last = max(s for s in seqs if s >> 14 < seqs[-1] >> 14)
        # the run stopped after appending the last batch, before saving its progress
        new.commit_cursor(copying.progress_consumer(SOURCE, g.id), before_last)
    finally:
        old.close()
        new.close()
    again = _copy(source, stores)
    assert again.copied.get("events", 0) == 0
    old, new = source.logs(), stores.logs()
    try:
        assert _events(new) == _events(old)
    finally:
        old.close()
        new.close()


def test_batches_larger_than_one_read_are_copied_whole(
    tmp_path: Path, stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(copy_logs, "READ_LIMIT", 4)
    source = _source(tmp_path, sizes=(3, 9, 2, 4, 4))
    assert _copy(source, stores).copied["events"] == 22
    old, new = source.logs(), stores.logs()
    try:
        assert _events(new) == _events(old)
        g = new.group("/app")
        assert g is not None
        batches = {e[1] >> 14 for e in new.read_after(0, 100, g.id)}
        assert len(batches) == 5  # one append per source batch
    finally:
        old.close()
        new.close()


def _event(n: int) -> EventRow:
    return EventRow(f"id-{n}", T0 + n, "PutLogEvents", "logs.amazonaws.com", "alice", "AKIA1",
                    False, (("AWS::Logs::LogGroup", "/app"),), f'{{"n": {n}}}')  # fmt: skip


def test_trails_and_their_history_are_copied_once(tmp_path: Path, stores: Stores) -> None:
    source = open_stores(tmp_path / "source", "sqlite")
    trails = source.cloudtrail()
    try:
        trail = TrailRow(
            "arn:aws:cloudtrail:us-east-1:1:trail/t", "t", "us-east-1", {"S3BucketName": "b"},
            {"k": "v"}, True, T0, None, None, None, None, T0,
        )  # fmt: skip
        assert trails.create_trail(trail)
        trails.append_events([_event(n) for n in range(5)])
    finally:
        trails.close()
    first, again = _copy(source, stores), _copy(source, stores)
    assert (first.copied["trails"], first.copied["CloudTrail events"]) == (1, 5)
    assert (again.present["trails"], again.copied["CloudTrail events"]) == (1, 0)
    copied = stores.cloudtrail()
    try:
        assert copied.get_trail(trail.arn) == trail
        found = copied.lookup_events(0, 2**62, None, None, 100)
        assert [e.event_id for e in found] == [f"id-{n}" for n in reversed(range(5))]
        assert [dataclasses.replace(e, seq=0) for e in found] == [
            _event(n) for n in reversed(range(5))
        ]
    finally:
        copied.close()


def _undelivered(logs: LogsStore, consumer: str) -> list[tuple[int, int, str]]:
    g = logs.group("/app")
    assert g is not None
    return [(e[0], e[4], e[5]) for e in logs.read_after(logs.cursor(consumer), 100, g.id)]


@pytest.mark.parametrize("delivered", [0, 1, 2, 3])
def test_a_subscription_resumes_after_the_last_event_it_delivered(
    tmp_path: Path, stores: Stores, delivered: int
) -> None:
    """Batches 0..delivered-1 were delivered on the source: the rest is delivered from the
    target (0: none delivered; 3: all), not skipped as if the copy had delivered them."""
    source = _source(tmp_path)
    old = source.logs()
    try:
        g = old.group("/app")
        assert g is not None
        [item] = old.subscription_filters(g.id)
        seqs = [e[1] for e in old.read_after(0, 100, g.id)]
        last = {s >> 14: s for s in seqs}  # each batch's last seq
        cursor = sorted(last.values())[delivered - 1] if delivered else 0
        old.commit_cursor(item.consumer, cursor)
        pending = _undelivered(old, item.consumer)
    finally:
        old.close()
    assert len(pending) == (12, 9, 2, 0)[delivered]
    _copy(source, stores)
    new = stores.logs()
    try:
        g = new.group("/app")
        assert g is not None
        [moved] = new.subscription_filters(g.id)
        assert _undelivered(new, moved.consumer) == pending
    finally:
        new.close()


def test_a_subscription_position_survives_an_interrupted_copy(
    tmp_path: Path, stores: Stores
) -> None:
    """Events copied by a first run, filters by a second: the position is still mapped."""
    source = _source(tmp_path)
    old = source.logs()
    try:
        g = old.group("/app")
        assert g is not None
        [item] = old.subscription_filters(g.id)
        first_batch_end = max(e[1] for e in old.read_after(0, 3, g.id))
        old.commit_cursor(item.consumer, first_batch_end)
        pending = _undelivered(old, item.consumer)
    finally:
        old.close()
    _copy(source, stores)
    new = stores.logs()
    try:
        g = new.group("/app")
        assert g is not None
        assert new.delete_subscription_filter(g.id, "to-f")  # as if never created
    finally:
        new.close()
    assert _copy(source, stores).copied.get("events", 0) == 0
    new = stores.logs()
    try:
        g = new.group("/app")
        assert g is not None
        [moved] = new.subscription_filters(g.id)
        assert _undelivered(new, moved.consumer) == pending
    finally:
        new.close()


def test_ec2_resources_keep_their_ids_and_are_copied_once(tmp_path: Path, stores: Stores) -> None:
    source = open_stores(tmp_path / "source", "sqlite")
    ec2 = source.ec2()
    rows = [
        ResourceRow("account-defaults", "account-defaults", {}, {}, T0),
        ResourceRow("vpc-01", "vpc", {"VpcId": "vpc-01", "CidrBlock": "10.0.0.0/16"},
                    {"Name": "main"}, T0 + 1),
        ResourceRow("subnet-01", "subnet", {"SubnetId": "subnet-01", "VpcId": "vpc-01"}, {},
                    T0 + 2),
        ResourceRow("fl-01", "vpc-flow-log", {"FlowLogId": "fl-01", "ResourceId": "vpc-01"},
                    {"k": "v"}, T0 + 3),
    ]  # fmt: skip
    try:
        for row in rows:
            ec2.create(row)
    finally:
        ec2.close()
    first, again = _copy(source, stores), _copy(source, stores)
    assert first.copied["EC2 resources"] == 4
    assert (again.copied.get("EC2 resources", 0), again.present["EC2 resources"]) == (0, 4)
    copied = stores.ec2()
    try:
        assert [dataclasses.replace(copied.get(r.id), seq=0) for r in rows] == rows  # type: ignore[type-var]
        assert [r.id for r in copied.list("vpc")] == ["vpc-01"]
    finally:
        copied.close()


def test_the_copy_knows_every_ec2_kind() -> None:
    from logsieve.ec2.resources import KINDS

    assert set(copy_ec2.KINDS) == {*KINDS, "account-defaults"}


@pytest.mark.parametrize("delivered", [0, 2])
def test_an_alert_rule_resumes_where_it_stopped(
    tmp_path: Path, stores: Stores, delivered: int
) -> None:
    """A standing subscription (activated before the group existed, so it read the group from
    its first event) had delivered ``delivered`` batches: on the target it resumes there."""
    from logsieve.subscriptions.standing import Standing, resolve

    rule = Standing("alert:r", "", ("/app",), "logsieve:alert:r")
    source = _source(tmp_path)
    old = source.logs()
    try:
        [item] = resolve(old, [rule], T0 - 100)  # placed once, as the server does
        g = old.group("/app")
        assert g is not None
        last = sorted({s >> 14: s for s in (e[1] for e in old.read_after(0, 100, g.id))}.values())
        if delivered:
            old.commit_cursor(item.consumer, last[delivered - 1])
        else:
            old.commit_cursor(item.consumer, 1)  # before every event
        pending = _undelivered(old, item.consumer)
    finally:
        old.close()
    assert len(pending) == (12, 2)[delivered // 2]
    copying.copy_stores(source, stores, SOURCE, lambda line: None, standing=[rule.name])
    new = stores.logs()
    try:
        [moved] = resolve(new, [rule], T0 + 10**9)  # the cluster's node starts much later
        assert _undelivered(new, moved.consumer) == pending
    finally:
        new.close()


def test_alarms_arrive_with_their_state_and_history_once(tmp_path: Path, stores: Stores) -> None:
    source = open_stores(tmp_path / "source", "sqlite")
    alarms = source.alarms()
    try:
        alarms.put_alarm(
            AlarmRow("high", {"Threshold": 5.0}, tags={"team": "web"}, config_updated_ms=T0),
            [HistoryRow("high", T0, "ConfigurationUpdate", "Alarm high created", "{}")],
        )
        alarms.set_state(
            "high", StateChange("ALARM", "Threshold crossed", None, T0 + 60_000),
            [HistoryRow("high", T0 + 60_000, "StateUpdate", "OK to ALARM", "{}")],
        )  # fmt: skip
        before = alarms.get_alarm("high")
        history = alarms.history("high", newest_first=False)
    finally:
        alarms.close()
    first, again = _copy(source, stores), _copy(source, stores)
    assert (first.copied["alarms"], first.copied["alarm history items"]) == (1, 2)
    assert (again.present["alarms"], again.copied.get("alarm history items", 0)) == (1, 0)
    copied = stores.alarms()
    try:
        after = copied.get_alarm("high")
        assert before and after and dataclasses.replace(after, seq=before.seq) == before
        strip = lambda rows: [dataclasses.replace(r, seq=0) for r in rows]  # noqa: E731
        assert strip(copied.history("high", newest_first=False)) == strip(history)
    finally:
        copied.close()


def test_an_action_the_source_never_handed_on_is_handed_on_once_by_the_target(
    tmp_path: Path, stores: Stores
) -> None:
    topic = "arn:aws:sns:us-east-1:123456789012:alerts"
    key = f"high:{T0 + 60_000}:{topic}"
    payload = orjson.dumps({"alarm": "high", "action": topic, "key": key})
    source = open_stores(tmp_path / "source", "sqlite")
    alarms = source.alarms()
    try:
        alarms.put_alarm(AlarmRow("high", {"AlarmActions": [topic]}, config_updated_ms=T0))
        # The server stopped after the transition was committed, before it was handed on.
        alarms.set_state("high", StateChange("ALARM", "crossed", None, T0 + 60_000, T0,
                                             [(key, payload)]))  # fmt: skip
    finally:
        alarms.close()
    first, again = _copy(source, stores), _copy(source, stores)
    counts = lambda report: [  # noqa: E731
        part.get("pending alarm actions") for part in (report.copied, report.present)
    ]
    assert (counts(first), counts(again)) == ([1, 0], [0, 1])
    target = stores.alarms()
    outbox = Outbox(stores.outbox())
    try:
        assert [(k, p) for _, k, p in target.pending_actions()] == [(key, payload)]
        AlarmActions(target, "us-east-1", "123456789012", outbox).hand_on()
        _copy(source, stores)  # once more, after the target handed it on
        assert target.pending_actions() == []
    finally:
        target.close()
        outbox.close()
    queued = stores.outbox()
    try:
        assert [(e[0], e[2]) for _, e in queued.pending_entries()] == [(KIND, key)]
    finally:
        queued.close()


def test_sources_resume_where_they_stopped_in_their_feeds(tmp_path: Path, stores: Stores) -> None:
    source = _source(tmp_path)
    old = source.logs()
    try:
        g = old.group("/app")
        web = old.stream(g.id, "web") if g else None
        assert g and web
        positions = source.source_positions(old)
        chunk = Chunk(g.id, web.id, [T0 + 900], ["from the feed"], 13)
        positions.append_at("feed", [chunk], {"shard-0": "49", "shard-1": "7"}, T0 + 900)
    finally:
        old.close()
    first = copying.copy_stores(source, stores, SOURCE, lambda line: None, sources=["feed", "new"])
    again = copying.copy_stores(source, stores, SOURCE, lambda line: None, sources=["feed"])
    assert (first.copied["source positions"], first.present["source positions"]) == (1, 1)
    assert again.present["source positions"] == 1
    new = stores.logs()
    try:
        assert stores.source_positions(new).positions("feed") == {"shard-0": "49", "shard-1": "7"}
        assert stores.source_positions(new).positions("new") == {}
        assert sum(map(len, _events(new).values())) == 13
    finally:
        new.close()
