"""The header's figures: ingest rate from the event log's position, errors from delivery."""

from __future__ import annotations

from typing import Any

import pytest

from logsieve.console import IngestMeter
from logsieve.console.services import events_between, log_position
from tests.console.conftest import ConsoleClient
from tests.console.test_events import put


class Log:
    """An event log as the meter sees it: an end position and counts between positions."""

    def __init__(self) -> None:
        self.seqs: list[int] = []

    def append(self, count: int) -> None:
        last = self.seqs[-1] if self.seqs else 0
        self.seqs += [last + 16_384 * (i + 1) for i in range(count)]  # positions, not counts

    def count_between(self, after: int, upto: int) -> int:
        return sum(after < s <= upto for s in self.seqs)

    def last_seq(self) -> int:
        return self.seqs[-1] if self.seqs else 0


def test_the_ingest_rate_is_events_per_second_over_the_last_minute() -> None:
    log, now = Log(), [0.0]
    log.append(5000)  # history before the server started: not counted
    meter = IngestMeter(log.count_between, log.last_seq, clock=lambda: now[0])
    assert meter.rate() is None  # one sample: no rate yet
    now[0] = 2.0
    log.append(200)
    assert meter.rate() == 100.0
    now[0] = 10.0
    log.append(800)
    assert meter.rate() == 100.0  # 1000 events in 10 s
    now[0] = 75.0  # idle for over a minute: the baseline is the last sample before it
    assert meter.rate() == 0.0


def test_events_between_counts_every_group_from_the_real_store(
    console_client: ConsoleClient,
) -> None:
    services = console_client.app.state.console.app.state.services
    store = services.logs.ctx.store
    position = log_position(store)
    before = position()
    put(console_client.app, "/meter/a", "s", ["x"] * 30)
    put(console_client.app, "/meter/b", "s", ["y"] * 12)
    middle = position()
    put(console_client.app, "/meter/b", "t", ["z"] * 5)
    count = events_between(store)
    assert count(before, middle) == 42  # the groups made since count from their start
    assert count(middle, position()) == 5
    assert count(before, position()) == 47


class FailingDelivery:
    def status(self) -> list[dict[str, Any]]:
        return [
            {"health": "ERROR", "deadLetteredEvents": 3},
            {"health": "OK", "deadLetteredEvents": 1},
        ]


def test_errors_count_failing_subscriptions_and_dead_letters(
    console_client: ConsoleClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = console_client.app.state.console.app.state.services
    assert 'data-testid="errors">0<' in console_client.get("/console/header").text
    monkeypatch.setattr(services, "dispatcher", FailingDelivery())
    header = console_client.get("/console/header").text
    assert 'data-testid="errors">5<' in header
    assert "1 failing subscriptions, 4 dead-lettered events" in header
