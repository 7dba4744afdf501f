"""The aws CLI (``aws cloudwatch ...``, v1, JSON 1.0) against the real server."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.helpers import AwsCli
from tests.metrics.test_api import hour_ago, namespace
from tests.server import ACCESS_KEY, SECRET_KEY, Server


@pytest.fixture(scope="module")
def aws(server: Server, tmp_path_factory: pytest.TempPathFactory) -> AwsCli:
    home: Path = tmp_path_factory.mktemp("aws-home")
    (home / "config").write_text("")
    (home / "credentials").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_CONFIG_FILE=str(home / "config"), AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        AWS_EC2_METADATA_DISABLED="true", HOME=str(home), PYTHONIOENCODING="utf-8",
    )  # fmt: skip
    return AwsCli(server, env, "cloudwatch")


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_put_metric_data_then_get_metric_statistics(aws: AwsCli) -> None:
    ns, base = namespace(), hour_ago()
    aws("put-metric-data", "--namespace", ns, "--metric-name", "Rejects", "--value", "4",
        "--unit", "Count", "--timestamp", iso(base + 5))  # fmt: skip
    aws("put-metric-data", "--namespace", ns, "--metric-name", "Rejects", "--value", "6",
        "--unit", "Count", "--timestamp", iso(base + 50))  # fmt: skip
    answer = aws("get-metric-statistics", "--namespace", ns, "--metric-name", "Rejects",
                 "--start-time", iso(base), "--end-time", iso(base + 60), "--period", "60",
                 "--statistics", "Sum", "Maximum")  # fmt: skip
    (point,) = answer["Datapoints"]
    assert (point["Sum"], point["Maximum"], point["Unit"]) == (10.0, 6.0, "Count")
    listed = aws("list-metrics", "--namespace", ns)
    assert [m["MetricName"] for m in listed["Metrics"]] == ["Rejects"]


def test_errors_read_as_aws_words_them(aws: AwsCli) -> None:
    base = hour_ago()
    stderr = aws.error("get-metric-statistics", "--namespace", "n", "--metric-name", "m",
                       "--start-time", iso(base), "--end-time", iso(base), "--period", "60",
                       "--statistics", "Sum")  # fmt: skip
    assert "(InvalidParameterValue)" in stderr
    assert "The parameter StartTime must be less than the parameter EndTime." in stderr
