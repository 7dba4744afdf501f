"""The one walker every config section is read with, and the wording of its errors.

A section declares its keys as a mapping of key -> check (a function taking the raw TOML
value and returning the clean one or raising :class:`Invalid` with the problem and the fix);
:func:`read` walks a table against it: unknown keys (with "did you mean"), missing required
keys, each value's check, each failure one line naming the file, the table and the key.
:func:`read_entries` does the same for every entry of a ``[[table]]`` array and rejects two
entries with the same name. ``config.py`` and every component's section parser use them, so
the wording lives here (this module imports only ``errors``).
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import ConfigError

#: A key's check: the raw TOML value in, the clean value out, or :class:`Invalid`.
Check = Callable[[Any], Any]


class Invalid(Exception):
    """A value problem without its location; the caller adds the file, table and key.

    ``key`` names a key inside the value (``"threshold.count"``) when a check of a nested
    table found the problem there; the walker reports it instead of the table's key.
    """

    def __init__(self, problem: str, hint: str, key: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.hint = hint
        self.key = key


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


def section(path: Path, name: str, raw: Any) -> dict[str, Any]:
    """``raw`` as the table ``[name]``, or the error that says how to write one."""
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}: {name} must be a section [{name}], not {kind(raw)}; "
            f"write [{name}] on its own line followed by its keys"
        )
    return raw


def read(
    path: Path,
    where: str,
    raw: Mapping[str, Any],
    checks: Mapping[str, Check],
    required: Sequence[str] | Mapping[str, str] = (),
    checked_defaults: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The clean values of table ``where`` (as messages name it): no key outside ``checks``,
    every ``required`` key present, every value through its check.

    Keys left out stay out (the settings' dataclass defaults apply) except those of
    ``checked_defaults``, whose value goes through the check as if written (so a missing key
    reads as a bad value). ``required`` may map each key to the example its error suggests
    (else ``"..."``). A ``where`` ending in ":" (``alert rule 'x':``) is followed by the key
    in value errors and named without the colon in the others.
    """
    table = where.removesuffix(":")
    for key in raw:
        if key not in checks:
            raise unknown_key(path, key, table, tuple(checks))
    for key in required:
        if key not in raw:
            example = required[key] if isinstance(required, Mapping) else '"..."'
            raise ConfigError(f"{path}: {table} is missing {key}; add {key} = {example} to it")
    values: dict[str, Any] = {}
    for key, value in {**(checked_defaults or {}), **raw}.items():
        try:
            values[key] = checks[key](value)
        except Invalid as bad:
            raise ConfigError(
                f"{path}: {where} {bad.key or key} {bad.problem}; {bad.hint}"
            ) from None
    return values


def read_entries(
    path: Path,
    name: str,
    raw: Any,
    per: str,
    checks: Mapping[str, Check],
    required: Sequence[str] = (),
    twice: Callable[[Any], str] | None = None,
    key: str = "name",
    checked_defaults: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Each entry of ``[[name]]`` read with :func:`read`, labelled ``[[name]] entry N (its
    key)``; ``twice(value)`` words the error for a second entry with the same ``key``."""
    found: list[dict[str, Any]] = []
    for number, entry in enumerate(table_array(path, raw, name, per), start=1):
        label = f"[[{name}]] entry {number}"
        if isinstance(entry.get(key), str) and entry[key]:
            label += f" ({entry[key]})"
        values = read(path, label, entry, checks, required, checked_defaults)
        if twice is not None and any(other.get(key) == values.get(key) for other in found):
            raise ConfigError(f"{path}: {twice(values[key])}")
        found.append(values)
    return found


def number(
    value: Any,
    low: float,
    high: float,
    hint: str,
    *,
    integer: bool = False,
    low_open: bool = False,
) -> Any:
    """``value`` if it is a number (``integer``: an integer) within ``low`` (excluded when
    ``low_open``) and ``high``; TOML's booleans and quoted numbers are not numbers."""
    what = (
        f"{'an integer' if integer else 'a number'} "
        f"{'greater than' if low_open else 'from'} {low:g} "
        f"{'and at most' if low_open else 'to'} {high:g}"
    )
    kinds = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value):
        shown = show(value, ascii_only=False)
        raise Invalid(f"must be {what} (got {shown})", hint + " (no quotes)")
    if (value <= low if low_open else value < low) or value > high:
        raise Invalid(f"must be {what} (got {show(value)})", hint)
    return value


def environment_values(
    environ: Mapping[str, str], prefix: str, checks: Mapping[str, Check]
) -> dict[str, Any]:
    """The keys of ``checks`` set as ``<prefix><KEY>`` in ``environ``, each checked (an empty
    variable counts as unset)."""
    values = {}
    for key, check in checks.items():
        name = prefix + key.upper()
        text = environ.get(name, "")
        if text:
            values[key] = from_environment(name, text, check)
    return values


def from_environment(name: str, text: str, check: Check) -> Any:
    """``text`` of environment variable ``name`` through ``check``, or the one-line error."""
    try:
        return check(text)
    except Invalid as bad:
        raise ConfigError(
            f"environment variable {name} {bad.problem}; {bad.hint}, or unset it"
        ) from None
