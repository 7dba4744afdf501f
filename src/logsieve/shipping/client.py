"""Where to send and how to sign: a server target and lean CloudWatch Logs clients for it.

The clients are botocore's own ``logs`` clients -- the real API with real SigV4 signatures, as
an agent would use -- with client-side parameter validation and botocore's retries turned off:
the server validates anyway, the sender retries with its own policy (so it can report and stop
cleanly), and validation of 10,000-event batches costs more CPU than the request itself.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from logsieve.config import ConfigError, client_credential, endpoint_url
from logsieve.sections import load_config

from .errors import ShippingError

__all__ = ["Target", "target_from_config"]

_session_lock = threading.Lock()
_session: Any = None


def _botocore_session() -> Any:
    """One botocore session per process: it caches the service model, so creating the second
    and later clients is cheap. Sessions are not thread-safe, hence the lock."""
    global _session
    import botocore.session

    if _session is None:
        _session = botocore.session.get_session()
    return _session


@dataclass(frozen=True)
class Target:
    """A logsieve (or any CloudWatch Logs) endpoint and the key pair to sign requests with."""

    endpoint_url: str
    region: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    timeout: float = 60.0

    def client(self) -> Any:
        """A new botocore ``logs`` client (one per thread: each keeps its own connections)."""
        from botocore.config import Config

        config = Config(
            parameter_validation=False,
            retries={"total_max_attempts": 1},
            connect_timeout=5,
            read_timeout=self.timeout,
            tcp_keepalive=True,
            user_agent_extra="logsieve-shipper",
        )
        with _session_lock:
            return _botocore_session().create_client(
                "logs",
                endpoint_url=self.endpoint_url,
                region_name=self.region,
                aws_access_key_id=self.access_key_id,
                aws_secret_access_key=self.secret_access_key,
                config=config,
            )


def target_from_config(
    endpoint: str | None = None,
    config_path: Path | None = None,
    data_dir: Path | None = None,
) -> tuple[Target, Any]:
    """The target a local client uses: the URL given (else the config's), the configured or
    generated key pair. Returns the loaded Config too (account id, region, data dir).

    Raises ShippingError when the config is invalid or no key pair can be found.
    """
    try:
        config = load_config(config_path, overrides={"data_dir": data_dir})
        credential = client_credential(config)  # a broken credentials.json: one line too
    except ConfigError as exc:
        raise ShippingError(str(exc)) from exc
    if credential is None:
        raise ShippingError(
            "no key pair found: set LOGSIEVE_ACCESS_KEY_ID and LOGSIEVE_SECRET_ACCESS_KEY, "
            f"or point --data-dir at the server's data directory (tried {config.data_dir})"
        )
    target = Target(
        endpoint_url=(endpoint or endpoint_url(config)).rstrip("/"),
        region=config.region,
        access_key_id=credential.access_key_id,
        secret_access_key=credential.secret_access_key,
    )
    return target, config
