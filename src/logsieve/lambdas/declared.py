"""The ``[[functions]]`` section: Lambda functions declared in the config file for local
development, their code run from a directory as it is on disk, without deploying a zip.

Registered in ``logsieve/sections.py``; read back with ``FUNCTIONS.of(config)``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from logsieve.config import Section
from logsieve.config_values import Invalid, kind, number, read_entries, show

__all__ = ["FUNCTIONS", "DeclaredFunction", "parse_functions"]


@dataclass(frozen=True)
class DeclaredFunction:
    """A Lambda function declared in the config file (``[[functions]]``) for local development:
    its code runs from ``code_dir`` as it is on disk, without deploying a zip."""

    name: str
    handler: str  # "module.function"
    code_dir: Path  # absolute (resolved against the config file's directory)
    environment: dict[str, str] = field(default_factory=dict)
    timeout: float = 3.0  # seconds
    memory_mb: int = 128
    max_concurrency: int = 4
    source: Path | None = None  # the config file that declares it (for error messages)


_NAME_RE = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_HANDLER_RE = re.compile(r"[A-Za-z_][\w.]*\.[A-Za-z_]\w*")
_ENV_NAME_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9_]+")


def _name(value: Any) -> str:
    if not isinstance(value, str) or not _NAME_RE.fullmatch(value):
        raise Invalid(
            f"must be 1-64 letters, digits, hyphens or underscores (got {show(value)})",
            'use a Lambda function name such as "alerts-to-slack"',
        )
    return value


def _handler(value: Any) -> str:
    if not isinstance(value, str) or not _HANDLER_RE.fullmatch(value):
        raise Invalid(
            f'must be "module.function" (got {show(value)})',
            'e.g. handler = "app.handler" for def handler(event, context) in app.py',
        )
    return value


def _code_dir(value: Any, base: Path) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(
            f"must be a directory path (got {show(value)})",
            "write the directory holding the handler's module, relative to this file",
        )
    path = Path(os.path.normpath(base / os.path.expanduser(value.strip())))
    if not path.is_dir():
        raise Invalid(
            f"{path} is not a directory",
            "create it or fix the path (relative paths start at this file's directory)",
        )
    return path


def _environment(value: Any) -> dict[str, str]:
    hint = 'write environment = { NAME = "value" } with string values'
    if not isinstance(value, dict):
        raise Invalid(f"must be a table (got {kind(value)})", hint)
    for key, item in value.items():
        if not _ENV_NAME_RE.fullmatch(key):
            raise Invalid(
                f"variable name {key!r} is not valid",
                "start with a letter; use letters, digits and underscores (2 or more)",
            )
        if not isinstance(item, str):
            raise Invalid(f"variable {key} must be a string (got {kind(item)})", hint)
    return dict(value)


def _checks(base: Path) -> dict[str, Any]:
    return {
        "name": _name,
        "handler": _handler,
        "code_dir": partial(_code_dir, base=base),
        "environment": _environment,
        "timeout": lambda v: float(number(v, 1, 900, "use a number from 1 to 900")),
        "memory_mb": partial(number, low=128, high=10240, integer=True, hint="use e.g. 128"),
        "max_concurrency": partial(
            number, low=1, high=1000, integer=True, hint="use an integer from 1 to 1000"
        ),
    }


def parse_functions(path: Path, raw: Any) -> tuple[DeclaredFunction, ...]:
    """``[[functions]]`` tables: Lambda functions run from a local directory."""
    entries = read_entries(
        path, "functions", raw, "function with name, handler and code_dir", _checks(path.parent),
        required=("name", "handler", "code_dir"),
        twice=lambda name: f"function {name} appears in more than one [[functions]] entry; "
        "keep one",
    )  # fmt: skip
    return tuple(DeclaredFunction(**entry, source=path) for entry in entries)


FUNCTIONS: Section[tuple[DeclaredFunction, ...]] = Section(
    "functions", parse_functions, tuple, array=True
)
