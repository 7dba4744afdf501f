"""``logsieve credentials``: the lines to use the server's key pair, whenever they are needed.

``serve`` prints them once, when it generates the key pair; this prints them again (or as
JSON for scripts) from the same place the server reads them: ``[[credentials]]`` in the config
file, ``LOGSIEVE_ACCESS_KEY_ID``/``LOGSIEVE_SECRET_ACCESS_KEY``, else the data directory's
``credentials.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from logsieve.config import (
    CREDENTIALS_FILENAME,
    PROFILE,
    Config,
    ConfigError,
    Credential,
    client_credential,
    client_environment,
    credential_help,
    credential_lines,
    endpoint_url,
)

from .server_config import config_options, resolve_config


def _source(config: Config, credential: Credential) -> str:
    """Where the key pair the clients should use is kept."""
    if not config.credentials:
        return str(config.data_dir / CREDENTIALS_FILENAME)
    if os.environ.get("LOGSIEVE_ACCESS_KEY_ID") == credential.access_key_id:
        return "LOGSIEVE_ACCESS_KEY_ID and LOGSIEVE_SECRET_ACCESS_KEY"
    return "[[credentials]] in the config file"


@click.command("credentials")
@config_options
@click.option("--profile", default=PROFILE, show_default=True,
              help="Name of the aws CLI profile the lines set up.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the settings and lines as JSON.")
def credentials(
    host: str | None, port: int | None, data_dir: Path | None, config_path: Path | None,
    profile: str, as_json: bool,
) -> None:  # fmt: skip
    """Print the lines that point the aws CLI, any SDK or boto3 at the server.

    Takes the same --config/--data-dir/--host/--port as `logsieve serve`, so it shows the
    key pair and endpoint of the server those settings start.
    """
    config = resolve_config(host, port, data_dir, config_path)
    try:
        credential = client_credential(config)
    except ConfigError as exc:  # a credentials.json broken by hand: one line, as serve says
        raise click.ClickException(str(exc)) from exc
    if credential is None:
        raise click.ClickException(
            f"no key pair in {config.data_dir} yet: `logsieve serve` generates one on its "
            "first start (or set [[credentials]] in logsieve.toml)"
        )
    source = _source(config, credential)
    if as_json:
        document = {
            "accessKeyId": credential.access_key_id,
            "secretAccessKey": credential.secret_access_key,
            "region": config.region,
            "endpointUrl": endpoint_url(config),
            "profile": profile,
            "source": source,
            "environment": client_environment(credential, config),
            "lines": credential_lines(credential, config, profile),
        }
        click.echo(json.dumps(document, indent=2))
        return
    click.echo(f"# The key pair from {source}")
    click.echo(credential_help(credential, config, profile))
