"""``logsieve recipes add`` takes the monitoring recipes too, as issue 13 words it: the same
names and options as ``recipes apply``, made on the server through its API."""

from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner

from logsieve.cli import main
from tests.server import ACCESS_KEY, SECRET_KEY, Server, client

ENV = {"LOGSIEVE_ACCESS_KEY_ID": ACCESS_KEY, "LOGSIEVE_SECRET_ACCESS_KEY": SECRET_KEY}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    running = Server(tmp_path_factory.mktemp("recipes-add")).start()
    yield running
    running.stop()


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["recipes", *args], env=ENV)
    return result.exit_code, result.output


def test_add_rejected_traffic_rate_makes_filter_alarm_and_topic(server: Server) -> None:
    group, topic = f"flow-{uuid.uuid4().hex[:8]}", f"rt-{uuid.uuid4().hex[:8]}"
    client(server, "logs").create_log_group(logGroupName=group)
    code, output = _run(
        "add", "rejected-traffic-rate", "--log-group", group, "--email", "oncall@example.com",
        "--threshold", "25", "--period", "10", "--topic", topic, "--endpoint-url", server.url,
    )  # fmt: skip
    assert code == 0, output
    assert f"Created 2 metric filters on {group}, 1 alarm and topic" in output
    filters = client(server, "logs").describe_metric_filters(logGroupName=group)["metricFilters"]
    assert {f["filterName"] for f in filters} == {"RejectedFlows", "RejectedFlowsBySource"}
    (alarm,) = client(server, "cloudwatch").describe_alarms(AlarmNames=["rejected-traffic-rate"])[
        "MetricAlarms"
    ]
    assert (alarm["Threshold"], alarm["Period"]) == (25.0, 10)
    assert alarm["AlarmActions"] == [f"arn:aws:sns:us-east-1:123456789012:{topic}"]


def test_add_and_apply_print_the_same_aws_cli_script() -> None:
    args = ["cis-monitoring", "--log-group", "trail", "--email", "sec@example.com", "--dry-run"]
    added, applied = _run("add", *args), _run("apply", *args)
    assert added == applied and added[0] == 0
    assert added[1].count("aws cloudwatch put-metric-alarm") == 14


def test_alert_rule_recipes_still_need_a_channel_and_help_names_both_kinds() -> None:
    code, output = _run("add", "rejected-traffic", "--log-group", "g", "--dry-run")
    assert code == 2 and "Missing option '--channel'" in output
    code, output = _run("add", "rejected-traffic-rate", "--log-group", "g", "--channel", "c")
    assert code == 2 and "No such option '--channel'" in output
    code, output = _run("add", "--help")
    assert code == 0
    assert "rejected-traffic-rate and cis-monitoring are made on" in " ".join(output.split())
    code, output = _run("list")
    assert code == 0 and "rejected-traffic-rate  (made through the API)" in output
