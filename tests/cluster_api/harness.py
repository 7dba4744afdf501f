"""A whole logsieve deployment on one machine, for tests that go through the API: a real
NATS JetStream cluster of ``nats-server`` processes and several ``logsieve serve`` nodes on it.

Every port comes from the OS. The NATS cluster is ready when every node answers ``/healthz``
and sees a meta leader (``LocalCluster.start``); a logsieve node is ready when ``/health``
answers. All logsieve nodes share one namespace on the cluster, so they are one deployment;
each has its own data directory (its lock, its local files).

Reusable: ``ApiCluster(root, nats_nodes=3, logsieve_nodes=2).start()`` then ``client(i)``
(boto3, any service), ``kill_nats(node)``/``restart_nats(node)``, ``kill_node(i)``, and
``leader_of(stream)`` to find what to kill.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from logsieve.storage.jetstream.cluster import LocalCluster, Node
from tests.server import Server, client

__all__ = ["ApiCluster"]

_numbers = itertools.count(1)


@dataclass
class ApiCluster:
    """``nats_nodes`` nats-servers and ``logsieve_nodes`` logsieve servers sharing them."""

    root: Path
    nats_nodes: int = 3
    logsieve_nodes: int = 2
    replicas: int = 3
    namespace: str = field(default_factory=lambda: f"api{os.getpid()}-{next(_numbers)}")
    nats: LocalCluster = field(init=False)
    nodes: list[Server] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.nats = LocalCluster(self.root / "nats", nodes=self.nats_nodes)

    # --- starting and stopping ------------------------------------------------------------
    @property
    def config_file(self) -> Path:
        return self.root / "logsieve.toml"

    def start(self) -> ApiCluster:
        self.nats.start()
        try:
            lines = self.nats.storage_lines(min(self.replicas, self.nats_nodes))
            self.config_file.write_text(
                f'{lines}namespace = "{self.namespace}"\n', encoding="utf-8"
            )
            for _ in range(self.logsieve_nodes):
                self.add_node()
        except BaseException:
            self.stop()
            raise
        return self

    def add_node(self) -> Server:
        """One more logsieve node on the cluster (its own data directory and log file)."""
        index = len(self.nodes) + 1
        directory = self.root / f"logsieve{index}"
        directory.mkdir(parents=True, exist_ok=True)
        server = Server(
            directory / "data",
            config=self.config_file,
            env={"HOME": str(directory)},
            log_file=directory / "serve.log",
        )
        self.nodes.append(server)
        server.start(timeout=90)
        return server

    def stop(self) -> None:
        for server in self.nodes:
            server.stop()
        self.nats.stop()

    # --- clients --------------------------------------------------------------------------
    def client(self, index: int, service: str = "logs") -> Any:
        """A boto3 client of logsieve node ``index`` (0-based), no retries."""
        return client(self.nodes[index], service)

    # --- faults ---------------------------------------------------------------------------
    def kill_node(self, index: int) -> None:
        """SIGKILL logsieve node ``index``: no shutdown handler runs."""
        self.nodes[index].kill()

    def kill_nats(self, node: Node) -> None:
        self.nats.stop_node(node, signal.SIGKILL)

    def restart_nats(self, node: Node) -> None:
        """Start ``node`` again on its ports and store, and wait for the whole cluster."""
        self.nats.start_node(node)
        self.nats.wait_ready()

    def nats_node(self, name: str) -> Node:
        return next(node for node in self.nats.nodes if node.name == name)

    # --- looking inside -------------------------------------------------------------------
    def streams(self) -> dict[str, tuple[int, str | None]]:
        """This deployment's JetStream streams: name -> (messages, leader's server name)."""
        import nats

        async def look() -> dict[str, tuple[int, str | None]]:
            live = [n.url for n in self.nats.nodes if n.process is not None]
            nc = await nats.connect(live)
            try:
                found = {}
                for info in await nc.jetstream().streams_info():
                    name = info.config.name or ""
                    if name.startswith(f"{self.namespace}_"):
                        leader = info.cluster.leader if info.cluster else None
                        found[name] = (int(info.state.messages), leader)
                return found
            finally:
                await nc.close()

        return asyncio.run(look())

    def leader_of(self, part: str = "logs") -> Node:
        """The nats-server leading this deployment's stream ``part`` (``logs``: the event
        log, one message per PutLogEvents batch)."""
        name = f"{self.namespace}_{part}"
        found = self.streams().get(name)
        if found is None or found[1] is None:
            raise AssertionError(f"stream {name} has no leader ({sorted(self.streams())})")
        return self.nats_node(found[1])
