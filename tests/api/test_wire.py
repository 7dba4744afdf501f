"""One protocol interface: a protocol is one class and one table line, and the one request flow
(request id, body cap, signature, error mapping) serves whatever protocol a service speaks.

The protocol added here is a small path-routed JSON dialect (``POST /service/<prefix>/operation/
<Op>``, the shape of RPCv2 CBOR's routing with JSON bodies): it reuses the JSON layer's codec
and overrides only how a request is matched and which operation it names. It is served by the
real app on a real port, signed by botocore.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Container, Iterator
from typing import Any, ClassVar

import botocore.model
import httpx
import orjson
import pytest
import uvicorn
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from logsieve.api.awsjson import JsonProtocol
from logsieve.api.protocols import PROTOCOLS
from logsieve.api.server import AwsApi, Service, build_app
from logsieve.api.wire import Match, Matched, WireProtocol, WireRequest
from logsieve.errors import ServiceError
from tests.server import free_port

KEY, SECRET = "AKIDWIRETEST00000001", "wire-secret"
PREFIX = "/service/Logs_20140328/operation/"


class PathJsonProtocol(JsonProtocol):
    """JSON bodies, the operation named by the path instead of a target header."""

    name: ClassVar[str] = "json"

    def match(self, request: WireRequest) -> Matched:
        if request.method != "POST" or not request.path.startswith(PREFIX):
            return Matched(Match.NONE)
        return Matched(Match.FULL, request.path[len(PREFIX) :])

    def parse(
        self, request: WireRequest, implemented: Container[str]
    ) -> tuple[str, dict[str, Any]]:
        name = request.matched.operation
        if name not in self.compiled:
            raise ServiceError("UnknownOperationException", "", 400)
        if name not in implemented:
            raise ServiceError("UnknownOperationException", f"not here: {name}")
        return name, self.parse_request(name, request.body)


def describe(params: dict[str, Any]) -> dict[str, Any]:
    if params.get("logGroupNamePrefix") == "boom":
        raise RuntimeError("an unexpected fault")
    return {"logGroups": [{"logGroupName": params.get("logGroupNamePrefix", "all")}]}


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    api = AwsApi(
        [Service(PathJsonProtocol("logs"), {"DescribeLogGroups": describe}, max_body_bytes=4096)],
        {KEY: SECRET}.get,
        "us-east-1",
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(build_app(api), port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def _post(url: str, operation: str, body: bytes, sign: bool = True) -> httpx.Response:
    request = AWSRequest(method="POST", url=url + PREFIX + operation, data=body, headers={})
    if sign:
        SigV4Auth(Credentials(KEY, SECRET), "logs", "us-east-1").add_auth(request)
    return httpx.post(url + PREFIX + operation, content=body, headers=dict(request.headers))


def test_the_table_is_keyed_by_botocore_protocol_names() -> None:
    assert sorted(PROTOCOLS) == ["ec2", "json", "query", "rest-json", "smithy-rpc-v2-cbor"]
    for name, protocol in PROTOCOLS.items():
        assert issubclass(protocol, WireProtocol)
        assert protocol.name == name


def test_every_protocol_compiles_its_model_once() -> None:
    for name, service in (("json", "logs"), ("rest-json", "lambda"), ("query", "sns")):
        protocol = PROTOCOLS[name](service)
        model = protocol.service_model
        assert isinstance(model, botocore.model.ServiceModel)
        assert sorted(protocol.compiled) == sorted(model.operation_names)
        assert protocol.signing_name == service


def test_a_new_protocol_is_served_by_the_one_flow(url: str) -> None:
    served = _post(url, "DescribeLogGroups", b'{"logGroupNamePrefix": "app"}')
    assert served.status_code == 200, served.text
    assert served.json() == {"logGroups": [{"logGroupName": "app"}]}
    assert served.headers["x-amzn-requestid"]


@pytest.mark.parametrize(
    ("operation", "body", "sign", "status", "code"),
    [
        ("DescribeLogGroups", b"{}", False, 400, "MissingAuthenticationTokenException"),
        ("DescribeLogGroups", b'{"limit": "x"}', True, 400, "SerializationException"),
        ("DescribeLogGroups", b"x" * 5000, True, 413, "SerializationException"),
        ("CreateLogGroup", b"{}", True, 400, "UnknownOperationException"),
        ("NoSuchThing", b"{}", True, 400, "UnknownOperationException"),
        ("DescribeLogGroups", b'{"logGroupNamePrefix": "boom"}', True, 500,
         "ServiceUnavailableException"),
    ],
)  # fmt: skip
def test_its_errors_come_in_its_own_shape(
    url: str, operation: str, body: bytes, sign: bool, status: int, code: str
) -> None:
    answer = _post(url, operation, body, sign)
    assert answer.status_code == status, answer.text
    assert orjson.loads(answer.content)["__type"] == code
    assert answer.headers["x-amzn-errortype"] == code
    assert answer.headers["x-amzn-requestid"]


def test_a_request_no_protocol_matches_is_404(url: str) -> None:
    answer = httpx.get(url + "/elsewhere")
    assert answer.status_code == 404
    assert answer.json() == {"__type": "UnknownOperationException"}
