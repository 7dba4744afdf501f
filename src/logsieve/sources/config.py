"""``[[sources]]`` tables: validated into :class:`SourceSpec` objects while the config loads.

Each entry has ``name`` and ``type``; the other keys are the kind's own (``kinds.py``), each
checked by the kind's declaration, with the same one-line errors as the rest of the
configuration ("unknown key ... did you mean ...", what was wrong and how to fix it).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from logsieve.config_values import Invalid, show, suggest, table_array, unknown_key
from logsieve.errors import ConfigError

from .base import SourceSpec
from .kinds import KINDS, kind

__all__ = ["parse_sources"]

_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def parse_sources(path: Path, raw: Any) -> tuple[SourceSpec, ...]:
    """Validate the ``[[sources]]`` array of ``path`` (called by ``load_config``)."""
    raw = table_array(path, raw, "sources", "source with name, type and the type's keys")
    found: list[SourceSpec] = []
    for number, entry in enumerate(raw, start=1):
        label = f"[[sources]] entry {number}"
        name = entry.get("name")
        if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
            problem = "is missing name" if name is None else f"name {show(name)} is not valid"
            raise ConfigError(
                f'{path}: {label} {problem}; add name = "..." with 1-64 letters, digits, '
                "'_', '.' or '-' (the source's name in `logsieve sources`)"
            )
        if any(spec.name == name for spec in found):
            raise ConfigError(f"{path}: source {name!r} is declared twice ({label}); rename one")
        label = f"source {name!r}"
        type_name = entry.get("type")
        if type_name not in KINDS:
            known = ", ".join(f'"{k}"' for k in sorted(KINDS))
            got = "is missing type" if type_name is None else f"type {show(type_name)} is unknown"
            hint = suggest(str(type_name), KINDS) if isinstance(type_name, str) else ""
            raise ConfigError(f"{path}: {label} {got}; {hint}types are {known}")
        found.append(_spec(path, label, name, type_name, entry))
    return tuple(found)


def _spec(path: Path, label: str, name: str, type_name: str, entry: dict[str, Any]) -> SourceSpec:
    declared = kind(type_name)
    keys = ("name", "type", *declared.keys)
    options: dict[str, Any] = {}
    for key, value in entry.items():
        if key in ("name", "type"):
            continue
        if key not in declared.keys:
            raise unknown_key(path, key, f"{label} (type {type_name})", keys)
        try:
            options[key] = declared.keys[key].check(value)
        except Invalid as bad:
            raise ConfigError(f"{path}: {label}: {key} {bad.problem}; {bad.hint}") from None
    for key, spec in declared.keys.items():
        if key not in options:
            if spec.required:
                raise ConfigError(f"{path}: {label} is missing {key}; add {key} = ...")
            options[key] = spec.default
    if declared.check is not None:
        try:
            declared.check(options)
        except Invalid as bad:
            raise ConfigError(f"{path}: {label}: {bad.problem}; {bad.hint}") from None
    return SourceSpec(name, type_name, options)
