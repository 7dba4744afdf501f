"""Compile a JSON pattern's syntax tree into a matcher over parsed documents.

Typing follows the reading of A3 in filter-patterns.md: no coercion between strings and
numbers (``"5000"`` is not > 1000, ``"2"`` does not equal 2), except that a wildcard or regex
is applied to a number's text (``4*`` matches 404, as AWS documents). Objects and arrays never
satisfy ``=`` or ``!=`` (J10); a missing property satisfies nothing but ``NOT EXISTS`` (J18).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from .ast import And, Check, Comparison, Expr, JsonPattern, Key, Or, Selector, Value
from .event import Event, load_object
from .literals import all_of, any_of
from .prefilter import json_precheck, json_requirements, single_literal
from .regex import compile_search
from .selectors import MISSING, multi_getter, single_getter
from .values import ORDERINGS, has_wildcard, number_text, string_matcher

Test = Callable[[Any], bool]
DocMatcher = Callable[[dict], bool]


def _is_number(v: Any) -> bool:
    t = type(v)
    return t is int or t is float  # bool is not a number here


def _is_scalar(v: Any) -> bool:
    t = type(v)
    return t is str or t is int or t is float


def _text_test(match: Callable[[str], bool]) -> Test:
    def test(v: Any) -> bool:
        t = type(v)
        if t is str:
            return match(v)
        if t is int or t is float:
            return match(number_text(v))
        return False

    return test


def _equals(value: Value) -> Test:
    if value.regex is not None:
        return _text_test(compile_search(value.regex.source, value.regex.pos))
    if value.number is not None:
        n = value.number
        return lambda v: _is_number(v) and v == n
    text = value.text
    if has_wildcard(text):
        return _text_test(string_matcher(text))
    return lambda v: v == text  # only a str can equal a str


def value_test(op: str, value: Value) -> Test:
    """The test a single selected value must pass for ``selector op value``."""
    if op in ("=", "!="):
        eq = _equals(value)
        if op == "=":
            return eq
        return lambda v: _is_scalar(v) and not eq(v)
    n, order = value.number, ORDERINGS[op]
    return lambda v: _is_number(v) and order(v, n)


_CHECKS: dict[str, Test] = {
    "NULL": lambda v: v is None,
    "TRUE": lambda v: v is True,
    "FALSE": lambda v: v is False,
}


def _selected(selector: Selector, test: Test) -> DocMatcher:
    """Apply ``test`` to what the selector selects; existential over wildcards (J9)."""
    if not selector.wildcards:
        get = single_getter(selector)
        return lambda doc: test(get(doc))
    many = multi_getter(selector)
    return lambda doc: any(test(v) for v in many(doc))


def _membership(expr: Or) -> DocMatcher | None:
    """``$.x = "a" || $.x = "b" || ...`` (CIS-style event lists) as one set lookup, or None."""
    selectors = set()
    numbers: set[int | float] = set()
    strings: set[str] = set()
    for item in expr.items:
        if not (
            isinstance(item, Comparison)
            and item.op == "="
            and item.value.regex is None
            and isinstance(item.target, Selector)
            and not item.target.wildcards
        ):
            return None
        selectors.add(item.target.steps)
        if item.value.number is not None:
            numbers.add(item.value.number)
        elif has_wildcard(item.value.text):
            return None
        else:
            strings.add(item.value.text)
    if len(selectors) != 1:
        return None
    get = single_getter(expr.items[0].target)  # type: ignore[union-attr]
    words, values = frozenset(strings), frozenset(numbers)

    def member(doc: dict) -> bool:
        v = get(doc)
        t = type(v)
        return (t is str and v in words) or ((t is int or t is float) and v in values)

    return member


def compile_expr(expr: Expr) -> DocMatcher:
    if isinstance(expr, Or):
        return _membership(expr) or any_of([compile_expr(item) for item in expr.items])
    if isinstance(expr, And):
        return all_of([compile_expr(item) for item in expr.items])
    if isinstance(expr, Check):
        if expr.test != "NOT EXISTS":
            return _selected(expr.target, _CHECKS[expr.test])
        if not expr.target.wildcards:
            get = single_getter(expr.target)
            return lambda doc: get(doc) is MISSING
        many = multi_getter(expr.target)
        return lambda doc: next(many(doc), MISSING) is MISSING
    assert isinstance(expr, Comparison) and isinstance(expr.target, Selector)
    value = expr.value
    if (
        expr.op == "="
        and value.regex is None
        and value.number is None
        and not has_wildcard(value.text)
        and not expr.target.wildcards
    ):
        text = value.text
        steps = expr.target.steps
        if len(steps) == 1 and isinstance(steps[0], Key):
            key = steps[0].name
            return lambda doc: doc.get(key) == text
        get = single_getter(expr.target)
        return lambda doc: get(doc) == text
    return _selected(expr.target, value_test(expr.op, value))


def _flat_matcher(
    evaluate: DocMatcher, chosen: list[tuple[str, ...]], precheck: Callable[[str], bool] | None
) -> Callable[[str], bool]:
    """``matches`` as one flat function: the per-event hot path of every JSON filter.

    The common single-literal pre-check is inlined rather than called.
    """
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    literal = single_literal(chosen)
    general = None if literal is not None else precheck

    def matches(message: str) -> bool:
        if literal is not None:
            if literal not in message and ("\\" not in message or "\\u" not in message):
                return False
        elif general is not None and not general(message):
            return False
        if message[:1] == "{":
            try:
                doc = loads(message)
            except decode_error:
                doc = load_object(message)
        else:
            doc = load_object(message)
        return type(doc) is dict and evaluate(doc)

    return matches


class JsonMatcher:
    """Matches messages that parse as a JSON object satisfying the pattern (J16)."""

    def __init__(self, syntax: JsonPattern) -> None:
        evaluate = compile_expr(syntax.expr)
        chosen = json_requirements(syntax.expr)
        precheck = json_precheck(chosen)
        self._evaluate = evaluate
        self._precheck = precheck
        self.matches: Callable[[str], bool] = _flat_matcher(evaluate, chosen, precheck)

    def match_event(self, event: Event) -> bool:
        """The verdict on ``event``, kept in its ``views``: a metric filter's value and
        dimensions and other filters with this pattern ask again without evaluating again."""
        found = event.views.get(self)
        if found is None:
            found = event.views[self] = self._verdict(event)
        return found

    def view(self, event: Event) -> dict | None:
        """The matching event's JSON document, or None when it does not match."""
        return event.doc if self.match_event(event) else None

    def _verdict(self, event: Event) -> bool:
        if self._precheck is not None and not self._precheck(event.message):
            return False
        doc = event.doc
        return doc is not None and self._evaluate(doc)

    def extract(self, event: Event) -> dict[str, str] | None:
        return {} if self.match_event(event) else None
