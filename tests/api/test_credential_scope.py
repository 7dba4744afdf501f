"""Every protocol checks that a request's credential scope names the service it calls, as AWS
does: a signature valid for one service is no pass to another (real server, botocore signer)."""

from __future__ import annotations

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.server import ACCESS_KEY, SECRET_KEY

# (the service as signed for, method, path, headers, body): one harmless call per protocol
CALLS = {
    "logs": (
        "POST", "/",
        {"Content-Type": "application/x-amz-json-1.1",
         "X-Amz-Target": "Logs_20140328.DescribeLogGroups"},
        b"{}",
    ),
    "lambda": ("GET", "/2015-03-31/functions", {}, b""),
    "sns": (
        "POST", "/", {"Content-Type": "application/x-www-form-urlencoded"},
        b"Action=ListTopics&Version=2010-03-31",
    ),
}  # fmt: skip


def _send(url: str, call: str, scope: str) -> httpx.Response:
    method, path, headers, body = CALLS[call]
    request = AWSRequest(method=method, url=url + path, data=body, headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), scope, "us-east-1").add_auth(request)
    return httpx.request(method, url + path, content=body, headers=dict(request.headers.items()))


@pytest.mark.parametrize("service", sorted(CALLS))
def test_a_call_signed_for_its_own_service_is_served(server, service: str) -> None:
    response = _send(server.url, service, service)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("service", "status", "code"),
    [
        ("logs", 400, "InvalidSignatureException"),
        ("lambda", 403, "InvalidSignatureException"),
        ("sns", 403, "SignatureDoesNotMatch"),
    ],
)
def test_a_call_signed_for_another_service_is_refused(
    server, service: str, status: int, code: str
) -> None:
    response = _send(server.url, service, "kinesis")
    assert response.status_code == status, response.text
    # JSON names the error in its body, REST-JSON in a header only, Query in its XML body
    assert code in response.headers.get("x-amzn-errortype", "") + response.text
    assert f"Credential should be scoped to correct service: '{service}'." in response.text
