"""Adding ``[[alerts]]`` tables to a logsieve.toml, keeping the user's file as written.

The writer behind ``logsieve recipes add`` and the demo's generated config: comments, order
and formatting of everything else stay; templates are written as multi-line strings so the
file reads like the message. A file it cannot edit is a ``ConfigError`` line.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from logsieve.errors import ConfigError

__all__ = ["add_tables"]


def _toml_string(text: str) -> Any:
    """Multi-line templates as ``\"\"\"`` strings, so the config reads like the message."""
    import tomlkit

    candidates = []
    if "\n" in text and not text.startswith("\n"):
        candidates.append(tomlkit.string(text, multiline=True))
    if '"' in text and "'" not in text and "\n" not in text:
        candidates.append(tomlkit.string(text, literal=True))  # no \" escapes to read past
    for item in candidates:
        try:
            if tomllib.loads(f"x = {item.as_string()}")["x"] == text:
                return item
        except tomllib.TOMLDecodeError:
            continue
    return tomlkit.string(text)


def _toml_table(table: dict[str, Any], comment: str) -> Any:
    import tomlkit

    out = tomlkit.table()
    out.comment(comment)
    for key, value in table.items():
        out.add(key, _toml_value(value))
    out.add(tomlkit.nl())  # a blank line before whatever follows (extra ones are collapsed)
    return out


def _toml_value(value: Any) -> Any:
    import tomlkit

    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, dict):
        inline = tomlkit.inline_table()
        for key, item in value.items():
            inline.append(key, _toml_value(item))
        return inline
    if isinstance(value, list):
        array = tomlkit.array()
        for item in value:
            array.append(_toml_value(item))
        return array
    return value


def add_tables(path: Path, tables: Sequence[dict[str, Any]], replace: bool, comment: str) -> str:
    """The config text with ``tables`` added as ``[[alerts]]`` (or replacing same-named
    ones), keeping everything else -- comments, order, formatting -- as the user wrote it."""
    import tomlkit
    from tomlkit.items import AoT

    try:
        original = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read {path}: {exc}") from exc
    try:
        document = tomlkit.parse(original)
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}; fix the syntax there first") from exc
    existing = document.get("alerts")
    if existing is not None and not isinstance(existing, AoT):
        raise ConfigError(
            f"{path}: alerts is not written as [[alerts]] tables; rewrite it as [[alerts]] "
            "blocks first"
        )
    names = [str(t.get("name")) for t in existing] if existing is not None else []
    clashes = [t["name"] for t in tables if t["name"] in names]
    if clashes and not replace:
        raise ConfigError(
            f"{path} already has an alert rule named {clashes[0]!r}; pass --replace to "
            "overwrite it, or --name to add the recipe under another name"
        )
    for table in tables:
        item = _toml_table(table, comment)
        if existing is not None and table["name"] in names:
            existing[names.index(table["name"])] = item
        elif existing is not None:
            existing.append(item)
        else:
            if original.strip() and not original.endswith("\n\n"):
                document.add(tomlkit.nl())
            existing = tomlkit.aot()
            existing.append(item)
            document.add("alerts", existing)
            names = [table["name"]]
    # tomlkit separates array-of-tables entries unevenly: one blank line before each new one.
    header = re.escape(f"[[alerts]] # {comment}")
    text = re.sub(rf"\n*\n(?={header})", "\n\n", tomlkit.dumps(document))
    return text.lstrip("\n").rstrip("\n") + "\n"
