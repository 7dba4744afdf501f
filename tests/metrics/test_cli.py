"""``logsieve metrics list|show`` against the real server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from logsieve.cli import main
from tests.metrics.test_api import at, namespace
from tests.server import ACCESS_KEY, SECRET_KEY, Server


@pytest.fixture
def cli(server: Server, tmp_path: Any) -> Any:
    env = {"LOGSIEVE_ACCESS_KEY_ID": ACCESS_KEY, "LOGSIEVE_SECRET_ACCESS_KEY": SECRET_KEY,
           "LOGSIEVE_CONFIG": ""}  # fmt: skip

    def run(*args: str) -> Any:
        result = CliRunner().invoke(
            main, ["metrics", *args, "--endpoint-url", server.url, "--data-dir", str(tmp_path)],
            env=env, catch_exceptions=False,
        )  # fmt: skip
        return result

    return run


def test_list_and_show_a_metric(cli: Any, cw_json: Any) -> None:
    import time

    ns = namespace()
    now = int(time.time()) // 60 * 60
    cw_json.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Rejects", "Value": v, "Timestamp": at(now - 60 * i),
         "Dimensions": [{"Name": "Port", "Value": "22"}]}
        for i, v in enumerate([5.0, 1.0, 3.0])
    ])  # fmt: skip
    listed = cli("list", "--namespace", ns, "--json")
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output) == [
        {"Namespace": ns, "MetricName": "Rejects", "Dimensions": [{"Name": "Port", "Value": "22"}]}
    ]
    assert "Rejects  [Port=22]" in cli("list", "--namespace", ns).output
    shown = cli("show", ns, "Rejects", "--dimension", "Port=22", "--since", "10m", "--json")
    assert [p["value"] for p in json.loads(shown.output)] == [3.0, 1.0, 5.0]
    chart = cli("show", ns, "Rejects", "--dimension", "Port=22", "--since", "10m").output
    assert "total 9  points 3" in chart and "max 5" in chart


def test_errors_are_one_line(cli: Any) -> None:
    result = cli("show", "n", "m", "--dimension", "broken")
    assert result.exit_code != 0
    assert "NAME=VALUE" in result.output
