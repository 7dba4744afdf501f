"""The session's real NATS cluster for the JetStream engine's own tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from logsieve.storage.jetstream.cluster import LocalCluster
from tests.jetstream.cluster import shared_cluster


@pytest.fixture(scope="session")
def nats_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    yield from shared_cluster(tmp_path_factory)
