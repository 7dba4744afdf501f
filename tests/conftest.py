"""Shared fixtures and test settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.server import Server, client

REPO = Path(__file__).resolve().parents[1]

# CI must be reproducible: the same examples every run. Locally, hypothesis explores freely.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def samples() -> Path:
    return REPO / "samples"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real logsieve server for the whole session (tests use their own group names)."""
    running = Server(tmp_path_factory.mktemp("server-data")).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def logs(server: Server):
    """A boto3 CloudWatch Logs client signed with the server's key pair, no retries."""
    return client(server)
