"""A function declared in the config file is each node's own: it is not written to the shared
store, so a node that starts (declaring it again) leaves another node's warm workers alone."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cluster_nodes.conftest import declared_function
from tests.server import Server, client

HANDLER = """\
import uuid

WORKER = uuid.uuid4().hex  # drawn once per worker process


def handler(event, context):
    return {"worker": WORKER}
"""


@pytest.fixture
def extra_config(tmp_path: Path) -> str:
    return declared_function(tmp_path, "warm", "warm", HANDLER)


def _worker(server: Server) -> str:
    answer = client(server, "lambda").invoke(FunctionName="warm", Payload=b"{}")
    assert "FunctionError" not in answer, answer
    return json.loads(answer["Payload"].read())["worker"]


def test_a_node_that_starts_keeps_the_other_nodes_warm_workers_of_a_declared_function(
    node: Callable[..., Server],
) -> None:
    a = node("a")
    worker = _worker(a)
    b = node("b")
    assert _worker(b) != worker  # b runs its own workers
    assert _worker(a) == worker
