"""The options that say which server a command means, resolved the way ``serve`` does.

``serve`` and ``credentials`` share them, so ``logsieve credentials`` with the flags (or the
config file and ``LOGSIEVE_*`` variables) a server was started with shows that server's lines.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from logsieve.config import Config, ConfigError
from logsieve.sections import load_config


def config_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--host``, ``--port``, ``--data-dir`` and ``--config``."""
    for option in reversed(
        [
            click.option("--host", help="Address to listen on (default 127.0.0.1)."),
            click.option("--port", type=int, help="Port to listen on (default 4588)."),
            click.option(
                "--data-dir",
                type=click.Path(file_okay=False, path_type=Path),
                help="Where the database and credentials live (default ~/.logsieve).",
            ),
            click.option(
                "--config",
                "config_path",
                type=click.Path(dir_okay=False, path_type=Path),
                help="A logsieve.toml file (default ./logsieve.toml when present).",
            ),
        ]
    ):
        function = option(function)
    return function


def resolve_config(
    host: str | None, port: int | None, data_dir: Path | None, config_path: Path | None
) -> Config:
    """Defaults < config file < ``LOGSIEVE_*`` < flags; a mistake is one ClickException line."""
    try:
        return load_config(
            config_path, overrides={"host": host, "port": port, "data_dir": data_dir}
        )
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
