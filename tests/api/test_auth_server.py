"""SigV4 as strict as AWS's, on the real server: the scope's region and service, signed
targets and bodies, operator routes scoped to one service, and a log line per refusal."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import botocore.auth
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.server import ACCESS_KEY, SECRET_KEY, Server

CREDENTIALS = Credentials(ACCESS_KEY, SECRET_KEY)
JSON_11 = "application/x-amz-json-1.1"

# (method, path, headers, body, status and code of an auth refusal): one harmless call per
# protocol, plus the operator routes
CALLS = {
    "logs": (
        "POST", "/",
        {"Content-Type": JSON_11, "X-Amz-Target": "Logs_20140328.DescribeLogGroups"},
        b"{}", 400, "InvalidSignatureException",
    ),
    "lambda": ("GET", "/2015-03-31/functions", {}, b"", 403, "InvalidSignatureException"),
    "sns": (
        "POST", "/", {"Content-Type": "application/x-www-form-urlencoded"},
        b"Action=ListTopics&Version=2010-03-31", 403, "SignatureDoesNotMatch",
    ),
    "admin": ("GET", "/_logsieve/subscriptions", {}, b"", 403, "InvalidSignatureException"),
}  # fmt: skip
SCOPE = {"logs": "logs", "lambda": "lambda", "sns": "sns", "admin": "logs"}


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """A server of its own whose log (stderr) the tests read."""
    data = tmp_path_factory.mktemp("auth-server")
    log_file = data.parent / f"{data.name}.log"
    server = Server(data, log_file=log_file).start()
    yield server, log_file
    server.stop()


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """A second server for the log tests, whose rate limits no other test has used up."""
    data = tmp_path_factory.mktemp("auth-log-server")
    log_file = data.parent / f"{data.name}.log"
    server = Server(data, log_file=log_file).start()
    yield server, log_file
    server.stop()


def _signed(
    url: str,
    call: str,
    *,
    service: str | None = None,
    region: str = "us-east-1",
    extra: dict[str, str] | None = None,
) -> httpx.Request:
    method, path, headers, body, _, _ = CALLS[call]
    request = AWSRequest(method=method, url=url + path, data=body, headers=dict(headers))
    SigV4Auth(CREDENTIALS, service or SCOPE[call], region).add_auth(request)
    wire = {**dict(request.headers.items()), **(extra or {})}
    return httpx.Request(method, url + path, content=body, headers=wire)


def _send(request: httpx.Request) -> httpx.Response:
    with httpx.Client(timeout=30) as client:
        return client.send(request)


def _error_code(response: httpx.Response) -> str:
    return response.headers.get("x-amzn-errortype", "") + response.text


def _log_lines(log_file: Path, needle: str, deadline: float = 5.0) -> list[str]:
    """Lines of the server log that contain ``needle`` (polls: the log is written async)."""
    end = time.monotonic() + deadline
    while True:
        lines = [line for line in log_file.read_text().splitlines() if needle in line]
        if lines or time.monotonic() > end:
            return lines
        time.sleep(0.05)


# --- item 3: region, service, signed target and body -----------------------------------


@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_call_signed_for_the_configured_region_is_served(logged, call: str) -> None:
    server, _ = logged
    response = _send(_signed(server.url, call))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_call_signed_for_another_region_is_refused_and_logged(logged, call: str) -> None:
    server, log_file = logged
    response = _send(_signed(server.url, call, region="eu-west-1"))
    _, _, _, _, status, code = CALLS[call]
    assert response.status_code == status, response.text
    assert code in _error_code(response)
    message = "Credential should be scoped to a valid region, not 'eu-west-1'."
    assert message in response.text.replace("&apos;", "'")
    lines = _log_lines(log_file, "reason=wrong-region")
    assert any(
        f"access_key_id={ACCESS_KEY}" in line and "configured_region=us-east-1" in line
        for line in lines
    ), lines


@pytest.mark.parametrize("scope", ["kinesis", "lambda", "sns", "logsieve", "s3"])
def test_operator_routes_take_only_the_logs_scope(logged, scope: str) -> None:
    server, _ = logged
    response = _send(_signed(server.url, "admin", service=scope))
    assert response.status_code == 403, response.text
    assert response.json() == {
        "error": "InvalidSignatureException",
        "message": "Credential should be scoped to correct service: 'logs'.",
    }


def test_a_replayed_request_with_its_target_swapped_is_refused(logged) -> None:
    server, _ = logged
    client_group = "replay-target-group"
    create = _signed(server.url, "logs", extra={"X-Amz-Target": "Logs_20140328.CreateLogGroup"})
    # botocore signed DescribeLogGroups; the swapped target breaks the signature
    assert _send(create).status_code == 400
    assert "InvalidSignatureException" in _send(create).text
    # a client that left the target out of SignedHeaders (then anyone may swap it)
    body = f'{{"logGroupName": "{client_group}"}}'.encode()
    request = AWSRequest(
        method="POST", url=server.url + "/", data=body, headers={"Content-Type": JSON_11}
    )
    SigV4Auth(CREDENTIALS, "logs", "us-east-1").add_auth(request)
    headers = {**dict(request.headers.items()), "X-Amz-Target": "Logs_20140328.CreateLogGroup"}
    response = _send(httpx.Request("POST", server.url + "/", content=body, headers=headers))
    assert response.status_code == 400, response.text
    assert response.json() == {
        "__type": "IncompleteSignatureException",
        "message": "There were headers present in the request which were not signed: x-amz-target.",
    }
    groups = _send(_signed(server.url, "logs")).json()["logGroups"]
    assert client_group not in [g["logGroupName"] for g in groups]


class _UnsignedPayload(SigV4Auth):
    """A signer that declares UNSIGNED-PAYLOAD, as S3 clients may."""

    def payload(self, request: AWSRequest) -> str:
        return "UNSIGNED-PAYLOAD"


def test_a_body_must_be_signed(logged) -> None:
    """UNSIGNED-PAYLOAD would let whoever holds a captured request send any body."""
    server, _ = logged
    body = b'{"logGroupName": "unsigned-body-group"}'
    headers = {
        "Content-Type": JSON_11,
        "X-Amz-Target": "Logs_20140328.CreateLogGroup",
        "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD",
    }
    request = AWSRequest(method="POST", url=server.url + "/", data=body, headers=headers)
    _UnsignedPayload(CREDENTIALS, "logs", "us-east-1").add_auth(request)
    assert "x-amz-content-sha256" in request.headers["Authorization"]
    wire = dict(request.headers.items())
    response = _send(httpx.Request("POST", server.url + "/", content=body, headers=wire))
    assert response.status_code == 400, response.text
    assert response.json()["__type"] == "InvalidSignatureException"
    assert "UNSIGNED-PAYLOAD is not accepted" in response.json()["message"]
    groups = _send(_signed(server.url, "logs")).json()["logGroups"]
    assert "unsigned-body-group" not in [g["logGroupName"] for g in groups]


# --- item 15: refusals are logged, one line each, rate-limited ---------------------------


@pytest.mark.parametrize(
    ("reason", "key", "secret", "service", "skew"),
    [
        ("mismatch", ACCESS_KEY, "not-the-secret", "logs", 0),
        ("unknown-key", "AKIANOSUCHKEY0000001", SECRET_KEY, "logs", 0),
        ("expired", ACCESS_KEY, SECRET_KEY, "logs", -3600),
        ("wrong-service", ACCESS_KEY, SECRET_KEY, "kinesis", 0),
    ],
)
def test_each_refusal_is_logged_with_the_key_and_the_reason(
    quiet, reason: str, key: str, secret: str, service: str, skew: int
) -> None:
    server, log_file = quiet
    method, path, headers, body, status, _ = CALLS["logs"]
    request = AWSRequest(method=method, url=server.url + path, data=body, headers=dict(headers))
    when = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=skew)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
        SigV4Auth(Credentials(key, secret), service, "us-east-1").add_auth(request)
    wire = httpx.Request(method, server.url + path, content=body, headers=dict(request.headers))
    response = _send(wire)
    assert response.status_code == status, response.text
    lines = _log_lines(log_file, f"reason={reason}")
    assert any(f"access_key_id={key}" in line for line in lines), lines
    assert all(" WARNING " in line for line in lines)


def test_refusal_lines_are_rate_limited_per_key(quiet) -> None:
    server, log_file = quiet
    key = "AKIAFLOODINGCLIENT01"
    method, path, headers, body, _, _ = CALLS["logs"]
    for _ in range(20):
        request = AWSRequest(method=method, url=server.url + path, data=body, headers=headers)
        SigV4Auth(Credentials(key, "x"), "logs", "us-east-1").add_auth(request)
        wire = httpx.Request(method, server.url + path, content=body, headers=dict(request.headers))
        assert _send(wire).status_code == 400
    lines = _log_lines(log_file, f"access_key_id={key} ")
    assert 1 <= len(lines) <= 5, lines
    assert all(re.search(r"reason=unknown-key\b", line) for line in lines)
