"""``simulate.runner.run`` against the real server: complete delivery, layout, pacing, stop."""

from __future__ import annotations

import calendar
import collections
import itertools
import threading
import time
import uuid

import pytest

from logsieve.formats import client_vpn as cv
from logsieve.formats import cloudtrail as ct
from logsieve.formats.vpc_flow import DEFAULT
from logsieve.simulate import SOURCES, generate, run
from tests.server import Server
from tests.shipping.helpers import read_events, target

PARSE = {
    "vpc-flow": lambda m: DEFAULT.parse(m).timestamp_ms,
    "client-vpn": lambda m: int(cv.parse(m).last_update_time.timestamp()) * 1000,
    "cloudtrail": lambda m: (
        calendar.timegm(time.strptime(ct.parse(m)["eventTime"], "%Y-%m-%dT%H:%M:%SZ")) * 1000
    ),
}


def recent_start() -> int:
    return int(time.time() * 1000) - 3_600_000  # an hour ago: well inside the 14 days


@pytest.mark.parametrize("source", SOURCES)
def test_every_event_arrives_in_its_stream(server: Server, logs, source: str) -> None:
    group = f"sim-{source}-{uuid.uuid4().hex[:6]}"
    start = recent_start()
    count = 3000
    summary = run(source, target(server), group=group, seed=21, rate=500.0, count=count,
                  start_ms=start, paced=False)  # fmt: skip
    assert summary.generated == summary.sent == count
    assert not summary.rejected
    expected = list(itertools.islice(generate(source, seed=21, start_ms=start, rate=500.0),
                                     count))  # fmt: skip
    # The streams exist as the service would name them, created before their first event.
    described = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert sorted(s["logStreamName"] for s in described) == sorted({e.stream for e in expected})
    assert summary.streams == list(dict.fromkeys(e.stream for e in expected))
    stored = collections.Counter()
    for stream in summary.streams:
        for event in read_events(logs, group, stream):
            stored[(stream, event["timestamp"], event["message"])] += 1
            assert event["timestamp"] == PARSE[source](event["message"])
    assert stored == collections.Counter((e.stream, e.timestamp, e.message) for e in expected)


def test_rate_is_roughly_honoured(server: Server) -> None:
    summary = run("vpc-flow", target(server), group=f"sim-rate-{uuid.uuid4().hex[:6]}",
                  seed=1, rate=200.0, duration=2.0)  # fmt: skip
    assert summary.sent == summary.generated
    assert 200 <= summary.sent <= 2.0 * 200 * 1.15  # pacing never runs ahead of the schedule
    paced = run("cloudtrail", target(server), group=f"sim-rate-{uuid.uuid4().hex[:6]}",
                seed=1, rate=100.0, count=150)  # fmt: skip
    assert paced.elapsed >= 1.3  # 150 events at 100/s cannot take much less than 1.5 s


def test_stop_flushes_what_was_generated(server: Server, logs) -> None:
    stop = threading.Event()
    group = f"sim-stop-{uuid.uuid4().hex[:6]}"
    timer = threading.Timer(1.0, stop.set)
    timer.start()
    progress = []
    summary = run("client-vpn", target(server), group=group, seed=2, rate=300.0, stop=stop,
                  progress=progress.append, progress_interval=0.2)  # fmt: skip
    assert summary.stopped and summary.generated > 0
    assert summary.sent == summary.generated
    stored = sum(len(read_events(logs, group, s)) for s in summary.streams)
    assert stored == summary.generated
    assert progress and progress[-1].generated <= summary.generated


def test_output_writes_messages(tmp_path) -> None:
    out = tmp_path / "flows.log"
    with out.open("w") as handle:
        summary = run("vpc-flow", output=handle, seed=4, count=500, start_ms=recent_start())
    lines = out.read_text().splitlines()
    assert len(lines) == summary.sent == 500
    assert all(DEFAULT.parse(line) for line in lines)


def test_sending_throughput(server: Server) -> None:
    """A benchmark printout, not a judgement (run with -s): events/s each simulator reaches
    against the real server, unpaced, on this machine."""
    for source in SOURCES:
        summary = run(source, target(server), group=f"sim-bench-{uuid.uuid4().hex[:6]}",
                      seed=3, rate=20_000.0, count=60_000, start_ms=recent_start(),
                      paced=False)  # fmt: skip
        assert summary.sent == 60_000
        print(f"\n{source}: {summary.events_per_second:,.0f} events/s sent "
              f"({summary.batches} batches)")  # fmt: skip
