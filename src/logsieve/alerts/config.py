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
from pathlib import Path
from typing import Any

from logsieve.config import Section
from logsieve.config_values import Invalid as _Invalid
from logsieve.config_values import number as _number
from logsieve.config_values import show as _show
from logsieve.config_values import suggest as _suggest
from logsieve.config_values import table_array
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

RULE_KEYS = (
    "name",
    "description",
    "log_groups",
    "pattern",
    "flow_format",
    "title",
    "body",
    "body_html",
    "digest_title",
    "digest_body",
    "channels",
    "severity",
    "timezone",
    "tags",
    "dedup_key",
    "dedup_window",
    "digest_window",
    "digest_group_by",
    "top_keys",
    "threshold",
    "distinct",
)
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


# --- the rule table ---------------------------------------------------------------------------


class _RuleError(Exception):
    def __init__(self, key: str, invalid: _Invalid) -> None:
        super().__init__(invalid.problem)
        self.key = key
        self.invalid = invalid


def _at(key: str, check: Any, *args: Any) -> Any:
    try:
        return check(*args)
    except _Invalid as bad:
        raise _RuleError(key, bad) from None


def _rule(path: Path, entry: dict[str, Any]) -> AlertRule:
    for key in entry:
        if key not in RULE_KEYS:
            raise _RuleError(
                key,
                _Invalid(
                    "is not a rule key",
                    f"{_suggest(key, RULE_KEYS)}valid keys are {', '.join(RULE_KEYS)}",
                ),
            )
    for key, example in (("log_groups", '["/aws/vpn/connections"]'), ("channels", '["slack"]')):
        if key not in entry:
            raise _RuleError(key, _Invalid("is missing", f"add {key} = {example}"))
    values: dict[str, Any] = {
        "name": entry["name"],
        "source": path,
        "log_groups": _at("log_groups", _names, entry["log_groups"], "log_groups", '"my-group"'),
        "channels": _at("channels", _names, entry["channels"], "channels", '"slack"'),
    }
    for key in ("title", "body", "body_html", "digest_title", "digest_body"):
        if key in entry:
            values[key] = _at(key, _text, entry[key], key)
    if "description" in entry:
        values["description"] = _at("description", _text, entry["description"], "description", True)
    if "pattern" in entry:
        values["pattern"] = _at("pattern", _pattern, entry["pattern"])
    if "flow_format" in entry:
        values["flow_format"] = _at("flow_format", _flow_format, entry["flow_format"])
    if "severity" in entry:
        values["severity"] = _at("severity", _severity, entry["severity"])
    if "timezone" in entry:
        values["timezone"] = _at("timezone", _timezone, entry["timezone"])
    for key in ("tags", "top_keys"):
        if key in entry:
            items = entry[key]
            if isinstance(items, list) and not items:
                values[key] = ()
            else:
                values[key] = _at(key, _names, items, key, '"srcaddr"')
    for key in ("dedup_key", "digest_group_by"):
        if key in entry:
            values[key] = _at(key, _text, entry[key], key)
    for key in ("dedup_window", "digest_window"):
        if key in entry:
            values[key] = _at(key, _duration, entry[key])
    if "dedup_window" in entry and "dedup_key" not in entry:
        raise _RuleError(
            "dedup_window",
            _Invalid("is set without dedup_key", 'add dedup_key = "{{ ... }}" or remove it'),
        )
    if "digest_group_by" in entry and "digest_window" not in entry:
        raise _RuleError(
            "digest_group_by",
            _Invalid("is set without digest_window", 'add digest_window = "10m" or remove it'),
        )
    if "threshold" in entry:
        table = _at("threshold", _subtable, entry["threshold"], "threshold", _THRESHOLD_KEYS)
        values["threshold"] = Threshold(
            count=_at("threshold.count", _count, table["count"], "count"),
            window=_at("threshold.window", _duration, table["window"]),
            group_by=_at("threshold.group_by", _text, table["group_by"], "group_by")
            if "group_by" in table
            else None,
        )
    if "distinct" in entry:
        table = _at("distinct", _subtable, entry["distinct"], "distinct", _DISTINCT_KEYS)
        values["distinct"] = Distinct(
            key=_at("distinct.key", _text, table["key"], "key"),
            count=_at("distinct.count", _count, table["count"], "count"),
            window=_at("distinct.window", _duration, table["window"]),
            group_by=_at("distinct.group_by", _text, table["group_by"], "group_by")
            if "group_by" in table
            else None,
        )
    modes = [key for key in ("threshold", "distinct", "digest_window") if key in entry]
    if len(modes) > 1:
        raise _RuleError(
            modes[1],
            _Invalid(
                f"cannot be combined with {modes[0]}",
                "declare a second [[alerts]] rule with the same pattern for the other one",
            ),
        )
    aggregate = "threshold" in entry or "distinct" in entry
    if aggregate:
        values.setdefault("title", DEFAULT_AGGREGATE_TITLE)
        values.setdefault("body", DEFAULT_AGGREGATE_BODY)
    return AlertRule(**values)


def _check_templates(rule: AlertRule) -> None:
    from .templates import TemplateProblem, check_template

    for key, text in rule.templates().items():
        as_field = key.startswith("top_keys") or key == "distinct.key"
        try:
            check_template(text, html=key == "body_html", field_ok=as_field)
        except TemplateProblem as bad:
            raise _RuleError(key, _Invalid(bad.problem, bad.hint)) from None


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
        try:
            rule = _rule(path, entry)
            _check_templates(rule)
        except _RuleError as bad:
            raise ConfigError(
                f"{path}: {label}: {bad.key} {bad.invalid.problem}; {bad.invalid.hint}"
            ) from None
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
