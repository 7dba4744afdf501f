"""Metrics and alarms in a real browser: PutMetricData and PutMetricAlarm with boto3, the
chart drawn by uPlot with the threshold, and the alarm changing state."""

from __future__ import annotations

import datetime
from typing import Any

from tests.console.conftest import ConsoleServer, screenshot
from tests.server import client


def test_the_chart_is_drawn_and_the_alarm_changes_state(
    signed_in_page: Any, console_server: ConsoleServer
) -> None:
    page = signed_in_page
    cloudwatch = client(console_server, "cloudwatch")  # type: ignore[arg-type]
    now = datetime.datetime.now(datetime.UTC)
    cloudwatch.put_metric_data(Namespace="Browser", MetricData=[
        {"MetricName": "Latency", "Timestamp": now - datetime.timedelta(minutes=m), "Value": v}
        for m, v in ((9, 120.0), (6, 340.0), (3, 90.0))
    ])  # fmt: skip
    cloudwatch.put_metric_alarm(
        AlarmName="slow",
        Namespace="Browser",
        MetricName="Latency",
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=300.0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="ignore",  # the evaluator keeps the states the test sets
    )
    cloudwatch.set_alarm_state(AlarmName="slow", StateValue="OK", StateReason="quiet")
    page.goto(
        f"{console_server.url}/console/metrics?namespace=Browser&name=Latency"
        "&stat=Maximum&range=1h&alarm=slow"
    )
    page.wait_for_selector("#chart[data-drawn='3'] .uplot canvas")
    legend = page.locator("#chart .u-legend").text_content()
    assert "Latency (Maximum)" in legend and "slow threshold" in legend
    row = page.locator("tr[data-alarm=slow] [data-testid=alarm-state]")
    assert row.text_content() == "OK"
    screenshot(page, "metrics")

    cloudwatch.set_alarm_state(AlarmName="slow", StateValue="ALARM", StateReason="too slow")
    page.reload()
    assert row.text_content() == "ALARM"
    assert "from OK to ALARM" in page.text_content("[data-testid=alarm-history]")
