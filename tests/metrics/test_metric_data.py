"""GetMetricData: MetricStat queries, metric math, ScanBy, MaxDatapoints and paging."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.metrics.test_api import at, hour_ago, namespace


def stat(qid: str, ns: str, name: str, s: str = "Sum", period: int = 60, **kw: Any) -> dict:
    return {"Id": qid, "MetricStat": {"Metric": {"Namespace": ns, "MetricName": name},
            "Period": period, "Stat": s}, **kw}  # fmt: skip


def filled(cw: Any, ns: str, base: int) -> None:
    """a = 1, 2, 3, 4 and b = 10, 20, -, 40 over four minutes from ``base``."""
    data = [{"MetricName": "a", "Value": float(i + 1), "Timestamp": at(base + 60 * i)}
            for i in range(4)]  # fmt: skip
    data += [{"MetricName": "b", "Value": float(10 * (i + 1)), "Timestamp": at(base + 60 * i)}
             for i in (0, 1, 3)]  # fmt: skip
    cw.put_metric_data(Namespace=ns, MetricData=data)


def results(answer: dict) -> dict[str, list[tuple[int, float]]]:
    return {
        r["Id"]: [
            (int(t.timestamp()), v) for t, v in zip(r["Timestamps"], r["Values"], strict=True)
        ]
        for r in answer["MetricDataResults"]
    }


def test_metric_stats_newest_first_and_ascending_on_request(cw: Any) -> None:
    ns, base = namespace(), hour_ago()
    filled(cw, ns, base)
    answer = cw.get_metric_data(
        MetricDataQueries=[stat("a", ns, "a")], StartTime=at(base), EndTime=at(base + 240)
    )
    assert results(answer)["a"] == [(base + 180, 4.0), (base + 120, 3.0), (base + 60, 2.0),
                                    (base, 1.0)]  # fmt: skip
    assert answer["MetricDataResults"][0]["Label"] == "a"
    assert answer["MetricDataResults"][0]["StatusCode"] == "Complete"
    up = cw.get_metric_data(
        MetricDataQueries=[stat("a", ns, "a")], StartTime=at(base), EndTime=at(base + 240),
        ScanBy="TimestampAscending",
    )  # fmt: skip
    assert [t for t, _ in results(up)["a"]] == [base, base + 60, base + 120, base + 180]


def test_math_arithmetic_aggregates_rate_and_fill(cw: Any) -> None:
    ns, base = namespace(), hour_ago()
    filled(cw, ns, base)
    queries = [
        stat("a", ns, "a", ReturnData=False),
        stat("b", ns, "b", ReturnData=False),
        {"Id": "plus", "Expression": "a + b * 2"},
        {"Id": "total", "Expression": "SUM([a, b])"},
        {"Id": "line", "Expression": "MAX(a)", "Label": "peak"},
        {"Id": "rate", "Expression": "RATE(a)"},
        {"Id": "gaps", "Expression": "FILL(b, 0)"},
        {"Id": "repeat", "Expression": "FILL(b, REPEAT)"},
    ]
    answer = cw.get_metric_data(
        MetricDataQueries=queries, StartTime=at(base), EndTime=at(base + 240),
        ScanBy="TimestampAscending",
    )  # fmt: skip
    got = results(answer)
    assert set(got) == {"plus", "total", "line", "rate", "gaps", "repeat"}
    assert got["plus"] == [(base, 21.0), (base + 60, 42.0), (base + 180, 84.0)]
    assert got["total"] == [(base, 11.0), (base + 60, 22.0), (base + 120, 3.0), (base + 180, 44.0)]
    assert [v for _, v in got["line"]] == [4.0] * 4
    assert got["rate"] == [(base + 60, 1 / 60), (base + 120, 1 / 60), (base + 180, 1 / 60)]
    assert [v for _, v in got["gaps"]] == [10.0, 20.0, 0.0, 40.0]
    assert [v for _, v in got["repeat"]] == [10.0, 20.0, 20.0, 40.0]
    labels = {r["Id"]: r["Label"] for r in answer["MetricDataResults"]}
    assert labels["line"] == "peak"


def test_max_datapoints_pages_with_a_token(cw: Any) -> None:
    ns, base = namespace(), hour_ago()
    filled(cw, ns, base)
    request = {"MetricDataQueries": [stat("a", ns, "a"), stat("b", ns, "b")],
               "StartTime": at(base), "EndTime": at(base + 240), "MaxDatapoints": 5}  # fmt: skip
    first = cw.get_metric_data(**request)
    assert sum(len(r["Values"]) for r in first["MetricDataResults"]) == 5
    assert [r["StatusCode"] for r in first["MetricDataResults"]] == ["Complete", "PartialData"]
    second = cw.get_metric_data(**request, NextToken=first["NextToken"])
    assert "NextToken" not in second
    merged = {qid: results(first)[qid] + results(second)[qid] for qid in ("a", "b")}
    assert [v for _, v in merged["b"]] == [40.0, 20.0, 10.0]


def test_unsupported_functions_are_named(cw: Any) -> None:
    ns, base = namespace(), hour_ago()
    with pytest.raises(ClientError) as raised:
        cw.get_metric_data(
            MetricDataQueries=[
                stat("a", ns, "a"), {"Id": "x", "Expression": "ANOMALY_DETECTION_BAND(a)"}
            ],
            StartTime=at(base), EndTime=at(base + 60),
        )  # fmt: skip
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidParameterValue"
    assert "ANOMALY_DETECTION_BAND is not supported" in error["Message"]
    assert "FILL" in error["Message"]


def test_circular_expressions_are_refused(cw: Any) -> None:
    base = hour_ago()
    with pytest.raises(ClientError) as raised:
        cw.get_metric_data(
            MetricDataQueries=[
                {"Id": "x", "Expression": "y + 1"}, {"Id": "y", "Expression": "x * 2"}
            ],
            StartTime=at(base), EndTime=at(base + 60),
        )  # fmt: skip
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "Circular" in raised.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    "datum",
    [
        {"Value": 10**400},
        {"Values": [1.0, -(10**400)], "Counts": [1.0, 1.0]},
        {"Values": [1.0], "Counts": [10**400]},
    ],
)
def test_numbers_too_large_for_a_double_are_invalid_values(server: Any, datum: dict) -> None:
    """A CBOR bignum beyond a double's range (boto3 cannot send one; other SDKs can) reads as
    infinity, as a Java service parses it, and is refused with AWS's invalid-value message:
    never a 500."""
    import cbor2
    import httpx
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from tests.server import ACCESS_KEY, SECRET_KEY

    body = cbor2.dumps({"Namespace": namespace(), "MetricData": [{"MetricName": "m", **datum}]})
    url = f"{server.url}/service/GraniteServiceVersion20100801/operation/PutMetricData"
    headers = {"Content-Type": "application/cbor", "Accept": "application/cbor",
               "smithy-protocol": "rpc-v2-cbor"}  # fmt: skip
    request = AWSRequest("POST", url, data=body, headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "monitoring", "us-east-1").add_auth(request)
    answer = httpx.post(url, content=body, headers=dict(request.headers))
    error = cbor2.loads(answer.content)
    assert answer.status_code == 400, error
    assert error["__type"].endswith("InvalidParameterValueException"), error
    assert "is invalid" in error["message"]
