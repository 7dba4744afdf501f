"""The ``[console]`` section: which host names the web console answers to.

IP addresses and ``localhost`` are always accepted (DNS rebinding cannot forge them), and so is
the address the server listens on. A name a browser uses to reach the server otherwise (a
container name, an internal DNS name behind a proxy) goes here::

    [console]
    allowed_hosts = ["logsieve", "logs.internal.example"]

Overridden by ``LOGSIEVE_CONSOLE_ALLOWED_HOSTS`` (comma-separated). Registered in
``logsieve/sections.py``; read back with ``CONSOLE.of(config)``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from logsieve.config import Section
from logsieve.config_values import Invalid, from_environment, read, section, show

__all__ = ["CONSOLE", "ENV_HOSTS", "ConsoleSettings"]

ENV_HOSTS = "LOGSIEVE_CONSOLE_ALLOWED_HOSTS"
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?\Z")


@dataclass(frozen=True)
class ConsoleSettings:
    """The ``[console]`` section."""

    allowed_hosts: tuple[str, ...] = ()


def _hosts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid(
            f"must be a list of host names (got {show(value)})",
            'write allowed_hosts = ["logsieve", "logs.internal.example"]',
        )
    for name in value:
        if not _NAME.match(name):
            raise Invalid(
                f"must hold host names without scheme, port or path (got {show(name)})",
                'write the name alone, e.g. "logs.internal.example"',
            )
    return tuple(name.lower() for name in value)


_CHECKS = {"allowed_hosts": _hosts}


def parse_console(path: Path, raw: Any) -> ConsoleSettings:
    return ConsoleSettings(**read(path, "[console]", section(path, "console", raw), _CHECKS))


def console_environment(environ: Mapping[str, str], settings: ConsoleSettings) -> ConsoleSettings:
    """``LOGSIEVE_CONSOLE_ALLOWED_HOSTS`` (comma-separated) over the file's list."""
    text = environ.get(ENV_HOSTS, "")
    if not text:
        return settings
    names = [name.strip() for name in text.split(",") if name.strip()]
    return dataclasses.replace(settings, allowed_hosts=from_environment(ENV_HOSTS, names, _hosts))


CONSOLE: Section[ConsoleSettings] = Section(
    "console", parse_console, ConsoleSettings, environ=console_environment
)
