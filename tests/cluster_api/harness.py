"""A whole logsieve deployment on one machine, for tests that go through the API: a real
NATS JetStream cluster of ``nats-server`` processes and several ``logsieve serve`` nodes on it.

Every port comes from the OS. The NATS cluster is ready when every node answers ``/healthz``
and sees a meta leader (``LocalCluster.start``); a logsieve node is ready when ``/health``
answers. All logsieve nodes share one namespace on the cluster, so they are one deployment;
each has its own data directory (its lock, its local files).

Reusable: ``ApiCluster(root, nats_nodes=3, logsieve_nodes=2).start()`` then ``client(i)``
(boto3, any service), ``kill_nats(node)``/``restart_nats(node)``,
``pause_nats(node)``/``resume_nats(node)`` (a partitioned node), ``kill_node(i)``, and
``leader_of(stream)`` to find what to kill.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import time
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
    partitions: int = 1  # event-log streams ([storage] partitions)
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
                f'{lines}namespace = "{self.namespace}"\npartitions = {self.partitions}\n',
                encoding="utf-8",
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

    def pause_nats(self, node: Node) -> None:
        """SIGSTOP: the server holds its sockets open but answers nothing, as when the network
        cuts it off (a partition, seen from the others)."""
        assert node.process is not None
        node.process.send_signal(signal.SIGSTOP)

    def resume_nats(self, node: Node) -> None:
        assert node.process is not None
        node.process.send_signal(signal.SIGCONT)

    def restart_nats(self, node: Node) -> None:
        """Start ``node`` again on its ports and store, and wait for the whole cluster."""
        self.nats.start_node(node)
        self.nats.wait_ready()

    def server_of(self, index: int, connection: str = "logs") -> Node:
        """The nats-server that logsieve node ``index``'s connection named ``connection`` (a
        store's: "logs", "outbox"...) is connected to, found from /connz and /proc."""
        process = self.nodes[index].process
        assert process is not None
        ports = _local_ports(process.pid)
        for node in self.nats.nodes:
            if node.process is None:
                continue
            _, connz = node.monitor("/connz?limit=4096")
            for conn in connz.get("connections", []) or []:  # type: ignore[union-attr]
                if conn.get("name") == connection and conn.get("port") in ports:
                    return node
        raise AssertionError(f"node {index} has no connection {connection!r} to any server")

    def step_down(self, part: str = "logs") -> None:
        """Ask the leader of stream ``part`` to hand leadership to another replica."""
        import nats

        async def ask() -> None:
            nc = await nats.connect([n.url for n in self.nats.nodes if n.process is not None])
            try:
                stream = f"{self.namespace}_{part}"
                await nc.request(f"$JS.API.STREAM.LEADER.STEPDOWN.{stream}", b"", timeout=10)
            finally:
                await nc.close()

        asyncio.run(ask())

    def nats_node(self, name: str) -> Node:
        return next(node for node in self.nats.nodes if node.name == name)

    # --- looking inside -------------------------------------------------------------------
    def streams(self, timeout: float = 30.0) -> dict[str, tuple[int, str | None]]:
        """This deployment's JetStream streams: name -> (messages, leader's server name).

        Asked again while the JetStream API does not answer (for up to ``timeout`` s): right
        after a server is killed the cluster may be electing its meta leader."""
        import nats
        from nats.errors import TimeoutError as NatsTimeout

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

        deadline = time.monotonic() + timeout
        while True:
            try:
                return asyncio.run(look())
            except NatsTimeout:
                if time.monotonic() > deadline:
                    raise

    def leader_of(self, part: str = "logs") -> Node:
        """The nats-server leading this deployment's stream ``part`` (``logs``: the event
        log, one message per PutLogEvents batch)."""
        name = f"{self.namespace}_{part}"
        streams = self.streams()
        found = streams.get(name)
        if found is None or found[1] is None:
            raise AssertionError(f"stream {name} has no leader ({sorted(streams)})")
        return self.nats_node(found[1])


def _local_ports(pid: int) -> set[int]:
    """The local TCP ports of the sockets process ``pid`` holds (from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                fields = line.split()
                if fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports
