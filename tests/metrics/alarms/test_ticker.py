"""The ticker with a deterministic clock (each evaluation boundary once; 60-s alarms on the
minute, 10/20/30-s alarms every 10 s), and actions that survive a crash between the state
change and the hand-over to the outbox, without being queued twice."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from logsieve.metrics.alarms.actions import KIND, AlarmActions
from logsieve.metrics.alarms.service import AlarmService
from logsieve.metrics.alarms.ticker import Ticker
from logsieve.notify.outbox import Outbox
from logsieve.storage.alarms import StateChange
from logsieve.storage.factory import Stores
from tests.metrics.alarms.readers import FilledReader

MINUTE = 1_700_000_040  # a minute boundary


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def stores(tmp_path: Path) -> Stores:
    return Stores(tmp_path / "data")


@pytest.fixture
def service(stores: Stores) -> Iterator[AlarmService]:
    running = AlarmService(stores.alarms(), "us-east-1", "123456789012", Clock(MINUTE))
    yield running
    running.store.close()


def put(service: AlarmService, name: str, **overrides: Any) -> None:
    params = {
        "AlarmName": name, "Namespace": "NS", "MetricName": "m", "Statistic": "Maximum",
        "Period": 60, "EvaluationPeriods": 1, "Threshold": 10.0,
        "ComparisonOperator": "GreaterThanThreshold",
    }  # fmt: skip
    service.operations["PutMetricAlarm"]({**params, **overrides})


def state(service: AlarmService, name: str) -> str:
    row = service.store.get_alarm(name)
    assert row is not None
    return row.state_value


def test_each_boundary_is_evaluated_once(service: AlarmService) -> None:
    reader = FilledReader()
    ticker = Ticker(service, reader)
    put(service, "minute")
    reader.put(MINUTE - 60, 50.0)
    assert ticker.evaluate_due(MINUTE + 1) == 1
    assert state(service, "minute") == "ALARM"
    reader.put(MINUTE - 60, 1.0)  # late correction of the same period: not re-read
    assert ticker.evaluate_due(MINUTE + 30) == 0
    assert state(service, "minute") == "ALARM"
    reader.put(MINUTE, 1.0)
    assert ticker.evaluate_due(MINUTE + 61) == 1
    assert state(service, "minute") == "OK"
    history = service.store.history("minute", item_type="StateUpdate", newest_first=False)
    assert [h.summary for h in history] == [
        "Alarm updated from INSUFFICIENT_DATA to ALARM",
        "Alarm updated from ALARM to OK",
    ]


def test_high_resolution_alarms_are_evaluated_every_10_seconds(service: AlarmService) -> None:
    reader = FilledReader()
    ticker = Ticker(service, reader)
    put(service, "fast", Period=10, TreatMissingData="notBreaching")
    put(service, "slow", TreatMissingData="notBreaching")
    ticker.evaluate_due(MINUTE + 1)
    assert state(service, "fast") == state(service, "slow") == "OK"
    reader.put(MINUTE, 50.0)
    ticker.evaluate_due(MINUTE + 11)
    assert state(service, "fast") == "ALARM"
    assert state(service, "slow") == "OK"  # its next evaluation is on the next minute


def test_an_updated_alarm_is_evaluated_again_at_once(service: AlarmService) -> None:
    reader = FilledReader()
    ticker = Ticker(service, reader)
    reader.put(MINUTE - 60, 50.0)
    put(service, "a", Threshold=100.0)
    ticker.evaluate_due(MINUTE + 1)
    assert state(service, "a") == "OK"
    service.clock = Clock(MINUTE + 2)  # type: ignore[method-assign]
    put(service, "a", Threshold=20.0)
    ticker.evaluate_due(MINUTE + 3)
    assert state(service, "a") == "ALARM"


def test_actions_committed_before_a_crash_are_handed_on_once(
    stores: Stores, service: AlarmService
) -> None:
    topic = "arn:aws:sns:us-east-1:123456789012:oncall"
    put(service, "a", AlarmActions=[topic, "arn:aws:lambda:us-east-1:123456789012:function:f"])
    outbox = Outbox(stores.outbox())
    actions = AlarmActions(service.store, "us-east-1", "123456789012", outbox)
    before = service.store.get_alarm("a")
    assert before is not None
    after = replace(before, state_value="ALARM", state_reason="r", state_updated_ms=MINUTE * 1000)
    planned = actions.plan(after, before)
    assert len(planned) == 2
    # The state change commits with its actions; the process dies before handing them on.
    service.store.set_state("a", StateChange("ALARM", "r", None, MINUTE * 1000, None, planned))
    # ... or after queuing the first one but before forgetting it.
    key, payload = planned[0]
    assert outbox.enqueue(KIND, payload, key, topic)
    AlarmActions(service.store, "us-east-1", "123456789012", outbox).hand_on()
    assert list(service.store.pending_actions()) == []
    (row,) = [r for r in outbox.status() if r["kind"] == KIND]
    assert row["pending"] == 2
    outbox.close()


def test_no_actions_are_planned_while_disabled(service: AlarmService, stores: Stores) -> None:
    put(service, "a", AlarmActions=["arn:aws:sns:us-east-1:123456789012:t"], ActionsEnabled=False)
    outbox = Outbox(stores.outbox())
    actions = AlarmActions(service.store, "us-east-1", "123456789012", outbox)
    before = service.store.get_alarm("a")
    assert before is not None
    assert actions.plan(replace(before, state_value="ALARM"), before) == []
    outbox.close()


def test_history_older_than_two_weeks_is_pruned(service: AlarmService) -> None:
    put(service, "a")
    ticker = Ticker(service, FilledReader())
    ticker.evaluate_due(MINUTE + 15 * 86_400)
    assert list(service.store.history("a")) == []
