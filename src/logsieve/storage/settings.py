"""The ``[storage]`` section: which engine holds the server's state, and how to reach it.

``engine = "sqlite"`` (the embedded default, files in the data directory) or ``"jetstream"``
(a NATS JetStream cluster: ``nats_urls``, ``replicas``, ``partitions`` (events streams, 1-64,
fixed when the namespace is made), ``namespace``, credentials and TLS files; see
storage/jetstream/). Every key is overridden by ``LOGSIEVE_STORAGE_<KEY>``
(``nats_urls`` there is comma-separated). Registered in ``logsieve/sections.py``; read back
with ``STORAGE.of(config)``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from logsieve.config import Section
from logsieve.config_values import Invalid, environment_values, number, read, section, show, suggest

from .factory import ENGINES
from .jetstream.options import JetStreamOptions

__all__ = ["ENV_ENGINE", "STORAGE", "StorageSettings"]

ENV_ENGINE = "LOGSIEVE_STORAGE_ENGINE"
_ENV_PREFIX = "LOGSIEVE_STORAGE_"
_NAMESPACE = re.compile(r"^[A-Za-z0-9-]{1,32}$")  # a stream-name and subject-token prefix
_URL = re.compile(r"^(nats|tls|ws|wss)://[^\s,]+$")


@dataclass(frozen=True)
class StorageSettings:
    """The ``[storage]`` section."""

    engine: str = "sqlite"
    jetstream: JetStreamOptions = field(default_factory=JetStreamOptions)


def _engine(value: Any) -> str:
    if value not in ENGINES:
        close = suggest(value, ENGINES) if isinstance(value, str) else ""
        raise Invalid(
            f"must be one of {', '.join(ENGINES)} (got {show(value)})",
            f'{close}use "sqlite" (the embedded default) or "jetstream" (a NATS cluster)',
        )
    return str(value)


def _urls(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    hint = 'write nats_urls = ["nats://host1:4222", "nats://host2:4222"]'
    if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
        raise Invalid(f"must be a URL or a list of URLs (got {show(value)})", hint)
    urls = tuple(item.strip() for item in items)
    for url in urls:
        if not _URL.match(url):
            raise Invalid(f"must be nats:// or tls:// URLs (got {show(url)})", hint)
    return urls


def _replicas(value: Any) -> int:
    if isinstance(value, str) and value.isdigit():  # from the environment
        value = int(value)
    return int(number(value, 1, 5, "use 3 (survives one node down) or 1", integer=True))


def _partitions(value: Any) -> int:
    if isinstance(value, str) and value.isdigit():  # from the environment
        value = int(value)
    hint = "use 1, or 3 to spread writes over three leaders (fixed once the namespace exists)"
    return int(number(value, 1, 64, hint, integer=True))


def _timeout(value: Any) -> float:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value)
    return float(number(value, 0, 300, "use 5 (seconds)", low_open=True))


def _namespace(value: Any) -> str:
    if not isinstance(value, str) or not _NAMESPACE.match(value):
        raise Invalid(
            f"must be 1-32 letters, digits or '-' (got {show(value)})",
            'use e.g. "logsieve" (it prefixes every stream, bucket and subject)',
        )
    return value


def _text(secret: bool = False) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise Invalid(f"must be a non-empty string (got {show(value, secret)})", "quote it")
        return value

    return check


def _file(value: Any) -> str:
    text = _text()(value)
    return str(Path(text).expanduser())


# [storage] key -> (JetStreamOptions field, check)
_JETSTREAM: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "nats_urls": ("urls", _urls),
    "replicas": ("replicas", _replicas),
    "partitions": ("partitions", _partitions),
    "namespace": ("namespace", _namespace),
    "timeout_seconds": ("timeout_seconds", _timeout),
    "nats_user": ("user", _text()),
    "nats_password": ("password", _text(secret=True)),
    "nats_token": ("token", _text(secret=True)),
    "nats_creds_file": ("creds_file", _file),
    "tls_ca_file": ("tls_ca_file", _file),
    "tls_cert_file": ("tls_cert_file", _file),
    "tls_key_file": ("tls_key_file", _file),
}
_CHECKS: dict[str, Callable[[Any], Any]] = {
    "engine": _engine,
    **{key: check for key, (_, check) in _JETSTREAM.items()},
}


def _settings(values: Mapping[str, Any], base: StorageSettings) -> StorageSettings:
    options = dataclasses.replace(
        base.jetstream,
        **{_JETSTREAM[key][0]: value for key, value in values.items() if key in _JETSTREAM},
    )
    return StorageSettings(engine=values.get("engine", base.engine), jetstream=options)


def parse_storage(path: Path, raw: Any) -> StorageSettings:
    values = read(path, "[storage]", section(path, "storage", raw), _CHECKS)
    return _settings(values, StorageSettings())


def storage_environment(environ: Mapping[str, str], settings: StorageSettings) -> StorageSettings:
    """``LOGSIEVE_STORAGE_<KEY>`` over the file's values (empty counts as unset)."""
    values = environment_values(environ, _ENV_PREFIX, _CHECKS)
    return _settings(values, settings) if values else settings


STORAGE: Section[StorageSettings] = Section(
    "storage", parse_storage, StorageSettings, environ=storage_environment
)
