"""Metric filters that count, through the real server: boto3 PutLogEvents in, CloudWatch
GetMetricStatistics out, sums checked against the samples computed independently."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.metrics.clients import cloudwatch
from tests.server import Server, client
from tests.waiting import wait_for

REJECT = "[version, account, eni, source, destination, srcport, destport, protocol, packets, bytes, windowstart, windowend, action = REJECT, flowlogstatus]"  # noqa: E501
FLOW = "[version, account, eni, source, destination, srcport, destport, protocol, packets, bytes, windowstart, windowend, action, flowlogstatus]"  # noqa: E501
UNAUTHORIZED = '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'


def minute_ago(minutes: int = 10) -> int:
    """A whole minute ``minutes`` ago, in ms."""
    return (int(time.time()) // 60 - minutes) * 60_000


def setup_group(logs: Any) -> str:
    group = f"/metrics/{uuid.uuid4().hex[:10]}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    return group


def put(logs: Any, group: str, events: list[tuple[int, str]], stream: str = "s") -> None:
    for i in range(0, len(events), 5000):
        chunk = events[i : i + 5000]
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": ts, "message": m} for ts, m in chunk],
        )


def metric_filter(logs: Any, group: str, name: str, pattern: str, **transformation: Any) -> str:
    namespace = f"Filters/{uuid.uuid4().hex[:10]}"
    logs.put_metric_filter(
        logGroupName=group,
        filterName=name,
        filterPattern=pattern,
        metricTransformations=[
            {"metricName": name, "metricNamespace": namespace, **transformation}
        ],
    )
    return namespace


def per_minute(cw: Any, namespace: str, name: str, start_ms: int, minutes: int, **kw: Any):
    """{minute start ms: (SampleCount, Sum, Unit)} over ``minutes`` minutes."""
    points = cw.get_metric_statistics(
        Namespace=namespace, MetricName=name, Period=60, Statistics=["SampleCount", "Sum"],
        StartTime=datetime.fromtimestamp(start_ms / 1000, UTC),
        EndTime=datetime.fromtimestamp(start_ms / 1000 + minutes * 60, UTC), **kw,
    )["Datapoints"]  # fmt: skip
    return {
        int(p["Timestamp"].timestamp() * 1000): (p["SampleCount"], p["Sum"], p["Unit"])
        for p in points
    }


def flow_events(samples: Path, start_ms: int) -> list[tuple[int, str]]:
    """The flow-log sample, 100 records a minute over two minutes."""
    lines = samples.joinpath("vpc-flow-default.log").read_text().splitlines()
    return [(start_ms + (i // 100) * 60_000 + i % 100, line) for i, line in enumerate(lines)]


def expected(events: list[tuple[int, str]], pick: Any) -> dict[int, tuple[float, float]]:
    """(count, sum) per minute of the values ``pick`` takes from the matching lines."""
    out: dict[int, tuple[float, float]] = {}
    for ts, line in events:
        value = pick(line.split())
        if value is None:
            continue
        minute = ts // 60_000 * 60_000
        count, total = out.get(minute, (0.0, 0.0))
        out[minute] = (count + 1, total + value)
    return out


@pytest.fixture(scope="module")
def cw(server: Server) -> Any:
    return cloudwatch(server)


def test_reject_count_and_bytes_sum_are_exact_on_the_flow_log_sample(
    server: Server, logs: Any, cw: Any, samples: Path
) -> None:
    group, start = setup_group(logs), minute_ago()
    events = flow_events(samples, start)
    rejects = metric_filter(logs, group, "Rejects", REJECT, metricValue="1", unit="Count")
    byte_sum = metric_filter(logs, group, "Bytes", FLOW, metricValue="$bytes", unit="Bytes")
    put(logs, group, events)
    want_rejects = {
        minute: (count, total, "Count")
        for minute, (count, total) in expected(
            events, lambda f: 1.0 if f[12] == "REJECT" else None
        ).items()
    }
    want_bytes = {
        minute: (count, total, "Bytes")
        for minute, (count, total) in expected(
            events, lambda f: float(f[9]) if f[9].isdigit() else None
        ).items()
    }
    assert sum(c for c, _, _ in want_rejects.values()) > 0
    wait_for(lambda: per_minute(cw, rejects, "Rejects", start, 3) == want_rejects,
             what="REJECT counts")  # fmt: skip
    wait_for(lambda: per_minute(cw, byte_sum, "Bytes", start, 3) == want_bytes,
             what="bytes sums")  # fmt: skip


def test_cis_unauthorized_calls_on_the_cloudtrail_sample(logs: Any, cw: Any, samples: Path) -> None:
    group, start = setup_group(logs), minute_ago()
    records = samples.joinpath("cloudtrail-events.jsonl").read_text().splitlines()
    ns = metric_filter(logs, group, "Unauthorized", UNAUTHORIZED, metricValue="1")
    put(logs, group, [(start + i, line) for i, line in enumerate(records)])
    codes = [json.loads(line).get("errorCode") or "" for line in records]
    want = sum(c.endswith("UnauthorizedOperation") or c.startswith("AccessDenied") for c in codes)
    assert want > 0
    wait_for(lambda: per_minute(cw, ns, "Unauthorized", start, 1) == {start: (want, want, "None")},
             what="unauthorized call count")  # fmt: skip


def test_default_value_once_per_non_matching_event_and_other_groups_untouched(
    logs: Any, cw: Any
) -> None:
    group, other, start = setup_group(logs), setup_group(logs), minute_ago()
    ns = metric_filter(logs, group, "Errors", "ERROR", metricValue="1", defaultValue=0)
    put(logs, other, [(start, "ERROR elsewhere")] * 3)
    put(logs, group, [(start, "ERROR a"), (start + 1, "fine"), (start + 2, "fine"),
                      (start + 60_000, "fine")])  # fmt: skip
    want = {start: (3.0, 1.0, "None"), start + 60_000: (1.0, 0.0, "None")}
    wait_for(lambda: per_minute(cw, ns, "Errors", start, 2) == want, what="default values")


def test_values_and_dimensions_from_json_fields_only_when_found(logs: Any, cw: Any) -> None:
    group, start = setup_group(logs), minute_ago()
    ns = metric_filter(
        logs, group, "Latency", "{ $.latency = * }", metricValue="$.latency",
        unit="Milliseconds", dimensions={"Service": "$.service"},
    )  # fmt: skip
    put(logs, group, [
        (start, json.dumps({"latency": 5, "service": "api"})),
        (start + 1, json.dumps({"latency": 7, "service": "api"})),
        (start + 2, json.dumps({"latency": 11})),
        (start + 3, json.dumps({"latency": "slow", "service": "api"})),
        (start + 4, json.dumps({"other": 1})),
    ])  # fmt: skip
    api = [{"Name": "Service", "Value": "api"}]
    wait_for(lambda: per_minute(cw, ns, "Latency", start, 1, Dimensions=api)
             == {start: (2.0, 12.0, "Milliseconds")}, what="api latency")  # fmt: skip
    assert per_minute(cw, ns, "Latency", start, 1) == {start: (1.0, 11.0, "Milliseconds")}
    listed = cw.list_metrics(Namespace=ns)["Metrics"]
    assert sorted(len(m["Dimensions"]) for m in listed) == [0, 1]


def test_events_before_the_filter_was_created_do_not_count(logs: Any, cw: Any) -> None:
    group, start = setup_group(logs), minute_ago()
    put(logs, group, [(start, "ERROR before")] * 4)
    ns = metric_filter(logs, group, "Errors", "ERROR", metricValue="1")
    put(logs, group, [(start + 1, "ERROR after")])
    wait_for(lambda: per_minute(cw, ns, "Errors", start, 1) == {start: (1.0, 1.0, "None")},
             what="only the later event")  # fmt: skip


def test_no_double_count_when_the_server_is_killed_mid_counting(tmp_path: Path) -> None:
    running = Server(tmp_path / "data").start()
    try:
        logs = client(running)
        group, start = setup_group(logs), minute_ago(30)
        ns = metric_filter(logs, group, "Hits", "hit", metricValue="2")
        events = [(start + (i // 100) * 1000, "hit" if i % 3 else "miss") for i in range(60_000)]
        put(logs, group, events)
        running.kill()
        running.start()
        want = Counter()
        for ts, message in events:
            if message == "hit":
                want[ts // 60_000 * 60_000] += 1
        expected_points = {m: (float(n), 2.0 * n, "None") for m, n in want.items()}
        cw = cloudwatch(running)
        wait_for(lambda: per_minute(cw, ns, "Hits", start, 12) == expected_points,
                 what="exact counts after the restart")  # fmt: skip
        running.kill()  # and once more, with everything counted: still nothing twice
        running.start()
        logs = client(running)
        put(logs, group, [(start, "hit")])
        expected_points[start] = (expected_points[start][0] + 1, expected_points[start][1] + 2,
                                  "None")  # fmt: skip
        cw = cloudwatch(running)
        wait_for(lambda: per_minute(cw, ns, "Hits", start, 12) == expected_points,
                 what="one more event counted once")  # fmt: skip
    finally:
        running.stop()
