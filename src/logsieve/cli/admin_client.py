"""Talk to a running server's operator endpoints, signed with the configured key pair."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from logsieve.config import ConfigError, client_credential, endpoint_url
from logsieve.sections import load_config


def server_options(function: Any) -> Any:
    """``--endpoint-url``, ``--config`` and ``--data-dir``: how to find and sign for a server."""
    function = click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="The server's data directory, for its generated key pair (default ~/.logsieve).",
    )(function)
    function = click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="The server's logsieve.toml (default ./logsieve.toml when present).",
    )(function)
    return click.option(
        "--endpoint-url", help="The server's URL (default: from the config, http://127.0.0.1:4588)."
    )(function)


class AdminClient:
    def __init__(
        self, endpoint: str | None, config_path: Path | None, data_dir: Path | None
    ) -> None:
        try:
            config = load_config(config_path, overrides={"data_dir": data_dir})
            credential = client_credential(config)  # a broken credentials.json: one line too
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
        if credential is None:
            raise click.ClickException(
                f"no key pair found: set LOGSIEVE_ACCESS_KEY_ID and LOGSIEVE_SECRET_ACCESS_KEY, "
                f"or point --data-dir at the server's data directory (tried {config.data_dir})"
            )
        self.endpoint = (endpoint or endpoint_url(config)).rstrip("/")
        self.region = config.region
        self.credentials = Credentials(credential.access_key_id, credential.secret_access_key)

    def call(self, method: str, path: str, params: dict[str, str] | None = None) -> Any:
        url = f"{self.endpoint}/_logsieve/{path}"
        if params:
            url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
        request = AWSRequest(method=method, url=url, data=b"")
        SigV4Auth(self.credentials, "logs", self.region).add_auth(request)
        try:
            response = httpx.request(
                method, url, headers=dict(request.headers.items()), content=b"", timeout=120
            )
        except httpx.HTTPError as exc:
            raise click.ClickException(
                f"cannot reach logsieve at {self.endpoint} ({exc}); is `logsieve serve` "
                "running? Use --endpoint-url to point at it."
            ) from exc
        try:
            body = response.json()
        except ValueError:
            body = {"message": response.text}
        if response.status_code >= 400:
            raise click.ClickException(
                f"{body.get('error', response.status_code)}: {body.get('message', '')}"
            )
        return body
