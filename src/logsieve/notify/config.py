"""The config file's ``[[channels]]`` tables, validated into each type's ChannelConfig.

Generic over the registry (``channels/registry.py``): a type's keys, their checks and its
default rate come from its module; the values are read with the config walker
(:func:`logsieve.config_values.read`). Registered as ``CHANNELS`` in ``logsieve/sections.py``.
Imported while the config file loads, so it stays light:
standard library only. The channel libraries (httpx, boto3, apprise) are imported by
``build_channels`` when the server starts.

Example::

    [[channels]]
    name = "ops-slack"
    type = "slack"
    webhook_url = "https://hooks.slack.com/services/T000/B000/XXXX"
    rate_per_minute = 30
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from logsieve.config import Section
from logsieve.config_values import number, read, suggest, table_array
from logsieve.errors import ConfigError

from .channels.base import COMMON_KEYS, ChannelConfig
from .channels.checks import shown
from .channels.registry import CHANNEL_TYPES, own_keys, required_keys

__all__ = ["CHANNELS", "ChannelConfig", "parse_channels"]

_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_COMMON_CHECKS = {
    "rate_per_minute": lambda value: float(
        number(value, low=0, high=60_000, hint="use e.g. 60 (one a second)", low_open=True)
    ),
    "retry_seconds": lambda value: float(
        number(value, low=0, high=7 * 86_400, hint="use 86400 to retry for a day")
    ),
}


def _label(position: int, entry: dict[str, Any]) -> str:
    name = entry.get("name")
    label = f"[[channels]] entry {position}"
    return f"{label} ({name})" if isinstance(name, str) and name else label


def _reject_foreign_keys(path: Path, label: str, kind: str, entry: dict[str, Any]) -> None:
    """A key of another type, or of none, named with the keys this type takes."""
    valid = COMMON_KEYS + own_keys(CHANNEL_TYPES[kind])
    for key in entry:
        if key in valid:
            continue
        owners = [name for name, other in CHANNEL_TYPES.items() if key in own_keys(other)]
        if owners:
            raise ConfigError(
                f"{path}: {label} key {key!r} does not apply to type {kind} (it is for "
                f"{' and '.join(owners)}); valid keys for {kind} are {', '.join(valid)}"
            )
        every = COMMON_KEYS + tuple(k for t in CHANNEL_TYPES.values() for k in own_keys(t))
        raise ConfigError(
            f"{path}: unknown key {key!r} in {label}; {suggest(key, dict.fromkeys(every))}"
            f"valid keys for {kind} are {', '.join(valid)}"
        )


def _parse_entry(path: Path, position: int, entry: dict[str, Any]) -> ChannelConfig:
    label = _label(position, entry)
    kind = entry.get("type")
    types = ", ".join(CHANNEL_TYPES)
    if "type" not in entry:
        raise ConfigError(f'{path}: {label} is missing type; add type = "..." with one of {types}')
    if kind not in CHANNEL_TYPES:
        hint = suggest(kind, CHANNEL_TYPES) if isinstance(kind, str) else ""
        raise ConfigError(
            f"{path}: {label} type must be one of {types} "
            f"(got {shown(kind)}); {hint}use apprise for any other service"
        )
    channel_type = CHANNEL_TYPES[kind]
    _reject_foreign_keys(path, label, kind, entry)
    name = entry.get("name")
    if "name" not in entry:
        raise ConfigError(f'{path}: {label} is missing name; add name = "..." (e.g. "ops-{kind}")')
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ConfigError(
            f"{path}: {label} name must be 1-64 letters, digits, '_', '.' or '-' "
            f"(got {shown(name)}); alert rules refer to the channel by this name"
        )
    for key in required_keys(channel_type):
        if key not in entry:
            raise ConfigError(f'{path}: {label} (type {kind}) is missing {key}; add {key} = "..."')
    values: dict[str, Any] = {"name": name, "type": kind}
    if channel_type.DEFAULT_RATE_PER_MINUTE is not None:
        values["rate_per_minute"] = channel_type.DEFAULT_RATE_PER_MINUTE
    own = {key: value for key, value in entry.items() if key not in ("name", "type")}
    values.update(read(path, label, own, {**_COMMON_CHECKS, **channel_type.CHECKS}))
    return channel_type.CONFIG(**values, source=path)


def parse_channels(path: Path, raw: Any) -> tuple[ChannelConfig, ...]:
    """Validate the ``[[channels]]`` array of tables from the config file at ``path``.

    Raises ConfigError with one line naming the file, the table and key, what is wrong and
    what to write instead.
    """
    raw = table_array(path, raw, "channels", "channel with name and type")
    found: list[ChannelConfig] = []
    for position, entry in enumerate(raw, start=1):
        channel = _parse_entry(path, position, entry)
        if any(c.name == channel.name for c in found):
            raise ConfigError(
                f"{path}: channel name {channel.name!r} is used by more than one [[channels]] "
                "entry; give each channel its own name"
            )
        found.append(channel)
    return tuple(found)


CHANNELS: Section[tuple[ChannelConfig, ...]] = Section(
    "channels", parse_channels, tuple, array=True
)
