"""The storage contract suite: every test taking ``stores`` runs once per engine.

On "jetstream" each test gets its own namespace on the session's real 3-node cluster
(tests/jetstream/cluster.py), dropped afterwards. A store the engine does not implement yet is
skipped here, in one place, as "not yet on JetStream: <store>", so the report shows what is left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from logsieve.storage.factory import ENGINES, Stores, open_stores
from logsieve.storage.jetstream import NotOnJetStream
from logsieve.storage.jetstream.cluster import LocalCluster
from tests.jetstream.cluster import drop_namespace, options, shared_cluster

T = TypeVar("T")


class ContractStores(Stores):
    """``Stores`` that skip the test when the engine lacks the store it opens."""

    def _open(self, store: str, sqlite: Callable[[], T]) -> T:
        try:
            return super()._open(store, sqlite)
        except NotOnJetStream as missing:
            pytest.skip(f"not yet on JetStream: {missing.store}")


@pytest.fixture(scope="session")
def nats_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    yield from shared_cluster(tmp_path_factory)


# (engine, event log partitions): JetStream runs the suite with one events stream and with
# three (logs_partitions.py), so every store is tested against a partitioned log too.
VARIANTS = [(engine, 1) for engine in ENGINES] + [("jetstream", 3)]


@pytest.fixture(params=VARIANTS, ids=[e if p == 1 else f"{e}-p{p}" for e, p in VARIANTS])
def variant(request: pytest.FixtureRequest) -> tuple[str, int]:
    return request.param


@pytest.fixture
def engine(variant: tuple[str, int]) -> str:
    return variant[0]


@pytest.fixture
def partitions(variant: tuple[str, int]) -> int:
    return variant[1]


@pytest.fixture
def stores(
    engine: str, partitions: int, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Stores]:
    if engine != "jetstream":
        yield open_stores(tmp_path / "data", engine)
        return
    cluster: LocalCluster = request.getfixturevalue("nats_cluster")
    settings = options(cluster, partitions=partitions)
    yield ContractStores(tmp_path / "data", engine, settings)
    drop_namespace(settings)
