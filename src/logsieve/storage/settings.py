"""The ``[storage]`` section: which engine holds the server's state.

``engine = "sqlite"`` (the embedded default, files in the data directory) is the only one
today; a NATS JetStream engine adds its name to ``factory.ENGINES`` and its keys here.
Overridden by ``LOGSIEVE_STORAGE_ENGINE``. Registered in ``logsieve/sections.py``; read back
with ``STORAGE.of(config)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from logsieve.config import Section
from logsieve.config_values import Invalid, from_environment, read, section, show, suggest

from .factory import ENGINES

__all__ = ["ENV_ENGINE", "STORAGE", "StorageSettings"]

ENV_ENGINE = "LOGSIEVE_STORAGE_ENGINE"


@dataclass(frozen=True)
class StorageSettings:
    """The ``[storage]`` section."""

    engine: str = "sqlite"


def _engine(value: Any) -> str:
    if value not in ENGINES:
        close = suggest(value, ENGINES) if isinstance(value, str) else ""
        raise Invalid(
            f"must be one of {', '.join(ENGINES)} (got {show(value)})",
            f'{close}use "sqlite" (the embedded default)',
        )
    return str(value)


_CHECKS = {"engine": _engine}


def parse_storage(path: Path, raw: Any) -> StorageSettings:
    return StorageSettings(**read(path, "[storage]", section(path, "storage", raw), _CHECKS))


def storage_environment(environ: Mapping[str, str], settings: StorageSettings) -> StorageSettings:
    """``LOGSIEVE_STORAGE_ENGINE`` over the file's engine (empty counts as unset)."""
    text = environ.get(ENV_ENGINE, "")
    if not text:
        return settings
    return dataclasses.replace(settings, engine=from_environment(ENV_ENGINE, text, _engine))


STORAGE: Section[StorageSettings] = Section(
    "storage", parse_storage, StorageSettings, environ=storage_environment
)
