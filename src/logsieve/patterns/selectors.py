"""JSON property selectors (``$.a.b[0]``, ``$.list[*].id``, ``$.['dotted.key']``).

Parsing turns selector text into steps; compiling turns steps into getters over a parsed
document. Selectors without wildcards get a single-value getter (the hot path); with
wildcards, a getter that yields every selected value (comparisons are then existential).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .ast import AnyElement, AnyMember, Index, Key, Selector, Step
from .errors import PatternError
from .lexer import SELECTOR_NAME_STOP

MISSING: Any = object()
"""What a getter returns when the selector selects nothing (distinct from JSON ``null``)."""

Getter = Callable[[Any], Any]
MultiGetter = Callable[[Any], Iterator[Any]]


def parse_selector(text: str, pos: int = 0) -> Selector:
    """Parse selector text such as ``$.a[0].b`` that starts at offset ``pos`` of the pattern."""
    if not text.startswith("$"):
        raise PatternError("A property selector must start with '$'", pos)
    steps: list[Step] = []
    i = 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == ".":
            i += 1
            if i < n and text[i] == "*":
                steps.append(AnyMember())
                i += 1
            elif i < n and text[i] == "[":
                continue  # $.['key'] — the bracket is read on the next turn
            else:
                start = i
                while i < n and not text[i].isspace() and text[i] not in SELECTOR_NAME_STOP:
                    i += 1
                if i == start:
                    raise PatternError(f"Missing property name after '.' in {text!r}", pos + i)
                steps.append(Key(text[start:i]))
        elif c == "[":
            close = _closing_bracket(text, i, pos)
            inner = text[i + 1 : close]
            if inner == "*":
                steps.append(AnyElement())
            elif inner.isdigit() and inner.isascii():
                steps.append(Index(int(inner)))
            elif len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
                steps.append(Key(inner[1:-1]))
            else:
                raise PatternError(
                    f"Invalid selector part '[{inner}]': use [n], [*] or ['key']", pos + i
                )
            i = close + 1
        else:
            raise PatternError(f"Unexpected {c!r} in selector {text!r}", pos + i)
    if not steps:
        raise PatternError("A property selector needs a property after '$', like $.name", pos)
    selector = Selector(tuple(steps), text, pos)
    if selector.wildcards > 1:
        raise PatternError(
            f"Selector {text!r} has more than one wildcard; at most one is allowed per selector",
            pos,
        )
    return selector


def _closing_bracket(text: str, i: int, pos: int) -> int:
    j = i + 1
    if j < len(text) and text[j] in "'\"":
        quote_end = text.find(text[j], j + 1)
        if quote_end < 0:
            raise PatternError("Unterminated quoted key in selector", pos + j)
        j = quote_end + 1
    close = text.find("]", j)
    if close < 0:
        raise PatternError("Missing ']' in selector", pos + i)
    return close


def _step_one(step: Key | Index, value: Any) -> Any:
    if isinstance(step, Key):
        return value.get(step.name, MISSING) if type(value) is dict else MISSING
    if type(value) is list and step.index < len(value):
        return value[step.index]
    return MISSING


def single_getter(selector: Selector) -> Getter:
    """A getter for a selector without wildcards: the selected value, or ``MISSING``."""
    steps = selector.steps
    if all(isinstance(s, Key) for s in steps):
        names = [s.name for s in steps]  # type: ignore[union-attr]
        if len(names) == 1:
            (k0,) = names
            return lambda doc: doc.get(k0, MISSING)
        if len(names) == 2:
            k0, k1 = names

            def get2(doc: dict) -> Any:
                v = doc.get(k0)
                return v.get(k1, MISSING) if type(v) is dict else MISSING

            return get2

    def get(doc: Any) -> Any:
        value = doc
        for step in steps:
            value = _step_one(step, value)  # type: ignore[arg-type]
            if value is MISSING:
                return MISSING
        return value

    return get


def multi_getter(selector: Selector) -> MultiGetter:
    """A getter that yields every value the selector selects (for wildcard selectors)."""
    steps = selector.steps

    def walk(value: Any, k: int) -> Iterator[Any]:
        if k == len(steps):
            yield value
            return
        step = steps[k]
        if isinstance(step, AnyMember):
            if type(value) is dict:
                for member in value.values():
                    yield from walk(member, k + 1)
        elif isinstance(step, AnyElement):
            if type(value) is list:
                for element in value:
                    yield from walk(element, k + 1)
        else:
            nxt = _step_one(step, value)
            if nxt is not MISSING:
                yield from walk(nxt, k + 1)

    return lambda doc: walk(doc, 0)


def last_key(selector: Selector) -> str | None:
    """The last named property of the selector (a literal the raw JSON must contain)."""
    for step in reversed(selector.steps):
        if isinstance(step, Key):
            return step.name
    return None
