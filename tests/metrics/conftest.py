"""Fixtures for the CloudWatch tests: the session's real server, one client per protocol."""

from __future__ import annotations

from typing import Any

import pytest

from tests.metrics.clients import cloudwatch
from tests.server import Server

PROTOCOLS = ["json", "query", "smithy-rpc-v2-cbor"]


@pytest.fixture(scope="session", params=PROTOCOLS)
def cw(request: pytest.FixtureRequest, server: Server) -> Any:
    """A CloudWatch client on each wire protocol a real client sends."""
    forced = None if request.param == "json" else request.param
    return cloudwatch(server, forced)


@pytest.fixture(scope="session")
def cw_json(server: Server) -> Any:
    return cloudwatch(server)
