"""A boto3 CloudWatch client on the session's real server, and error-code checks that hold for
both the plain JSON protocol and the query-compatible one (shape name or query code)."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from tests.server import Server, client

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


@pytest.fixture(scope="session")
def cloudwatch(server: Server):
    return client(server, "cloudwatch")


@pytest.fixture
def name() -> str:
    return f"alarm-{uuid.uuid4().hex[:10]}"
