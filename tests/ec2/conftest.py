"""Fixtures for the EC2 tests: one real server for the package, boto3's ec2 client on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.server import Server, client


@pytest.fixture(scope="package")
def ec2_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("ec2-data")).start()
    yield running
    running.stop()


@pytest.fixture(scope="package")
def ec2(ec2_server: Server):
    """A boto3 EC2 client signed with the server's key pair, no retries."""
    return client(ec2_server, "ec2", retries=0)


@pytest.fixture
def vpc(ec2) -> str:
    """A fresh VPC's id (10.0.0.0/16: VPCs may overlap)."""
    return ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]


@pytest.fixture(scope="package")
def aws(ec2_server: Server, tmp_path_factory: pytest.TempPathFactory):
    """The aws CLI's ``ec2`` commands on the server, with nothing from the developer's setup."""
    import os

    from tests.e2e.helpers import AwsCli
    from tests.server import ACCESS_KEY, SECRET_KEY

    home = tmp_path_factory.mktemp("aws-home")
    (home / "config").write_text("")
    (home / "credentials").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        HOME=str(home),
        PYTHONIOENCODING="utf-8",
    )
    return AwsCli(ec2_server, env, "ec2")
