"""``logsieve serve``: the CloudWatch Logs-compatible server."""

from __future__ import annotations

import gc
import logging
from pathlib import Path

import click
import uvicorn

from logsieve.config import ConfigError, credential_help, ensure_credentials, load_config


@click.command("serve")
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 4588).")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the database and credentials live (default ~/.logsieve).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A logsieve.toml file (default ./logsieve.toml when present).",
)
@click.option("--log-level", default="info", show_default=True, help="Server log level.")
def serve(
    host: str | None,
    port: int | None,
    data_dir: Path | None,
    config_path: Path | None,
    log_level: str,
) -> None:
    """Run the CloudWatch Logs-compatible server.

    Point any AWS client at it with an endpoint URL: boto3
    (endpoint_url="http://127.0.0.1:4588"), the aws CLI (--endpoint-url), or
    AWS_ENDPOINT_URL for every SDK. Requests must be signed with a configured key pair; on
    the first start without one, a key pair is generated into the data directory and the
    lines to use it are printed.
    """
    from logsieve.app import create_app  # deferred: keeps `logsieve --help` fast

    try:
        config = load_config(
            config_path, overrides={"host": host, "port": port, "data_dir": data_dir}
        )
        config, generated = ensure_credentials(config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if generated is not None:
        click.echo("Generated a key pair for this server. Use it with:\n")
        click.echo(credential_help(generated, config))
        click.echo()
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    click.echo(
        f"logsieve listening on http://{config.host}:{config.port} "
        f"(data in {config.data_dir}, region {config.region}, account {config.account_id})"
    )
    try:
        app = create_app(config)
    except ConfigError as exc:  # settings only the parts themselves can check (SMTP URL...)
        raise click.ClickException(str(exc)) from exc
    # The botocore models and compiled shapes are long-lived: keep the collector off them, and
    # collect less often (reads allocate millions of short-lived tuples).
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        log_level=log_level.lower(),
        access_log=False,
    )
