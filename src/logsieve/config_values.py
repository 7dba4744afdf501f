"""Wording shared by every config-table parser: how a bad value is described and corrected.

``config.py`` and the modules that parse their own tables (``notify.config`` for
``[[channels]]``, ``alerts.config`` for ``[[alerts]]``) all word their one-line errors the same
way; this module (importing only ``errors``) is where that wording lives.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .errors import ConfigError


class Invalid(Exception):
    """A value problem without its location; the caller adds the file, table and key."""

    def __init__(self, problem: str, hint: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.hint = hint


def show(value: Any, secret: bool = False, ascii_only: bool = True) -> str:
    """A value as the user wrote it (TOML-ish), short enough to keep the message one line.

    A ``secret`` string is never echoed back, only its kind.
    """
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        if secret:
            return "a string"
        text = json.dumps(value, ensure_ascii=ascii_only)
    elif isinstance(value, dict):
        text = "a table"
    elif isinstance(value, list):
        text = "an array"
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def suggest(name: str, valid: Iterable[str]) -> str:
    """``did you mean 'x'? `` for a near miss among ``valid``, else nothing."""
    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


def table_array(path: Path, raw: Any, table: str, per: str) -> list[dict[str, Any]]:
    """``raw`` as the entries of ``[[table]]``, or the error that says how to write them
    (``per``: what one entry describes and its main keys)."""
    if not isinstance(raw, list) or not all(isinstance(entry, dict) for entry in raw):
        raise ConfigError(
            f"{path}: {table} must be [[{table}]] tables (double brackets); "
            f"write one [[{table}]] block per {per}"
        )
    return raw


def unknown_key(path: Path, key: str, where: str, keys: Sequence[str]) -> ConfigError:
    """The error for ``key`` in table ``where``, whose valid keys are ``keys``."""
    return ConfigError(
        f"{path}: unknown key {key!r} in {where}; {suggest(key, keys)}"
        f"valid keys are {', '.join(keys)}"
    )
