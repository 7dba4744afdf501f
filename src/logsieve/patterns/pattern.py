"""``compile`` and ``FilterPattern``: the public face of the pattern language."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Literal

from .ast import Comparison, JsonPattern, Pattern, RegexPattern, SpacePattern, iter_exprs
from .errors import PatternError
from .event import Event, as_event
from .match_json import JsonMatcher
from .match_space import PlainLayout, SpaceMatcher
from .match_text import TextMatcher
from .parser import parse
from .selectors import multi_getter, parse_selector
from .values import to_number

Kind = Literal["text", "json", "space", "regex"]


def _kind(syntax: Pattern) -> Kind:
    if isinstance(syntax, JsonPattern):
        return "json"
    if isinstance(syntax, SpacePattern):
        return "space"
    if isinstance(syntax, RegexPattern):
        return "regex"
    return "text"


def _regex_count(syntax: Pattern) -> int:
    if isinstance(syntax, RegexPattern):
        return 1
    if isinstance(syntax, JsonPattern):
        exprs = [syntax.expr]
    elif isinstance(syntax, SpacePattern):
        exprs = [p.condition for p in syntax.positions if p.condition is not None]
    else:
        return 0
    return sum(
        isinstance(node, Comparison) and node.value.regex is not None
        for expr in exprs
        for node in iter_exprs(expr)
    )


class FilterPattern:
    """A compiled CloudWatch Logs filter pattern.

    ``matches(message)`` is the hot path: a plain function chosen for the pattern's shape.
    To evaluate several patterns against one event, wrap it once in :class:`Event` and call
    ``match_event``: the JSON parse and the field split are then shared.
    """

    matches: Callable[[str], bool]
    """Whether the message matches the pattern."""

    def __init__(self, text: str, syntax: Pattern) -> None:
        self.text = text
        self.syntax = syntax
        self.kind: Kind = _kind(syntax)
        self.regex_count = _regex_count(syntax)
        if isinstance(syntax, JsonPattern):
            self._matcher: JsonMatcher | SpaceMatcher | TextMatcher = JsonMatcher(syntax)
        elif isinstance(syntax, SpacePattern):
            self._matcher = SpaceMatcher(syntax)
        else:
            self._matcher = TextMatcher(syntax)
        self.matches = self._matcher.matches
        #: Term patterns of one term: the text a message contains exactly when it matches.
        self.substring: str | None = getattr(self._matcher, "substring", None)
        #: Space-delimited patterns with at most one ``...``: ``plain_layout`` applies.
        self.columnar: bool = getattr(self._matcher, "columnar", False)
        #: ``matches`` on an :class:`Event`, reusing its parsed forms and cached alignment.
        self.match_event: Callable[[Event], bool] = self._matcher.match_event
        #: None when the event does not match, else what ``reader`` functions read: the
        #: aligned fields (space-delimited), the JSON document, or the message (text).
        self.view: Callable[[Event], Any] = self._matcher.view

    def plain_layout(self, count: int) -> PlainLayout | None:
        """For a ``columnar`` pattern: how every plain message split into ``count`` fields
        aligns (``SpaceMatcher.plain_layout``); None when such messages cannot match."""
        assert isinstance(self._matcher, SpaceMatcher) and self.columnar
        return self._matcher.plain_layout(count)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"FilterPattern({self.text!r}, kind={self.kind!r})"

    def extract(self, message: str | Event) -> dict[str, str] | None:
        """TestMetricFilter's ``extractedValues``; None when the event does not match.

        Space-delimited patterns give ``$name`` for named positions and ``$N`` (1-based field
        number) for unnamed positions and fields absorbed by ``...``; other kinds give ``{}``.
        """
        return self._matcher.extract(as_event(message))

    def extracted_fields(self, message: str | Event) -> dict[str, str] | None:
        """A subscription delivery's ``extractedFields``: named fields with bare keys.

        None when the event does not match or the pattern is not space-delimited (AWS then
        leaves the field out of the delivered event).
        """
        if not isinstance(self._matcher, SpaceMatcher):
            return None
        return self._matcher.extracted_fields(as_event(message))

    def value(self, message: str | Event, selector: str) -> float | str | None:
        """A metric filter's view of a matching event.

        ``selector`` is a metric value or dimension: ``$.path`` for JSON patterns, ``$name`` or
        ``$N`` for space-delimited ones, or a number literal. Numbers come back as float,
        strings as str; None when the event does not match or nothing usable is selected.
        """
        return self.selector(selector)(as_event(message))

    def selector(self, selector: str) -> Callable[[Event], float | str | None]:
        """Compile a metric value or dimension selector for this pattern (see ``value``).

        Raises :class:`PatternError` when the selector does not fit the pattern, which is how
        PutMetricFilter validates ``metricValue`` and dimensions.
        """
        read, view = self.reader(selector), self.view

        def select(event: Event) -> float | str | None:
            seen = view(event)
            return None if seen is None else read(seen)

        return select

    def reader(self, selector: str) -> Callable[[Any], float | str | None]:
        """A selector (see ``value``) as a function of a matching event's ``view``: for
        several filters with one pattern, the event is matched once and read many times.

        Raises :class:`PatternError` when the selector does not fit the pattern.
        """
        selector = selector.strip()
        literal = to_number(selector)
        if literal is not None:
            number = float(literal)
            return lambda seen: number
        if self.kind == "json" and selector.startswith("$"):
            many = multi_getter(parse_selector(selector))

            def from_json(doc: Any) -> float | str | None:
                for v in many(doc):
                    if type(v) is int or type(v) is float:
                        return float(v)
                    if type(v) is str:
                        return v
                return None

            return from_json
        if isinstance(self._matcher, SpaceMatcher) and selector.startswith("$"):
            key = selector[1:]
            if not (key.isdigit() or key in self._matcher.names):
                raise PatternError(f"{selector} is not a field of this pattern", 0)
            field = self._matcher.reader(key)

            def from_fields(taken: Any) -> float | str | None:
                text = field(taken)
                return None if text is None else field_value(text)

            return from_fields
        raise PatternError(
            f"Invalid selector {selector!r}: use $.path with a JSON pattern, $name or $N with a "
            "space-delimited pattern, or a number",
            0,
        )


def field_value(text: str) -> float | str:
    """A space-delimited field as a metric value or dimension reads it: a number as float,
    anything else as the text (so is an integer beyond a float's range: no metric value)."""
    number = to_number(text)
    if number is None:
        return text
    try:
        return float(number)
    except OverflowError:
        return text


@functools.lru_cache(maxsize=512)
def compile(text: str) -> FilterPattern:
    """Compile a filter pattern; raises :class:`PatternError` if AWS would reject it."""
    if not isinstance(text, str):
        raise PatternError(f"A filter pattern must be text, not {type(text).__name__}", 0)
    return FilterPattern(text, parse(text))
