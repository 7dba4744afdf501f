"""Fixtures for the SNS tests: one real server with real SMTP, HTTP and Lambda receivers.

The server is started once for the package with ``LOGSIEVE_SMTP_URL`` pointing at an aiosmtpd
server run by the tests and two Lambda functions declared in its config file; every test uses
its own topic names and endpoints, so tests do not see each other's deliveries.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.receivers import HttpReceiver, SmtpServer
from tests.server import Server, client
from tests.sns.helpers import start_server


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as running:
        yield running


@pytest.fixture(scope="session")
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as running:
        yield running


@pytest.fixture(scope="session")
def sns_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sns")


@pytest.fixture(scope="session")
def sns_server(sns_root: Path, smtp: SmtpServer) -> Iterator[Server]:
    running = start_server(sns_root, smtp)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def sns(sns_server: Server):
    """A boto3 SNS client signed with the server's key pair, no retries."""
    return client(sns_server, "sns", retries=0)


@pytest.fixture
def topic(sns) -> Callable[..., str]:
    """Create a uniquely named topic; returns its ARN."""

    def create(**kwargs) -> str:
        name = kwargs.pop("Name", f"t-{uuid.uuid4().hex[:12]}")
        return sns.create_topic(Name=name, **kwargs)["TopicArn"]

    return create


@pytest.fixture
def address() -> str:
    """A fresh email address (the SMTP server accepts any)."""
    return f"user-{uuid.uuid4().hex[:8]}@example.com"
