"""The header's figures: ingest rate from the event log's position, errors from delivery."""

from __future__ import annotations

from typing import Any

import pytest

from logsieve.console import IngestMeter
from tests.console.conftest import ConsoleClient


class Log:
    """An event log as the meter reads it: (timestamp, seq) events, seq far apart."""

    def __init__(self) -> None:
        self.seqs: list[int] = []

    def append(self, count: int) -> None:
        last = self.seqs[-1] if self.seqs else 0
        self.seqs += [last + 16_384 * (i + 1) for i in range(count)]

    def read_after(self, seq: int, limit: int) -> list[tuple[int, int]]:
        return [(0, s) for s in self.seqs if s > seq][:limit]

    def last_seq(self) -> int:
        return self.seqs[-1] if self.seqs else 0


def test_the_ingest_rate_is_events_per_second_over_the_last_minute() -> None:
    log, now = Log(), [0.0]
    log.append(5000)  # history before the server started: not counted
    meter = IngestMeter(log.read_after, log.last_seq, clock=lambda: now[0])
    assert meter.rate() is None  # one sample: no rate yet
    now[0] = 2.0
    log.append(200)
    assert meter.rate() == 100.0
    now[0] = 10.0
    log.append(800)
    assert meter.rate() == 100.0  # 1000 events in 10 s
    now[0] = 75.0  # idle for over a minute: the baseline is the last sample before it
    assert meter.rate() == 0.0


def test_a_burst_larger_than_one_read_is_counted_over_samples() -> None:
    log, now = Log(), [0.0]
    meter = IngestMeter(log.read_after, log.last_seq, clock=lambda: now[0])
    meter.rate()
    log.append(IngestMeter.READ_LIMIT * IngestMeter.MAX_READS + 500)
    now[0] = 1.0
    assert meter.rate() == IngestMeter.READ_LIMIT * IngestMeter.MAX_READS
    now[0] = 2.0
    assert meter.rate() == (IngestMeter.READ_LIMIT * IngestMeter.MAX_READS + 500) / 2


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
