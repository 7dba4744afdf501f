"""A real server with a function declared in its config file, and clients for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import client_env  # noqa: F401  (the AWS CLI's clean environment)
from tests.lambdas.runtime_helpers import make_function, runtime, sink  # noqa: F401  (fixtures)
from tests.server import Server, client

DECLARED = """\
import os


def handler(event, context):
    print("declared got", event)
    return {"local": True, "mode": os.environ.get("MODE"), "event": event}
"""


def write_config(root: Path) -> Path:
    """A logsieve.toml declaring the function ``declared`` with its code next to it."""
    code = root / "declared-code"
    code.mkdir(parents=True, exist_ok=True)
    (code / "local_app.py").write_text(DECLARED)
    config = root / "logsieve.toml"
    config.write_text(
        "[[functions]]\n"
        'name = "declared"\n'
        'handler = "local_app.handler"\n'
        'code_dir = "declared-code"\n'
        'environment = { MODE = "local" }\n'
        "timeout = 10\n"
    )
    return config


@pytest.fixture(scope="module")
def lambda_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("lambda-server")
    running = Server(root / "data", config=write_config(root)).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def lam(lambda_server: Server):
    """A boto3 Lambda client signed with the server's key pair, no retries."""
    return client(lambda_server, "lambda")


@pytest.fixture(scope="module")
def cwl(lambda_server: Server):
    return client(lambda_server, "logs")
