"""Several ``logsieve serve`` nodes on one namespace of the session's real 3-node NATS
cluster, each with its own data directory and node id, sharing an SMTP receiver; and a view
of the namespace's leases (who works what)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from logsieve.storage.jetstream import JetStreamOptions
from logsieve.storage.jetstream.cluster import LocalCluster
from logsieve.storage.leases import Leases
from tests.jetstream.cluster import drop_namespace, options, shared_cluster
from tests.jetstream_server.conftest import environment
from tests.receivers import SmtpServer
from tests.server import Server

CONFIG = """
[smtp]
sender = "alerts@logsieve.test"

[sns]
auto_confirm = true
"""


@pytest.fixture(scope="session")
def nats_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    yield from shared_cluster(tmp_path_factory)


@pytest.fixture
def namespace(nats_cluster: LocalCluster) -> Iterator[JetStreamOptions]:
    settings = options(nats_cluster)
    yield settings
    drop_namespace(settings)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as running:
        yield running


@pytest.fixture
def extra_config() -> str:
    """More of the nodes' config file (a test module overrides it, e.g. with functions)."""
    return ""


def declared_function(directory: Path, name: str, module: str, source: str, more: str = "") -> str:
    """A ``[[functions]]`` entry for ``extra_config``: ``source`` written as ``module``.py in
    ``directory``/fn, handled by ``module.handler``, with ``more`` lines of the entry."""
    code = directory / "fn"
    code.mkdir()
    (code / f"{module}.py").write_text(source, encoding="utf-8")
    entry = f'[[functions]]\nname = "{name}"\nhandler = "{module}.handler"\ncode_dir = "{code}"\n'
    return f"\n{entry}{more}"


@pytest.fixture
def node(
    namespace: JetStreamOptions, tmp_path: Path, smtp: SmtpServer, extra_config: str
) -> Iterator[Callable[..., Server]]:
    """``node("a")`` starts a logsieve node with node id "a" on the test's namespace (and
    ``more`` environment variables)."""
    started: list[Server] = []
    config = tmp_path / "logsieve.toml"
    config.write_text(CONFIG + extra_config, encoding="utf-8")

    def start(name: str, **more: str) -> Server:
        root = tmp_path / name
        root.mkdir()
        env = {
            **environment(namespace),
            "LOGSIEVE_CLUSTER_NODE_ID": name,
            "LOGSIEVE_SMTP_URL": smtp.url,
            **more,
        }
        server = Server(root / "data", config=config, env=env, log_file=root / "log")
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def leases(namespace: JetStreamOptions) -> Iterator[Leases]:
    """The namespace's leases, as the nodes see them."""
    from logsieve.storage.jetstream.leases import JetStreamLeases

    store = JetStreamLeases(namespace)
    yield store
    store.close()


def holder(leases: Leases, name: str) -> str | None:
    """The node holding the lease ``name`` now, if any."""
    found = [lease.node for lease in leases.held(name) if lease.name == name]
    return found[0] if found else None
