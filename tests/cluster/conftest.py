"""Leases on both engines for the ownership tests: SQLite's (one process) and JetStream's on
the session's real 3-node cluster (each test its own namespace, dropped afterwards)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from logsieve.storage.jetstream.cluster import LocalCluster
from logsieve.storage.leases import Leases
from logsieve.storage.leases_sqlite import SqliteLeases
from tests.jetstream.cluster import drop_namespace, options, shared_cluster


@pytest.fixture(scope="session")
def nats_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    yield from shared_cluster(tmp_path_factory)


@pytest.fixture
def shared_leases(nats_cluster: LocalCluster) -> Iterator[Callable[[], Leases]]:
    """Opens JetStream lease stores of one namespace: one per node."""
    from logsieve.storage.jetstream.leases import JetStreamLeases

    settings = options(nats_cluster)
    opened: list[Leases] = []

    def open_one() -> Leases:
        store = JetStreamLeases(settings)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()
    drop_namespace(settings)


@pytest.fixture
def local_leases() -> Iterator[Leases]:
    store = SqliteLeases()
    yield store
    store.close()
