"""Metric filters and TestMetricFilter through boto3."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

TRANSFORM = [{"metricName": "Errors", "metricNamespace": "App", "metricValue": "1"}]


def test_metric_filter_lifecycle(logs) -> None:
    group = f"/test/mf-{uuid.uuid4().hex[:10]}"
    logs.create_log_group(logGroupName=group)
    logs.put_metric_filter(
        logGroupName=group,
        filterName="errors",
        filterPattern="ERROR",
        metricTransformations=TRANSFORM,
    )
    logs.put_metric_filter(
        logGroupName=group,
        filterName="bytes",
        filterPattern="[..., bytes, action = REJECT, status]",
        metricTransformations=[
            {"metricName": "B", "metricNamespace": "Net", "metricValue": "$bytes"}
        ],
    )
    found = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    assert [f["filterName"] for f in found] == ["bytes", "errors"]
    assert found[1]["metricTransformations"][0]["metricValue"] == "1"
    assert (
        logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["metricFilterCount"] == 2
    )
    by_metric = logs.describe_metric_filters(metricName="B", metricNamespace="Net")["metricFilters"]
    assert any(f["logGroupName"] == group for f in by_metric)
    logs.delete_metric_filter(logGroupName=group, filterName="errors")
    with pytest.raises(ClientError) as err:
        logs.delete_metric_filter(logGroupName=group, filterName="errors")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("pattern", "transform"),
    [
        ("{ $.a = 1", TRANSFORM),
        ("ERROR", [{**TRANSFORM[0], "metricValue": "$.latency"}]),
        ("[a, b]", [{**TRANSFORM[0], "metricValue": "$c"}]),
        ("{ $.a = 1 }", [{**TRANSFORM[0], "dimensions": {"x": "$.a"}, "defaultValue": 0.0}]),
    ],
)
def test_metric_filter_rejections(logs, pattern, transform) -> None:
    group = f"/test/mf-{uuid.uuid4().hex[:10]}"
    logs.create_log_group(logGroupName=group)
    with pytest.raises(ClientError) as err:
        logs.put_metric_filter(
            logGroupName=group,
            filterName="f",
            filterPattern=pattern,
            metricTransformations=transform,
        )
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"


def test_test_metric_filter(logs) -> None:
    result = logs.test_metric_filter(
        filterPattern="[ip, user, username, timestamp, request, status_code = 4*, bytes]",
        logEventMessages=[
            '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534',
            '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 200 1534',
        ],
    )
    assert len(result["matches"]) == 1
    match = result["matches"][0]
    assert match["eventNumber"] == 1
    assert match["extractedValues"]["$status_code"] == "404"
    assert match["extractedValues"]["$request"] == "GET /index.html HTTP/1.0"
    assert (
        logs.test_metric_filter(filterPattern="ERROR", logEventMessages=["ERROR x"])["matches"][0][
            "extractedValues"
        ]
        == {}
    )
