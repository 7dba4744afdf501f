"""A server with two named users, "ops" and "alice", besides the test key (no user name)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config

from tests.server import Server

OPS_KEY = "AKIAOPSEXAMPLE000001"
OPS_SECRET = "ops/secret/EXAMPLEKEYEXAMPLEKEY00001"
ALICE_KEY = "AKIAALICEEXAMPLE0001"
ALICE_SECRET = "alice/secret/EXAMPLEKEYEXAMPLEKEY0001"
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def ct_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("cloudtrail")
    config = root / "logsieve.toml"
    config.write_text(
        f"""
[aws]
account_id = "{ACCOUNT}"

[[credentials]]
access_key_id = "{OPS_KEY}"
secret_access_key = "{OPS_SECRET}"
user_name = "ops"

[[credentials]]
access_key_id = "{ALICE_KEY}"
secret_access_key = "{ALICE_SECRET}"
user_name = "alice"
"""
    )
    server = Server(root / "data", config=config)
    server.start()
    yield server
    server.stop()


def make_client(server: Server, service: str, key: str = OPS_KEY, secret: str = OPS_SECRET):
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture(scope="module")
def trail_client(ct_server: Server):
    return make_client(ct_server, "cloudtrail")


@pytest.fixture(scope="module")
def ops_logs(ct_server: Server):
    return make_client(ct_server, "logs")


def group_arn(name: str) -> str:
    return f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{name}:*"


ROLE = f"arn:aws:iam::{ACCOUNT}:role/CloudTrail_CloudWatchLogs_Role"
