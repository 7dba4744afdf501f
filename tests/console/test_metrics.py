"""Metrics and alarms page through a signed-in TestClient on the real app: a metric's points
for the chart (and as a table), the threshold of an alarm on it, alarm states and history."""

from __future__ import annotations

import html
import json
import re
import time
from typing import Any

from tests.console.conftest import ConsoleClient


def _cloudwatch(app: Any, operation: str, **params: Any) -> dict[str, Any]:
    return app.state.console.app.state.services.extra["cloudwatch"][operation](params) or {}


def test_a_metric_is_charted_with_its_alarm_threshold_and_the_alarm_history(
    console_client: ConsoleClient, console_app: Any
) -> None:
    now = time.time()
    dims = [{"Name": "Service", "Value": "checkout"}]
    _cloudwatch(console_app, "PutMetricData", Namespace="App", MetricData=[
        {"MetricName": "Errors", "Dimensions": dims, "Timestamp": now - 600, "Value": 3.0},
        {"MetricName": "Errors", "Dimensions": dims, "Timestamp": now - 120, "Value": 7.0},
    ])  # fmt: skip
    _cloudwatch(console_app, "PutMetricAlarm", AlarmName="checkout-errors", Namespace="App",
                MetricName="Errors", Dimensions=dims, Statistic="Sum", Period=60,
                EvaluationPeriods=1, Threshold=5.0,
                ComparisonOperator="GreaterThanThreshold")  # fmt: skip
    _cloudwatch(console_app, "SetAlarmState", AlarmName="checkout-errors", StateValue="ALARM",
                StateReason="set by the console test")  # fmt: skip

    page = console_client.get("/console/metrics", params={
        "namespace": "App", "name": "Errors", "dims": "Service=checkout", "stat": "Sum",
        "range": "1h", "alarm": "checkout-errors"})  # fmt: skip
    assert page.status_code == 200, page.text
    chart = json.loads(html.unescape(re.search(r'data-chart="([^"]*)"', page.text)[1]))
    assert [value for _, value in chart["points"]] == [3.0, 7.0]
    assert chart["thresholds"] == [{"alarm": "checkout-errors", "value": 5.0, "state": "ALARM"}]
    text = html.unescape(page.text)
    assert 'data-alarm="checkout-errors"' in text
    assert "set by the console test" in text
    assert "Alarm updated from INSUFFICIENT_DATA to ALARM" in text  # the history's summary
    listed = console_client.get("/console/metrics")
    assert "App / Errors" in html.unescape(listed.text)


def test_a_bad_range_or_statistic_falls_back_and_unknown_metrics_are_empty(
    console_client: ConsoleClient,
) -> None:
    page = console_client.get("/console/metrics", params={
        "namespace": "None", "name": "Nothing", "range": "5y", "stat": "Median"})  # fmt: skip
    assert page.status_code == 200
    chart = json.loads(html.unescape(re.search(r'data-chart="([^"]*)"', page.text)[1]))
    assert chart["points"] == [] and chart["label"] == "Nothing (Sum)"
