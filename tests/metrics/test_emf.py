"""Embedded Metric Format: what the real libraries print, logged to a Lambda function's log
group, becomes CloudWatch metrics (values, dimension sets, units, resolution, timestamps)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from aws_embedded_metrics.logger.metrics_context import MetricsContext
from aws_embedded_metrics.serializers.log_serializer import LogSerializer
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from logsieve.formats import emf
from tests.metrics.clients import cloudwatch
from tests.metrics.test_metric_filters import per_minute
from tests.server import Server
from tests.waiting import wait_for


@pytest.fixture(scope="module")
def cw(server: Server) -> Any:
    return cloudwatch(server)


def lambda_group(logs: Any) -> str:
    group = f"/aws/lambda/emf-{uuid.uuid4().hex[:10]}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="2026/12/03/[$LATEST]abc")
    return group


def log(logs: Any, group: str, lines: list[tuple[int, str]]) -> None:
    logs.put_log_events(
        logGroupName=group, logStreamName="2026/12/03/[$LATEST]abc",
        logEvents=[{"timestamp": ts, "message": m} for ts, m in lines],
    )  # fmt: skip


def minute_ago() -> int:
    return (int(time.time()) // 60 - 5) * 60_000


def test_powertools_metrics_publish_through_the_function_log(logs: Any, cw: Any) -> None:
    ns, start = f"Shop{uuid.uuid4().hex[:8]}", minute_ago()
    lines = []
    for order, value in enumerate([2, 3]):
        metrics = Metrics(namespace=ns, service="orders")
        metrics.add_metric(name="OrdersPlaced", unit=MetricUnit.Count, value=value)
        blob = metrics.serialize_metric_set()
        metrics.clear_metrics()  # what @metrics.log_metrics does after each invocation
        blob["_aws"]["Timestamp"] = start + order
        lines.append((start + order, json.dumps(blob)))
    lines.append((start + 5, "START RequestId: not EMF at all"))
    group = lambda_group(logs)
    log(logs, group, lines)
    service = [{"Name": "service", "Value": "orders"}]
    wait_for(lambda: per_minute(cw, ns, "OrdersPlaced", start, 1, Dimensions=service)
             == {start: (2.0, 5.0, "Count")}, what="powertools metric")  # fmt: skip


def test_aws_embedded_metrics_dimension_sets_and_value_arrays(logs: Any, cw: Any) -> None:
    ns, start = f"Api{uuid.uuid4().hex[:8]}", minute_ago()
    context = MetricsContext.empty()
    context.namespace = ns
    context.put_dimensions({"Operation": "GetItem"})
    context.put_dimensions({"Operation": "GetItem", "Table": "users"})
    for latency in (5, 7, 30):
        context.put_metric("Latency", latency, "Milliseconds")
    context.meta["Timestamp"] = start + 10
    (line,) = LogSerializer.serialize(context)
    log(logs, lambda_group(logs), [(start + 10, line)])
    one = [{"Name": "Operation", "Value": "GetItem"}]
    two = [*one, {"Name": "Table", "Value": "users"}]
    for dims in (one, two):
        wait_for(lambda dims=dims: per_minute(cw, ns, "Latency", start, 1, Dimensions=dims)
                 == {start: (3.0, 42.0, "Milliseconds")}, what=f"latency {dims}")  # fmt: skip


def test_invalid_emf_publishes_nothing() -> None:
    directive = {"Namespace": "n", "Dimensions": [["d"]], "Metrics": [{"Name": "m"}]}
    base = {"_aws": {"Timestamp": 1, "CloudWatchMetrics": [directive]}, "m": 1}
    assert emf.parse(json.dumps({**base, "d": "x"}))[0].values == (1.0,)  # type: ignore[index]
    assert emf.parse(json.dumps(base)) is None  # the dimension is missing
    assert emf.parse(json.dumps({**base, "d": "x", "m": "high"})) is None
    assert emf.parse('not json with "_aws"') is None
