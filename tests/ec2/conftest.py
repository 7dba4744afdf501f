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
