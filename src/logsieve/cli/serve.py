"""``logsieve serve``: the CloudWatch Logs-compatible server.

Everything that can fail is checked before the server says ``listening``: the config, the
credentials, the port (bound here, then handed to uvicorn), building the app (its databases
and the data directory's lock) and the app's start-up. A mistake is one line and a non-zero
exit; the announcement means the server answers.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import logging
import os
import socket
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import uvicorn

from logsieve.config import (
    Config,
    ConfigError,
    credential_help,
    endpoint_url,
    ensure_credentials,
)

from .server_config import config_options, resolve_config


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``; a ClickException (one line) when it cannot be."""
    try:
        family, _, _, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise click.ClickException(
            f"cannot listen on {host!r}: {exc.strerror}; choose another --host"
        ) from None
    try:
        return socket.create_server(address, family=family, backlog=2048)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        if exc.errno == errno.EADDRINUSE:
            raise click.ClickException(
                f"port {port} is in use: {reason} (another program, perhaps another logsieve, "
                "listens there); stop it or choose another with --port"
            ) from None
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {reason}; choose another --host or --port"
        ) from None


def _tls_options(config: Config) -> dict[str, str]:
    """uvicorn's ssl options for ``[server] tls_certfile``/``tls_keyfile`` (none: plain HTTP),
    checked here so a bad file is one line, not a traceback from inside uvicorn."""
    if config.tls_certfile is None:
        return {}
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
            config.tls_certfile, config.tls_keyfile
        )
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise click.ClickException(
            f"cannot use the TLS certificate {config.tls_certfile} with key "
            f"{config.tls_keyfile}: {reason}; point [server] tls_certfile and tls_keyfile at a "
            "PEM certificate chain and its private key"
        ) from exc
    return {"ssl_certfile": str(config.tls_certfile), "ssl_keyfile": str(config.tls_keyfile)}


#: Seconds uvicorn lets open responses finish on Ctrl-C before it cancels them.
GRACEFUL_SHUTDOWN_SECONDS = 3


class _AnnouncingServer(uvicorn.Server):
    """uvicorn's server, calling ``announce`` once its app has started and it accepts, and
    ``stopping`` when it begins to shut down (before it waits for open responses)."""

    def __init__(
        self, config: uvicorn.Config, announce: Callable[[], None], stopping: Callable[[], None]
    ) -> None:
        super().__init__(config)
        self.announce = announce
        self.stopping = stopping

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)  # exits the process when the app's start-up fails
        if not self.should_exit:
            self.announce()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.stopping()  # live tails end now instead of holding Ctrl-C until the timeout
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """uvicorn re-raises the Ctrl-C or SIGTERM it shut down on, which click turns into
        "Aborted!" and exit 1 (SIGTERM: death by signal); a graceful stop asked for is a
        clean exit, so the signals it handled are forgotten before that."""
        with super().capture_signals():
            try:
                yield
            finally:
                self._captured_signals.clear()


@click.command("serve")
@config_options
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
    lines to use it are printed (`logsieve credentials` prints them again).
    """
    from logsieve.app import create_app  # deferred: keeps `logsieve --help` fast
    from logsieve.storage import STORE_ERRORS

    config = resolve_config(host, port, data_dir, config_path)
    tls = _tls_options(config)
    try:
        config, generated = ensure_credentials(config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    listener = _listen(config.host, config.port)
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    try:
        app = create_app(config)
    except ConfigError as exc:  # settings only the parts themselves can check (SMTP URL...)
        listener.close()
        raise click.ClickException(str(exc)) from exc
    except (OSError, *STORE_ERRORS) as exc:  # a data directory that cannot hold the databases
        listener.close()
        reason = getattr(exc, "strerror", None) or str(exc)
        raise click.ClickException(
            f"cannot use the data directory {config.data_dir}: {reason}; choose another with "
            "--data-dir (or [server] data_dir, LOGSIEVE_DATA_DIR)"
        ) from exc

    scheme = "https" if config.tls_certfile else "http"

    def announce() -> None:
        if generated is not None:
            click.echo("Generated a key pair for this server. Use it with:\n")
            click.echo(credential_help(generated, config))
            click.echo()
        click.echo(
            f"logsieve listening on {scheme}://{config.host}:{config.port} "
            f"(data in {config.data_dir}, region {config.region}, account {config.account_id})"
        )
        console_url = app.state.console.login_url(endpoint_url(config))
        if console_url:  # one-time: the link signs in one browser; then use a key pair
            click.echo(f"web console (one-time sign-in link): {console_url}")

    # The botocore models and compiled shapes are long-lived: keep the collector off them, and
    # collect less often (reads allocate millions of short-lived tuples).
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    settings = uvicorn.Config(
        app, log_level=log_level.lower(), access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS, **tls,
    )  # fmt: skip
    _AnnouncingServer(settings, announce, app.state.console.stop).run(sockets=[listener])
    click.echo("logsieve stopped")
