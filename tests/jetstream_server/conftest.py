"""``logsieve serve`` on the jetstream engine: real servers on the session's 3-node cluster."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from logsieve.storage.jetstream import JetStreamOptions
from logsieve.storage.jetstream.cluster import LocalCluster
from tests.jetstream.cluster import drop_namespace, options, shared_cluster
from tests.server import Server


@pytest.fixture(scope="session")
def nats_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    yield from shared_cluster(tmp_path_factory)


@pytest.fixture
def namespace(nats_cluster: LocalCluster) -> Iterator[JetStreamOptions]:
    settings = options(nats_cluster)
    yield settings
    drop_namespace(settings)


def environment(settings: JetStreamOptions) -> dict[str, str]:
    """What points a server at ``settings``' cluster and namespace."""
    return {
        "LOGSIEVE_STORAGE_ENGINE": "jetstream",
        "LOGSIEVE_STORAGE_NATS_URLS": ",".join(settings.urls),
        "LOGSIEVE_STORAGE_NAMESPACE": settings.namespace,
        "LOGSIEVE_STORAGE_REPLICAS": str(settings.replicas),
    }


@pytest.fixture
def node(namespace: JetStreamOptions, tmp_path: Path) -> Iterator[Callable[[], Server]]:
    """Starts logsieve nodes on the test's namespace (each its own data directory)."""
    started: list[Server] = []

    def start() -> Server:
        root = tmp_path / f"node{len(started) + 1}"
        server = Server(root / "data", env=environment(namespace), log_file=root / "log")
        root.mkdir(parents=True)
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()
