"""JSON 1.0 with awsQueryCompatible (CloudWatch) and gzip bodies, on the raw wire."""

from __future__ import annotations

import gzip

import httpx
import orjson
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.server import ACCESS_KEY, SECRET_KEY, Server

TARGET = "GraniteServiceVersion20100801."


def _post(server: Server, operation: str, body: bytes, gzipped: bool = False) -> httpx.Response:
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": TARGET + operation,
        "x-amzn-query-mode": "true",
    }
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    request = AWSRequest(method="POST", url=server.url + "/", data=body, headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "monitoring", "us-east-1").add_auth(request)
    return httpx.post(server.url + "/", content=body, headers=dict(request.headers))


def test_errors_carry_the_query_code_header_and_the_shape_type(server: Server) -> None:
    body = orjson.dumps(
        {"Namespace": "n", "MetricData": [{"MetricName": "m", "Value": 1, "Values": [1]}]}
    )
    answer = _post(server, "PutMetricData", body)
    assert answer.status_code == 400
    assert answer.headers["x-amzn-query-error"] == "InvalidParameterCombination;Sender"
    assert answer.json()["__type"] == (
        "com.amazonaws.cloudwatch#InvalidParameterCombinationException"
    )


def test_validation_errors_are_validation_error_in_query_terms(server: Server) -> None:
    answer = _post(server, "PutMetricData", orjson.dumps({"Namespace": ""}))
    assert answer.status_code == 400
    assert answer.headers["x-amzn-query-error"] == "ValidationError;Sender"


def test_gzip_bodies_are_inflated_and_garbage_refused(server: Server) -> None:
    body = orjson.dumps({"Namespace": "gz", "MetricData": [{"MetricName": "m", "Value": 1}]})
    assert _post(server, "PutMetricData", gzip.compress(body), gzipped=True).status_code == 200
    bad = _post(server, "PutMetricData", b"not gzip at all", gzipped=True)
    assert bad.status_code == 400
    assert bad.headers["x-amzn-query-error"] == "InvalidParameterValue;Sender"


def test_a_gzip_bomb_is_refused_before_it_is_inflated_whole(server: Server) -> None:
    bomb = gzip.compress(b" " * (64 * 1024 * 1024))
    answer = _post(server, "PutMetricData", bomb, gzipped=True)
    assert answer.status_code == 413
