"""A boto3 CloudWatch client on the session's real server, and error-code checks that hold for
both the plain JSON protocol and the query-compatible one (shape name or query code)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.metrics import clients
from tests.receivers import SmtpServer
from tests.server import Server, client
from tests.sns.helpers import start_server

#: query code -> the model's exception shape name (what plain JSON errors carry).
SHAPES = {
    "InvalidParameterValue": "InvalidParameterValueException",
    "InvalidParameterCombination": "InvalidParameterCombinationException",
    "MissingParameter": "MissingRequiredParameterException",
    "InvalidFormat": "InvalidFormatFault",
    "ResourceNotFound": "ResourceNotFound",
    "ResourceNotFoundException": "ResourceNotFoundException",
    "InvalidNextToken": "InvalidNextToken",
    "ValidationError": "ValidationException",
}


def error_code(error: ClientError) -> str:
    """The query code of ``error`` whichever of the two spellings the protocol sent."""
    code = error.response["Error"]["Code"]
    return {shape: query for query, shape in SHAPES.items()}.get(code, code)


@pytest.fixture(scope="session", params=["json", "query"])
def cloudwatch(request: pytest.FixtureRequest, server: Server) -> Any:
    """A CloudWatch client on JSON 1.0 (current boto3) and on Query (botocore <= 1.42.6)."""
    return clients.cloudwatch(server, None if request.param == "json" else request.param)


@pytest.fixture
def name() -> str:
    return f"alarm-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as running:
        yield running


@pytest.fixture(scope="session")
def actions_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("alarm-actions")


@pytest.fixture(scope="session")
def actions_server(actions_root: Path, smtp: SmtpServer) -> Iterator[Server]:
    """A server with real SMTP, the SNS tests' recording Lambda function, and email
    subscriptions confirmed without the link (``[sns] auto_confirm``)."""
    running = start_server(actions_root, smtp, "\n[sns]\nauto_confirm = true\n")
    yield running
    running.stop()


@pytest.fixture(scope="session")
def alarm_client(actions_server: Server):
    return client(actions_server, "cloudwatch")


@pytest.fixture(scope="session")
def sns(actions_server: Server):
    return client(actions_server, "sns", retries=0)
