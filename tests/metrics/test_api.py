"""PutMetricData, GetMetricStatistics and ListMetrics through real clients on every protocol
CloudWatch is spoken in (boto3's JSON 1.0 and botocore forced to Query)."""

from __future__ import annotations

import gzip
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError


def namespace() -> str:
    return f"Test/{uuid.uuid4().hex[:12]}"


def hour_ago() -> int:
    """A whole minute about an hour ago: inside every acceptance window, minute-aligned."""
    return int(time.time()) // 3600 * 3600 - 3600


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def failure(call: Callable[..., Any], **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    return raised.value


def stats(cw: Any, ns: str, name: str, start: int, end: int, period: int, **kw: Any) -> list:
    points = cw.get_metric_statistics(
        Namespace=ns, MetricName=name, StartTime=at(start), EndTime=at(end), Period=period, **kw
    )["Datapoints"]
    return sorted(points, key=lambda p: p["Timestamp"])


def test_values_aggregate_exactly_per_period(cw: Any) -> None:
    ns, base = namespace(), hour_ago()
    cw.put_metric_data(
        Namespace=ns,
        MetricData=[
            {"MetricName": "Latency", "Value": 3.5, "Unit": "Milliseconds",
             "Timestamp": at(base + 5)},
            {"MetricName": "Latency", "Values": [1.0, 10.0], "Counts": [3, 2],
             "Unit": "Milliseconds", "Timestamp": at(base + 50)},
            {"MetricName": "Latency", "StatisticValues": {"SampleCount": 4, "Sum": 40,
             "Minimum": 2, "Maximum": 20}, "Unit": "Milliseconds", "Timestamp": at(base + 70)},
        ],
    )  # fmt: skip
    points = stats(
        cw, ns, "Latency", base, base + 120, 60,
        Statistics=["SampleCount", "Sum", "Minimum", "Maximum", "Average"],
    )  # fmt: skip
    assert [(p["Timestamp"].timestamp(), p["SampleCount"], p["Sum"], p["Minimum"],
             p["Maximum"], p["Average"], p["Unit"]) for p in points] == [
        (base, 6.0, 26.5, 1.0, 10.0, 26.5 / 6, "Milliseconds"),
        (base + 60, 4.0, 40.0, 2.0, 20.0, 10.0, "Milliseconds"),
    ]  # fmt: skip


def test_only_the_statistics_asked_for_are_answered(cw: Any) -> None:
    ns, base = namespace(), hour_ago()
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "m", "Value": 2.0, "Timestamp": at(base)}])  # fmt: skip
    (point,) = stats(cw, ns, "m", base, base + 60, 60, Statistics=["Sum"])
    assert set(point) == {"Timestamp", "Sum", "Unit"}
    assert point["Unit"] == "None"


def test_percentiles_are_nearest_rank_and_absent_for_statistic_sets(cw: Any) -> None:
    ns, base = namespace(), hour_ago()
    values = [float(v) for v in range(1, 101)]
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "m", "Values": values, "Timestamp": at(base)},
        {"MetricName": "m", "StatisticValues": {"SampleCount": 2, "Sum": 3, "Minimum": 1,
         "Maximum": 2}, "Timestamp": at(base + 60)},
    ])  # fmt: skip
    points = stats(cw, ns, "m", base, base + 120, 60, ExtendedStatistics=["p50", "p99", "p99.5"])
    assert points[0]["ExtendedStatistics"] == {"p50": 50.0, "p99": 99.0, "p99.5": 100.0}
    assert points[1].get("ExtendedStatistics", {}) == {}


def test_unit_filter_and_datapoints_per_unit(cw: Any) -> None:
    ns, base = namespace(), hour_ago()
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "m", "Value": 1.0, "Unit": "Bytes", "Timestamp": at(base)},
        {"MetricName": "m", "Value": 5.0, "Unit": "Count", "Timestamp": at(base)},
    ])  # fmt: skip
    only = stats(cw, ns, "m", base, base + 60, 60, Statistics=["Sum"], Unit="Count")
    assert [(p["Sum"], p["Unit"]) for p in only] == [(5.0, "Count")]
    both = stats(cw, ns, "m", base, base + 60, 60, Statistics=["Sum"])
    assert sorted((p["Sum"], p["Unit"]) for p in both) == [(1.0, "Bytes"), (5.0, "Count")]


def test_dimension_sets_are_distinct_metrics(cw: Any) -> None:
    ns, base = namespace(), hour_ago()
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "m", "Value": 1.0, "Timestamp": at(base),
         "Dimensions": [{"Name": "a", "Value": "1"}, {"Name": "b", "Value": "2"}]},
        {"MetricName": "m", "Value": 7.0, "Timestamp": at(base),
         "Dimensions": [{"Name": "a", "Value": "1"}]},
    ])  # fmt: skip
    swapped = [{"Name": "b", "Value": "2"}, {"Name": "a", "Value": "1"}]
    points = stats(cw, ns, "m", base, base + 60, 60, Statistics=["Sum"], Dimensions=swapped)
    assert [p["Sum"] for p in points] == [1.0]
    assert stats(cw, ns, "m", base, base + 60, 60, Statistics=["Sum"]) == []


def test_high_resolution_keeps_seconds_and_standard_keeps_minutes(cw: Any) -> None:
    ns, base = namespace(), int(time.time()) // 60 * 60 - 600
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "hi", "Value": 1.0, "Timestamp": at(base + 1), "StorageResolution": 1},
        {"MetricName": "hi", "Value": 2.0, "Timestamp": at(base + 12), "StorageResolution": 1},
        {"MetricName": "std", "Value": 1.0, "Timestamp": at(base + 1)},
        {"MetricName": "std", "Value": 2.0, "Timestamp": at(base + 12)},
    ])  # fmt: skip
    hi = stats(cw, ns, "hi", base, base + 60, 10, Statistics=["Sum"])
    assert [(p["Timestamp"].timestamp() - base, p["Sum"]) for p in hi] == [(0, 1.0), (10, 2.0)]
    std = stats(cw, ns, "std", base, base + 60, 10, Statistics=["Sum"])
    assert [(p["Timestamp"].timestamp() - base, p["Sum"]) for p in std] == [(0, 3.0)]


def test_list_metrics_filters_and_pages(cw: Any) -> None:
    ns = namespace()
    data = [
        {"MetricName": f"m{i:03d}", "Value": 1.0,
         "Dimensions": [{"Name": "host", "Value": "a" if i % 2 else "b"}]}
        for i in range(501)
    ]  # fmt: skip
    cw.put_metric_data(Namespace=ns, MetricData=data[:500])
    cw.put_metric_data(Namespace=ns, MetricData=data[500:])
    first = cw.list_metrics(Namespace=ns)
    assert len(first["Metrics"]) == 500 and "NextToken" in first
    second = cw.list_metrics(Namespace=ns, NextToken=first["NextToken"])
    assert len(second["Metrics"]) == 1 and "NextToken" not in second
    names = [m["MetricName"] for m in first["Metrics"] + second["Metrics"]]
    assert sorted(names) == [f"m{i:03d}" for i in range(501)]
    only_a = cw.list_metrics(Namespace=ns, Dimensions=[{"Name": "host", "Value": "a"}])
    assert len(only_a["Metrics"]) == 250
    one = cw.list_metrics(Namespace=ns, MetricName="m007", Dimensions=[{"Name": "host"}])
    assert one["Metrics"] == [
        {"Namespace": ns, "MetricName": "m007", "Dimensions": [{"Name": "host", "Value": "a"}]}
    ]
    bad = failure(cw.list_metrics, Namespace=ns, NextToken="garbage")
    assert bad.response["Error"]["Code"] == "InvalidNextToken"


def test_large_requests_arrive_gzipped_and_count(cw_json: Any) -> None:
    ns, base = namespace(), hour_ago()
    sent: list[dict] = []
    cw_json.meta.events.register(
        "before-send.cloudwatch.PutMetricData",
        lambda request, **_: sent.append(dict(request.headers)),
    )
    data = [{"MetricName": "m", "Value": float(i), "Timestamp": at(base)} for i in range(1000)]
    cw_json.put_metric_data(Namespace=ns, MetricData=data)
    assert sent[-1].get("Content-Encoding") in ("gzip", b"gzip")
    (point,) = stats(cw_json, ns, "m", base, base + 60, 60, Statistics=["Sum", "SampleCount"])
    assert (point["Sum"], point["SampleCount"]) == (sum(range(1000)), 1000.0)
    assert gzip.decompress(gzip.compress(b"x")) == b"x"


# -- errors, as AWS words them ------------------------------------------------------------


def test_value_and_values_are_exclusive(cw: Any) -> None:
    error = failure(cw.put_metric_data, Namespace=namespace(), MetricData=[
        {"MetricName": "m", "Value": 1.0, "Values": [1.0]}])  # fmt: skip
    assert isinstance(error, cw.exceptions.InvalidParameterCombinationException)
    assert error.response["Error"]["Code"] == "InvalidParameterCombination"
    assert error.response["Error"]["Message"] == (
        "The parameters MetricData.member.1.Value and MetricData.member.1.Values are mutually "
        "exclusive and you have specified both."
    )


def test_values_and_counts_must_match(cw: Any) -> None:
    error = failure(cw.put_metric_data, Namespace=namespace(), MetricData=[
        {"MetricName": "m", "Value": 1.0}, {"MetricName": "m", "Values": [1.0, 2.0],
        "Counts": [1.0]}])  # fmt: skip
    assert isinstance(error, cw.exceptions.InvalidParameterValueException)
    assert error.response["Error"]["Message"] == (
        "The parameters MetricData.member.2.Values and MetricData.member.2.Counts must be of "
        "the same size."
    )
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_old_timestamps_are_refused(cw: Any) -> None:
    error = failure(cw.put_metric_data, Namespace=namespace(), MetricData=[
        {"MetricName": "m", "Value": 1.0, "Timestamp": at(time.time() - 15 * 86400)}])  # fmt: skip
    assert error.response["Error"]["Code"] == "InvalidParameterValue"
    assert error.response["Error"]["Message"] == (
        "The parameter MetricData.member.1.Timestamp must specify a time within the past two weeks."
    )


def test_too_many_datapoints_requested(cw: Any) -> None:
    base = hour_ago()
    error = failure(
        cw.get_metric_statistics, Namespace="n", MetricName="m", StartTime=at(base - 86400),
        EndTime=at(base), Period=1, Statistics=["Sum"],
    )  # fmt: skip
    assert isinstance(error, cw.exceptions.InvalidParameterCombinationException)
    assert error.response["Error"]["Message"] == (
        "You have requested up to 86400 datapoints, which exceeds the limit of 1440. You may "
        "reduce the datapoints requested by increasing Period, or decreasing the time range."
    )


def test_start_must_precede_end(cw: Any) -> None:
    base = hour_ago()
    error = failure(
        cw.get_metric_statistics, Namespace="n", MetricName="m", StartTime=at(base),
        EndTime=at(base), Period=60, Statistics=["Sum"],
    )  # fmt: skip
    assert isinstance(error, cw.exceptions.InvalidParameterValueException)
    assert error.response["Error"]["Message"] == (
        "The parameter StartTime must be less than the parameter EndTime."
    )


def test_model_constraints_are_validation_errors(cw: Any) -> None:
    base = hour_ago()
    error = failure(
        cw.get_metric_statistics, Namespace="n", MetricName="m", StartTime=at(base - 60),
        EndTime=at(base), Period=60, Statistics=["Median"],
    )  # fmt: skip
    assert error.response["Error"]["Code"] == "ValidationError"
    assert "Member must satisfy enum value set" in error.response["Error"]["Message"]
