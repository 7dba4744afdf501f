"""The AWS CLI (v1, `aws logs ...`) as a subprocess against the real server."""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import REGION, now_ms, run, unique_group
from tests.server import Server

AWS = Path(sys.executable).parent / "aws"


class Cli:
    def __init__(self, server: Server, env: dict[str, str]) -> None:
        self.server, self.env = server, env

    def raw(self, *args: str):
        assert AWS.exists(), f"{AWS} missing: install the dev extras (pip install -e '.[dev]')"
        argv = [AWS, "--endpoint-url", self.server.url, "--region", REGION, "--output", "json"]
        return run([*argv, "logs", *args], self.env)

    def __call__(self, *args: str) -> Any:
        done = self.raw(*args)
        assert done.returncode == 0, f"aws logs {' '.join(args)} failed:\n{done.stderr}"
        return json.loads(done.stdout) if done.stdout.strip() else None

    def many(self, *calls: tuple[str, ...]) -> list[Any]:
        """Independent read-only calls run side by side: each CLI start costs about a second."""
        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            return list(pool.map(lambda args: self(*args), calls))

    def error(self, *args: str) -> str:
        done = self.raw(*args)
        assert done.returncode != 0, f"aws logs {' '.join(args)} unexpectedly succeeded"
        assert done.stdout == ""
        return done.stderr


@pytest.fixture(scope="module")
def aws(server: Server, client_env: dict[str, str]) -> Cli:
    return Cli(server, client_env)


def test_group_stream_events_round_trip(aws: Cli) -> None:
    group = unique_group("cli")
    assert aws("create-log-group", "--log-group-name", group) is None
    assert aws("create-log-stream", "--log-group-name", group, "--log-stream-name", "web") is None
    t = now_ms()
    events = [
        {"timestamp": t, "message": "INFO GET /index 200 12ms"},
        {"timestamp": t + 1, "message": "ERROR disk full on /dev/sda1"},
        {"timestamp": t + 2, "message": json.dumps({"level": "warn", "latency": 250})},
        {"timestamp": t + 3, "message": "naïve café ✓ 日本語"},
        {"timestamp": t + 4, "message": "ERROR connection reset"},
    ]
    put = aws(
        "put-log-events", "--log-group-name", group, "--log-stream-name", "web",
        "--log-events", json.dumps(events, ensure_ascii=False),
    )  # fmt: skip
    assert set(put) == {"nextSequenceToken"}

    where = ("--log-group-name", group)
    window = ("--start-time", str(t + 2), "--end-time", str(t + 10))
    got, errors, slow, late, described = aws.many(
        ("get-log-events", *where, "--log-stream-name", "web", "--start-from-head"),
        ("filter-log-events", *where, "--filter-pattern", "ERROR"),
        ("filter-log-events", *where, "--filter-pattern", "{ $.latency > 200 }"),
        ("filter-log-events", *where, "--filter-pattern", "ERROR", *window),
        ("describe-log-groups", "--log-group-name-prefix", group),
    )
    assert [(e["timestamp"], e["message"]) for e in got["events"]] == [
        (e["timestamp"], e["message"]) for e in events
    ]
    assert all(e["ingestionTime"] >= t - 5_000 for e in got["events"])

    assert [e["message"] for e in errors["events"]] == [events[1]["message"], events[4]["message"]]
    assert {e["logStreamName"] for e in errors["events"]} == {"web"}
    assert len({e["eventId"] for e in errors["events"]}) == 2

    assert [e["message"] for e in slow["events"]] == [events[2]["message"]]
    assert [e["message"] for e in late["events"]] == [events[4]["message"]]

    groups = described["logGroups"]
    assert [g["logGroupName"] for g in groups] == [group]
    assert groups[0]["storedBytes"] == sum(len(e["message"].encode()) for e in events)
    assert groups[0]["arn"].endswith(f":log-group:{group}:*")

    assert aws("delete-log-group", "--log-group-name", group) is None
    stderr = aws.error("get-log-events", "--log-group-name", group, "--log-stream-name", "web")
    assert "(ResourceNotFoundException)" in stderr
    assert "The specified log group does not exist." in stderr


def test_cli_follows_next_tokens(aws: Cli, logs) -> None:
    """The CLI paginates by itself: with a small page size it must still return everything."""
    group = unique_group("cli-pages")
    logs.create_log_group(logGroupName=group)  # setup through boto3: each CLI run costs ~1 s
    names = [f"s{i}" for i in range(5)]
    for name in names:
        logs.create_log_stream(logGroupName=group, logStreamName=name)
    t = now_ms()
    for i, name in enumerate(names[:2]):  # two streams, interleaved in time
        events = [{"timestamp": t + 2 * k + i, "message": f"{name} tick {k}"} for k in range(30)]
        logs.put_log_events(logGroupName=group, logStreamName=name, logEvents=events)
    ticks = aws(
        "filter-log-events", "--log-group-name", group, "--filter-pattern", "tick",
        "--page-size", "7",
    )  # fmt: skip
    assert [e["message"] for e in ticks["events"]] == [
        f"{name} tick {k}" for k in range(30) for name in names[:2]
    ]
    listed = aws("describe-log-streams", "--log-group-name", group, "--page-size", "2")
    assert [s["logStreamName"] for s in listed["logStreams"]] == names
    first = aws("describe-log-streams", "--log-group-name", group, "--max-items", "3")
    assert [s["logStreamName"] for s in first["logStreams"]] == names[:3]
    rest = aws(
        "describe-log-streams", "--log-group-name", group, "--starting-token", first["NextToken"]
    )
    assert [s["logStreamName"] for s in rest["logStreams"]] == names[3:]


def test_test_metric_filter(aws: Cli) -> None:
    result = aws(
        "test-metric-filter",
        "--filter-pattern", "[ip, user, status = 5*, bytes]",
        "--log-event-messages",
        "10.0.0.1 alice 200 512", "10.0.0.2 bob 503 0", "malformed", "10.0.0.3 carol 500 77",
    )  # fmt: skip
    assert result["matches"] == [
        {
            "eventNumber": 2,
            "eventMessage": "10.0.0.2 bob 503 0",
            "extractedValues": {"$ip": "10.0.0.2", "$user": "bob", "$status": "503", "$bytes": "0"},
        },
        {
            "eventNumber": 4,
            "eventMessage": "10.0.0.3 carol 500 77",
            "extractedValues": {
                "$ip": "10.0.0.3",
                "$user": "carol",
                "$status": "500",
                "$bytes": "77",
            },
        },
    ]
    stderr = aws.error(
        "test-metric-filter", "--filter-pattern", "{ $.x = ", "--log-event-messages", "a"
    )
    assert "(InvalidParameterException)" in stderr


def test_retention_and_errors_exit_non_zero(aws: Cli, logs) -> None:
    group = unique_group("cli-retention")
    logs.create_log_group(logGroupName=group)
    stderr = aws.error(
        "put-retention-policy", "--log-group-name", group, "--retention-in-days", "8"
    )
    assert "An error occurred (InvalidParameterException)" in stderr
    assert "when calling the PutRetentionPolicy operation" in stderr
    assert "Member must satisfy enum value set" in stderr
    unchanged = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    assert "retentionInDays" not in unchanged

    put = aws("put-retention-policy", "--log-group-name", group, "--retention-in-days", "14")
    assert put is None  # no output on success
    described = aws("describe-log-groups", "--log-group-name-prefix", group)["logGroups"]
    assert described[0]["retentionInDays"] == 14

    stderr = aws.error("create-log-group", "--log-group-name", group)
    assert "An error occurred (ResourceAlreadyExistsException)" in stderr
    assert "when calling the CreateLogGroup operation" in stderr
