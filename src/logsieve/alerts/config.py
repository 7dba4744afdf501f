"""``[[alerts]]`` tables: validated into :class:`AlertRule` objects while the config loads.

Registered as ``ALERTS`` in ``logsieve/sections.py``, so every program that reads the config
file imports this module: it stays import-light, the pattern language and Jinja2 are imported
inside :func:`parse_alerts`, only when there are rules to check.
Every mistake becomes one :class:`ConfigError` line naming the file, the
rule, the key, the problem and the fix, in the style of the rest of the configuration.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from logsieve.config import Section
from logsieve.config_values import Invalid as _Invalid
from logsieve.config_values import number as _number
from logsieve.config_values import read, table_array
from logsieve.config_values import show as _show
from logsieve.config_values import suggest as _suggest
from logsieve.errors import ConfigError
from logsieve.notify.message import SEVERITIES

__all__ = [
    "ALERTS",
    "DEFAULT_BODY",
    "DEFAULT_DIGEST_BODY",
    "DEFAULT_DIGEST_TITLE",
    "DEFAULT_TITLE",
    "RULE_KEYS",
    "SEVERITIES",
    "AlertRule",
    "Distinct",
    "Threshold",
    "check_channels",
    "parse_alerts",
    "parse_duration",
]

MAX_WINDOW_SECONDS = 30 * 86_400  # state for longer windows is better kept by a database query
MAX_COUNT = 100_000  # thresholds keep one timestamp per counted event
DEFAULT_DEDUP_WINDOW = 86_400.0

DEFAULT_TITLE = "{{ rule }}: {{ summary | truncate(150) }}"
DEFAULT_BODY = """\
{{ message }}

Log group:  {{ log_group }}
Log stream: {{ log_stream }}
Time:       {{ timestamp | localtime }}
"""
DEFAULT_AGGREGATE_TITLE = (
    "{{ rule }}: {{ count }} matches within {{ window.seconds | duration }}"
    "{% if group %} for {{ group }}{% endif %}"
)
DEFAULT_AGGREGATE_BODY = """\
{{ count }} events matched {{ rule }} in {{ log_group }} within \
{{ window.seconds | duration }}{% if group %} for {{ group }}{% endif %}.
{% if distinct_count %}
{{ distinct_count }} distinct values: {{ values | join(", ") }}
{% endif %}
From {{ first.timestamp | localtime }} to {{ last.timestamp | localtime }}. Examples:
{% for e in events[:5] %}
  {{ e.timestamp | localtime }}  {{ e.summary }}
{% endfor %}
"""
DEFAULT_DIGEST_TITLE = (
    "{{ rule }}: {{ count }} more {{ 'match' if count == 1 else 'matches' }}"
    "{% if group %} for {{ group }}{% endif %} in {{ window.seconds | duration }}"
)
DEFAULT_DIGEST_BODY = """\
{{ count }} more {{ "event" if count == 1 else "events" }} matched {{ rule }} in \
{{ log_group }}{% if group %} for {{ group }}{% endif %} after the first alert,
from {{ first.timestamp | localtime }} to {{ last.timestamp | localtime }}.
{% for key in top_keys %}
Top {{ key }}: {% for value, n in top(key, 5) %}{{ value }} ({{ n }}){{ ", " if not loop.last }}\
{% else %}-{% endfor %}

{% endfor %}
Examples:
{% for e in events[:5] %}
  {{ e.timestamp | localtime }}  {{ e.summary }}
{% endfor %}
"""


@dataclass(frozen=True)
class Threshold:
    """Alert once when ``count`` matches fall within ``window`` seconds (per ``group_by``)."""

    count: int
    window: float  # seconds
    group_by: str | None = None  # template; None: the whole rule is one group


@dataclass(frozen=True)
class Distinct:
    """Alert once when ``key`` takes ``count`` distinct values within ``window`` seconds."""

    key: str  # template or field name
    count: int
    window: float  # seconds
    group_by: str | None = None


@dataclass(frozen=True)
class AlertRule:
    """One validated ``[[alerts]]`` table. Templates stay text here; the engine compiles them.

    Exactly one of three modes: per event (every match, optionally deduplicated and digested),
    ``threshold`` or ``distinct``. ``dedup_key`` filters events before any mode counts them.
    """

    name: str
    log_groups: tuple[str, ...]
    channels: tuple[str, ...]
    pattern: str = ""  # "" matches every event, as in CloudWatch Logs
    title: str = DEFAULT_TITLE
    body: str = DEFAULT_BODY
    body_html: str | None = None  # rendered with autoescape for the email's HTML part
    digest_title: str = DEFAULT_DIGEST_TITLE
    digest_body: str = DEFAULT_DIGEST_BODY
    severity: str = "warning"
    timezone: str = "UTC"  # IANA name; times in messages are shown in it
    description: str = ""
    tags: tuple[str, ...] = ()  # "key:value" templates (Datadog tags, email headers)
    flow_format: str | None = None  # VPC Flow Logs custom format; None: the default format
    dedup_key: str | None = None
    dedup_window: float = DEFAULT_DEDUP_WINDOW
    digest_window: float | None = None
    digest_group_by: str | None = None
    top_keys: tuple[str, ...] = ()  # values the digest counts exactly (templates or fields)
    threshold: Threshold | None = None
    distinct: Distinct | None = None
    source: Path | None = None  # the config file (for messages)

    @property
    def mode(self) -> str:
        """``"event"``, ``"threshold"`` or ``"distinct"``."""
        if self.threshold is not None:
            return "threshold"
        if self.distinct is not None:
            return "distinct"
        return "event"

    def templates(self) -> dict[str, str]:
        """Every template of the rule by key, for compiling and checking them together."""
        found = {
            "title": self.title,
            "body": self.body,
            "digest_title": self.digest_title,
            "digest_body": self.digest_body,
        }
        if self.body_html is not None:
            found["body_html"] = self.body_html
        for number, tag in enumerate(self.tags):
            found[f"tags[{number}]"] = tag
        optional = {
            "dedup_key": self.dedup_key,
            "digest_group_by": self.digest_group_by,
            "threshold.group_by": self.threshold.group_by if self.threshold else None,
            "distinct.key": self.distinct.key if self.distinct else None,
            "distinct.group_by": self.distinct.group_by if self.distinct else None,
        }
        found.update({key: text for key, text in optional.items() if text is not None})
        for number, key in enumerate(self.top_keys):
            found[f"top_keys[{number}]"] = key
        return found


# --- small checks -----------------------------------------------------------------------------

_THRESHOLD_KEYS = ("count", "window", "group_by")
_DISTINCT_KEYS = ("key", "count", "window", "group_by")
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_DURATION_PART_RE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def parse_duration(value: Any) -> float:
    """Seconds from a number or a text like ``"30s"``, ``"10m"``, ``"2h"``, ``"1d"``, ``"1h30m"``.

    Raises ValueError with the problem and the fix, worded for a config file or a CLI flag.
    """
    seconds: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if re.fullmatch(r"\d+(\.\d+)?", text):
            seconds = float(text)
        elif text and re.fullmatch(rf"(?:{_DURATION_PART_RE.pattern})+", text):
            seconds = sum(
                float(number) * _UNIT[unit] for number, unit in _DURATION_PART_RE.findall(text)
            )
    if seconds is None or not math.isfinite(seconds):
        raise ValueError(
            f"must be a duration (got {_show(value)}); write seconds (600) or a text such as "
            '"30s", "10m", "2h", "1d"'
        )
    if not 0 < seconds <= MAX_WINDOW_SECONDS:
        raise ValueError(
            f"must be more than 0 and at most 30 days (got {seconds:g} seconds); "
            'use e.g. "10m" or "1d"'
        )
    return seconds


def _duration(value: Any) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        problem, _, hint = str(exc).partition("; ")
        raise _Invalid(problem, hint) from None


def _text(value: Any, key: str, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise _Invalid(
            f"must be a non-empty string (got {_show(value)})", f'write {key} = "..." in quotes'
        )
    return value


def _names(value: Any, key: str, example: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    hint = f"write {key} = [{example}]"
    if not isinstance(items, list) or not items:
        raise _Invalid(f"must be a non-empty array of strings (got {_show(value)})", hint)
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise _Invalid(f"must hold non-empty strings only (got {_show(item)})", hint)
    if len(set(items)) != len(items):
        raise _Invalid("lists the same name twice", "keep each name once")
    return tuple(items)


def _count(value: Any, key: str) -> int:
    count: int = _number(value, 1, MAX_COUNT, f"write {key} = 5", integer=True)
    return count


def _severity(value: Any) -> str:
    if value not in SEVERITIES:
        raise _Invalid(
            f"must be one of {', '.join(SEVERITIES)} (got {_show(value)})",
            f'{_suggest(str(value), SEVERITIES)}write severity = "warning"',
        )
    return value


def _timezone(value: Any) -> str:
    import zoneinfo  # light: the standard library's time zone database reader

    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"must be an IANA time zone name (got {_show(value)})", 'use e.g. "UTC"')
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise _Invalid(
            f"is not a known IANA time zone (got {_show(value)})",
            'use a name such as "UTC", "Europe/Paris" or "Asia/Tokyo"',
        ) from None
    return value


def _pattern(value: Any) -> str:
    from logsieve.patterns import PatternError, compile

    if not isinstance(value, str):
        raise _Invalid(f"must be a string (got {_show(value)})", "quote the filter pattern")
    try:
        compile(value)
    except PatternError as exc:
        raise _Invalid(
            f"is not a valid filter pattern: {exc.message} (at character {exc.position + 1})",
            "try it with `logsieve test-pattern PATTERN FILE`",
        ) from None
    return value


def _flow_format(value: Any) -> str:
    from logsieve.formats.vpc_flow import FlowLogFormat

    if not isinstance(value, str):
        raise _Invalid(f"must be a string (got {_show(value)})", 'write "${version} ${...} ..."')
    try:
        FlowLogFormat.from_string(value)
    except ValueError as exc:
        raise _Invalid(
            f"is not a VPC Flow Logs format: {exc}",
            "copy the flow log's LogFormat (${field} tokens separated by single spaces)",
        ) from None
    return value


def _subtable(value: Any, key: str, keys: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        example = (
            '{ count = 5, window = "10m" }'
            if key == "threshold"
            else '{ key = "{{ flow.dstport }}", count = 10, window = "10m" }'
        )
        raise _Invalid(f"must be a table (got {_show(value)})", f"write {key} = {example}")
    for item in value:
        if item not in keys:
            raise _Invalid(
                f"has unknown key {item!r}",
                f"{_suggest(item, keys)}valid keys are {', '.join(keys)}",
            )
    for item in keys:
        if item not in value and item != "group_by":
            raise _Invalid(f"is missing {item}", f"add {item} to the {key} table")
    return value


def _nested(key: str, check: Any, *args: Any) -> Any:
    """``check(*args)`` for a key inside a table (``threshold.count``), named as such."""
    try:
        return check(*args)
    except _Invalid as bad:
        raise _Invalid(bad.problem, bad.hint, key=key) from None


def _threshold(value: Any) -> Threshold:
    table = _subtable(value, "threshold", _THRESHOLD_KEYS)
    return Threshold(
        count=_nested("threshold.count", _count, table["count"], "count"),
        window=_nested("threshold.window", _duration, table["window"]),
        group_by=_nested("threshold.group_by", _text, table["group_by"], "group_by")
        if "group_by" in table
        else None,
    )


def _distinct(value: Any) -> Distinct:
    table = _subtable(value, "distinct", _DISTINCT_KEYS)
    return Distinct(
        key=_nested("distinct.key", _text, table["key"], "key"),
        count=_nested("distinct.count", _count, table["count"], "count"),
        window=_nested("distinct.window", _duration, table["window"]),
        group_by=_nested("distinct.group_by", _text, table["group_by"], "group_by")
        if "group_by" in table
        else None,
    )


def _keys(value: Any, key: str) -> tuple[str, ...]:
    """``tags`` and ``top_keys``: an empty array is allowed (nothing to add)."""
    return () if isinstance(value, list) and not value else _names(value, key, '"srcaddr"')


# Every rule key and its check, in the order messages list the keys.
_CHECKS: dict[str, Any] = {
    "name": str,  # checked first, by parse_alerts: it names the rule in every other error
    "description": partial(_text, key="description", allow_empty=True),
    "log_groups": partial(_names, key="log_groups", example='"my-group"'),
    "pattern": _pattern,
    "flow_format": _flow_format,
    **{key: partial(_text, key=key) for key in ("title", "body", "body_html")},
    **{key: partial(_text, key=key) for key in ("digest_title", "digest_body")},
    "channels": partial(_names, key="channels", example='"slack"'),
    "severity": _severity,
    "timezone": _timezone,
    "tags": partial(_keys, key="tags"),
    "dedup_key": partial(_text, key="dedup_key"),
    "dedup_window": _duration,
    "digest_window": _duration,
    "digest_group_by": partial(_text, key="digest_group_by"),
    "top_keys": partial(_keys, key="top_keys"),
    "threshold": _threshold,
    "distinct": _distinct,
}
RULE_KEYS = tuple(_CHECKS)
_REQUIRED = {"log_groups": '["/aws/vpn/connections"]', "channels": '["slack"]'}
# key -> (the key it needs, the fix)
_NEEDS = {
    "dedup_window": ("dedup_key", 'add dedup_key = "{{ ... }}" or remove it'),
    "digest_group_by": ("digest_window", 'add digest_window = "10m" or remove it'),
}


def _rule(path: Path, where: str, entry: dict[str, Any]) -> AlertRule:
    values = read(path, where, entry, _CHECKS, _REQUIRED)
    for key, (needed, fix) in _NEEDS.items():
        if key in entry and needed not in entry:
            raise ConfigError(f"{path}: {where} {key} is set without {needed}; {fix}")
    modes = [key for key in ("threshold", "distinct", "digest_window") if key in entry]
    if len(modes) > 1:
        raise ConfigError(
            f"{path}: {where} {modes[1]} cannot be combined with {modes[0]}; declare a second "
            "[[alerts]] rule with the same pattern for the other one"
        )
    if "threshold" in entry or "distinct" in entry:
        values.setdefault("title", DEFAULT_AGGREGATE_TITLE)
        values.setdefault("body", DEFAULT_AGGREGATE_BODY)
    return AlertRule(**values, source=path)


def _check_templates(path: Path, where: str, rule: AlertRule) -> None:
    from .templates import TemplateProblem, check_template

    for key, text in rule.templates().items():
        as_field = key.startswith("top_keys") or key == "distinct.key"
        try:
            check_template(text, html=key == "body_html", field_ok=as_field)
        except TemplateProblem as bad:
            raise ConfigError(f"{path}: {where} {key} {bad.problem}; {bad.hint}") from None


def parse_alerts(path: Path, raw: Any) -> tuple[AlertRule, ...]:
    """Validate the ``[[alerts]]`` array of ``path`` into rules (called by ``load_config``).

    Patterns are compiled, templates compiled in the sandbox and checked for unknown names,
    durations converted to seconds. Channel names are checked later, against the declared
    ``[[channels]]``, by :func:`check_channels` when the engine is built.
    """
    raw = table_array(path, raw, "alerts", "rule with name, log_groups, pattern and channels")
    found: list[AlertRule] = []
    for number, entry in enumerate(raw, start=1):
        name = entry.get("name")
        label = f"[[alerts]] entry {number}"
        if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
            problem = "is missing name" if name is None else f"name {_show(name)} is not valid"
            raise ConfigError(
                f'{path}: {label} {problem}; add name = "..." with 1-64 letters, digits, '
                "'_', '.' or '-' (the rule's name in messages and `logsieve alerts test`)"
            )
        label = f"alert rule {name!r}"
        if any(rule.name == name for rule in found):
            raise ConfigError(
                f"{path}: {label} is declared twice ([[alerts]] entry {number}); rename one"
            )
        rule = _rule(path, f"{label}:", entry)
        _check_templates(path, f"{label}:", rule)
        found.append(rule)
    return tuple(found)


def check_channels(rules: Iterable[AlertRule], channels: Iterable[Any]) -> None:
    """Raise ConfigError if a rule names a channel that is not declared.

    ``channels`` holds channel names or objects with a ``name`` (``Config.channels``).
    """
    names = tuple(getattr(channel, "name", channel) for channel in channels)
    for rule in rules:
        for channel in rule.channels:
            if channel not in names:
                where = f"{rule.source}: " if rule.source else ""
                declared = ", ".join(names) if names else "none"
                raise ConfigError(
                    f"{where}alert rule {rule.name!r}: channel {channel!r} is not declared "
                    f"(declared: {declared}); {_suggest(channel, names)}add a [[channels]] "
                    f'table with name = "{channel}" or fix the name in channels'
                )


ALERTS: Section[tuple[AlertRule, ...]] = Section("alerts", parse_alerts, tuple, array=True)
