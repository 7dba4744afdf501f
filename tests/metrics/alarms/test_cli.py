"""``logsieve alarms`` against the real server: the table and --json."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from logsieve.cli import main
from tests.server import ACCESS_KEY, SECRET_KEY, Server

ENV = {"LOGSIEVE_ACCESS_KEY_ID": ACCESS_KEY, "LOGSIEVE_SECRET_ACCESS_KEY": SECRET_KEY}


def run(server: Server, *args: str) -> Any:
    result = CliRunner().invoke(main, ["alarms", "--endpoint-url", server.url, *args], env=ENV)
    assert result.exit_code == 0, result.output
    return result.output


def test_alarms_show_state_reason_and_last_change(
    server: Server, cloudwatch: Any, name: str
) -> None:
    for suffix, value in (("a", "ALARM"), ("b", "OK")):
        cloudwatch.put_metric_alarm(
            AlarmName=f"{name}-{suffix}", Namespace="App", MetricName="Errors",
            Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold",
        )  # fmt: skip
        cloudwatch.set_alarm_state(
            AlarmName=f"{name}-{suffix}", StateValue=value, StateReason=f"set to {value}",
            StateReasonData='{"why":"test"}',
        )  # fmt: skip
    found = json.loads(run(server, "--prefix", name, "--json"))["alarms"]
    assert [(a["name"], a["state"], a["reason"]) for a in found] == [
        (f"{name}-a", "ALARM", "set to ALARM"),
        (f"{name}-b", "OK", "set to OK"),
    ]
    described = cloudwatch.describe_alarms(AlarmNames=[f"{name}-a"])["MetricAlarms"][0]
    stamp = described["StateTransitionedTimestamp"].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert found[0]["lastChange"] == stamp
    assert found[0]["reasonData"] == {"why": "test"}
    table = run(server, "--prefix", name, "--state", "ALARM").splitlines()
    assert table[0].split() == ["ALARM", "STATE", "SINCE", "REASON"]
    assert table[1].split() == [f"{name}-a", "ALARM", stamp, "set", "to", "ALARM"]
    assert len(table) == 2


def test_no_alarms_says_how_to_make_one(server: Server) -> None:
    assert "No alarms" in run(server, "--prefix", "nothing-by-this-name")
