"""``logsieve storage copy``: a populated SQLite data directory (filled through the API of a
real SQLite server) copied into the test cluster and read back through a logsieve node on it;
a second run copies nothing more."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.cluster_api.harness import ApiCluster
from tests.server import Server, client

HOUR = 3_600_000


def _populate(data_dir: Path) -> dict[str, Any]:
    """Fill a SQLite server through boto3; what the copy must keep, as read back from it."""
    server = Server(data_dir).start()
    try:
        logs, sns = client(server), client(server, "sns")
        logs.create_log_group(logGroupName="/old/app", tags={"team": "web"})
        logs.put_retention_policy(logGroupName="/old/app", retentionInDays=30)
        now = int(time.time() * 1000)
        for name in ("a", "b"):
            logs.create_log_stream(logGroupName="/old/app", logStreamName=name)
            for batch in range(3):
                logs.put_log_events(
                    logGroupName="/old/app", logStreamName=name,
                    logEvents=[{"timestamp": now - HOUR + batch * 1000 + i,
                                "message": f"{name} {batch} {i} status=500"}
                               for i in range(40)],
                )  # fmt: skip
        logs.put_metric_filter(
            logGroupName="/old/app", filterName="errors", filterPattern="status=500",
            metricTransformations=[{"metricName": "Errors", "metricNamespace": "App",
                                    "metricValue": "1"}],
        )  # fmt: skip
        arn = sns.create_topic(Name="old-alerts")["TopicArn"]
        sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="ops@example.com")
        client(server, "cloudwatch").put_metric_alarm(
            AlarmName="old-high", Namespace="App", MetricName="Errors", Statistic="Sum",
            Period=60, EvaluationPeriods=1, Threshold=5.0,
            ComparisonOperator="GreaterThanThreshold",
        )  # fmt: skip
        return _view(server, 0)
    finally:
        server.stop()


def _view(server: Server | ApiCluster, index: int) -> dict[str, Any]:
    """Everything the test compares, through the API of one server."""
    make = (lambda s: client(server, s)) if isinstance(server, Server) else (
        lambda s: server.client(index, s)
    )  # fmt: skip
    logs = make("logs")
    group = logs.describe_log_groups(logGroupNamePrefix="/old/")["logGroups"]
    streams = logs.describe_log_streams(logGroupName="/old/app")["logStreams"]
    events = {
        s["logStreamName"]: [
            (e["timestamp"], e["ingestionTime"], e["message"])
            for e in logs.get_log_events(
                logGroupName="/old/app", logStreamName=s["logStreamName"], startFromHead=True
            )["events"]
        ]
        for s in streams
    }
    arn = next(t["TopicArn"] for t in make("sns").list_topics()["Topics"])
    return {
        "groups": [
            (g["logGroupName"], g["creationTime"], g.get("retentionInDays"), g["storedBytes"])
            for g in group
        ],
        "tags": logs.list_tags_log_group(logGroupName="/old/app")["tags"],
        "streams": [
            (
                s["logStreamName"],
                s["creationTime"],
                s.get("firstEventTimestamp"),
                s.get("lastEventTimestamp"),
            )
            for s in streams
        ],
        "events": events,
        "filtered": len(
            logs.filter_log_events(logGroupName="/old/app", filterPattern="status=500")["events"]
        ),
        "metric filters": [
            (f["filterName"], f["filterPattern"])
            for f in logs.describe_metric_filters(logGroupName="/old/app")["metricFilters"]
        ],
        "topic": arn,
        "subscriptions": [
            (s["Protocol"], s["Endpoint"])
            for s in make("sns").list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        ],
        "alarms": [
            (a["AlarmName"], a["Threshold"], a["StateValue"])
            for a in make("cloudwatch").describe_alarms()["MetricAlarms"]
        ],
    }


def _copy(source: Path, config: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "logsieve", "storage", "copy", "--from", str(source),
         "--to", str(config)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_sqlite_directory_copied_into_the_cluster_reads_back_the_same(
    own_deployment: Callable[..., ApiCluster], tmp_path: Path
) -> None:
    source = tmp_path / "sqlite"
    before = _populate(source)
    assert sum(len(v) for v in before["events"].values()) == 240
    deployment = own_deployment(logsieve_nodes=0)

    first = _copy(source, deployment.config_file)
    assert "  events: 240 copied, 0 already there" in first
    assert "log group /old/app: 2 streams, 240 events copied" in first
    assert "not copied:" in first and "  alarms: history of deleted alarms" in first

    deployment.add_node()
    assert _view(deployment, 0) == before

    again = _copy(source, deployment.config_file)
    assert "  events: 0 copied" in again
    assert "  log groups: 0 copied, 1 already there" in again
    assert _view(deployment, 0) == before
