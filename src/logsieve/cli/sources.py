"""``logsieve sources``: where each configured source is, how far behind, what went wrong."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .admin_client import AdminClient, server_options
from .subscriptions import _table


def _lag(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def _position(position: dict[str, object]) -> str:
    text = ", ".join(f"{k}={v}" for k, v in sorted(position.items()))
    return text if len(text) <= 60 else text[:57] + "..."


@click.command("sources")
@server_options
@click.option("--json", "as_json", is_flag=True, help="Print the status document as JSON.")
def sources(
    endpoint_url: str | None, config_path: Path | None, data_dir: Path | None, as_json: bool
) -> None:
    """Show every [[sources]] entry: state, lag, events received, last error, position.

    The same document is served at GET /_logsieve/sources (SigV4-signed).
    """
    found = AdminClient(endpoint_url, config_path, data_dir).call("GET", "sources")
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    items = found["sources"]
    if not items:
        click.echo("No sources. Declare one with a [[sources]] table in logsieve.toml.")
        return
    rows = [
        [s["name"], s["type"], s["state"], _lag(s["lagSeconds"]), str(s["eventsReceived"]),
         _position(s["position"])]
        for s in items
    ]  # fmt: skip
    click.echo(_table(rows, ["SOURCE", "TYPE", "STATE", "LAG", "RECEIVED", "POSITION"]))
    for s in items:
        if s["lastError"]:
            click.echo(f"{s['name']}: last error: {s['lastError']}")
