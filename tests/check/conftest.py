"""moto's server (a third-party implementation of EC2, CloudTrail, Logs, CloudWatch and SNS)
for ``logsieve check``, so the checks are not tuned to logsieve's own answers."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import httpx
import pytest
from click.testing import CliRunner, Result

from logsieve.cli import main

MOTO_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
}


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto_url(moto_server: str) -> str:
    """moto's server, emptied: each test builds the account it checks."""
    httpx.post(f"{moto_server}/moto-api/reset").raise_for_status()
    return moto_server


def moto_client(url: str, service: str):
    return boto3.client(
        service, endpoint_url=url, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip


def run_check(url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(
        main, ["check", "--endpoint-url", url, *args], env={**MOTO_ENV, **(env or {})}
    )
