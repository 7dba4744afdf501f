"""What a filter pattern found in an event, for the eye: marks in the message, value chips.

The pattern engine decides; this module only shows. Space-delimited patterns mark each
extracted ``$field`` where it sits in the message; JSON patterns list each selector's value
(``$.status = 500``) and mark its key in the pretty-printed document; term patterns mark
the terms the event was matched on (negated ones are not there to mark).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import orjson
from markupsafe import Markup, escape

from logsieve.patterns import FilterPattern, PatternError
from logsieve.patterns import compile as compile_pattern

_SELECTOR = re.compile(r"\$\.[A-Za-z0-9_$.\[\]*-]+")
_TERM = re.compile(r'"(?:[^"\\]|\\.)*"|\S+')


@dataclass
class Shown:
    """One event as the page shows it."""

    plain: Markup  # the message, with marks
    pretty: Markup | None  # the JSON document indented, with marks; None if not JSON
    values: list[tuple[str, str]] = field(default_factory=list)  # (selector, value) chips


def compile_or_error(text: str) -> tuple[FilterPattern | None, str]:
    """The compiled pattern, or AWS's refusal (InvalidParameterException's message)."""
    if not text.strip():
        return None, ""
    try:
        return compile_pattern(text), ""
    except PatternError as exc:
        return None, f"Invalid filter pattern: {exc.message}"


def _mark(text: str, spans: list[tuple[int, int, str]]) -> Markup:
    """``text`` escaped, with ``<mark>`` around each (start, end, title) span (no overlaps)."""
    out, at = [], 0
    for start, end, title in sorted(spans):
        if start < at:
            continue
        out.append(escape(text[at:start]))
        label = f' title="{escape(title)}"' if title else ""
        out.append(
            Markup(f'<mark class="value"{label}>') + escape(text[start:end]) + Markup("</mark>")
        )
        at = end
    out.append(escape(text[at:]))
    return Markup("").join(out)


def _find_in_order(text: str, values: list[tuple[str, str]]) -> list[tuple[int, int, str]]:
    """Each value's first place in ``text`` after the previous one (fields come in order)."""
    spans, at = [], 0
    for name, value in values:
        if not value:
            continue
        found = text.find(value, at)
        if found < 0:
            found = text.find(value)
            if found < 0:
                continue
        spans.append((found, found + len(value), name))
        at = found + len(value)
    return spans


def _terms(text: str) -> list[str]:
    """The positive terms of a term pattern (``ERROR``, ``?WARN``, ``"two words"``)."""
    found = []
    for token in _TERM.findall(text):
        token = token.lstrip("?")
        if not token or token.startswith("-"):
            continue
        if len(token) >= 2 and token[0] == token[-1] == '"':
            token = token[1:-1].replace('\\"', '"')
        found.append(token)
    return found


def _term_spans(text: str, terms: list[str]) -> list[tuple[int, int, str]]:
    spans = []
    for term in terms:
        for match in re.finditer(re.escape(term), text):
            spans.append((match.start(), match.end(), ""))
    return spans


def _pretty(message: str) -> str | None:
    if not message.lstrip().startswith(("{", "[")):
        return None
    try:
        document = orjson.loads(message)
    except orjson.JSONDecodeError:
        return None
    return json.dumps(document, indent=2, ensure_ascii=False)


def show(message: str, pattern: FilterPattern | None) -> Shown:
    """``message`` marked with what ``pattern`` found in it."""
    pretty = _pretty(message)
    if pattern is None:
        return Shown(escape(message), None if pretty is None else escape(pretty))
    text = pattern.text if hasattr(pattern, "text") else str(pattern)
    stripped = text.strip()
    if stripped.startswith("{"):
        values = []
        for selector in dict.fromkeys(_SELECTOR.findall(stripped)):
            try:
                value = pattern.value(message, selector)
            except PatternError:
                continue
            if value is not None:
                shown = f"{value:g}" if isinstance(value, float) else str(value)
                values.append((selector, shown))
        keys = [selector.rsplit(".", 1)[-1].split("[")[0] for selector, _ in values]
        marks = [f'"{key}"' for key in keys if key]
        plain = _mark(message, _term_spans(message, marks))
        pretty_marked = None if pretty is None else _mark(pretty, _term_spans(pretty, marks))
        return Shown(plain, pretty_marked, values)
    extracted = pattern.extract(message) or {}
    if extracted:
        values = sorted(extracted.items(), key=lambda item: _field_order(item[0]))
        spans = _find_in_order(message, values)
        plain = _mark(message, spans)
        return Shown(plain, None if pretty is None else escape(pretty), values)
    if stripped.startswith(("[", "%")):
        return Shown(escape(message), None if pretty is None else escape(pretty))
    terms = _terms(stripped)
    plain = _mark(message, _term_spans(message, terms))
    pretty_marked = None if pretty is None else _mark(pretty, _term_spans(pretty, terms))
    return Shown(plain, pretty_marked)


def _field_order(name: str) -> tuple[int, str]:
    """``$3`` before ``$10``; named fields keep their pattern order via ``extract``'s."""
    return (int(name[1:]), "") if name[1:].isdigit() else (0, "")
