"""Compile a space-delimited pattern into a matcher over a message's fields.

Alignment (S7-S9): without ``...`` the positions take the first fields and the last position
is greedy, taking the raw rest of the line; with ``...`` the positions before the first
ellipsis align with the first fields, those after the last with the last fields, and any run
between two ellipses takes its leftmost place where its conditions hold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from .ast import And, Comparison, Expr, Or, Position, SpacePattern
from .event import Event, Fields
from .literals import all_of, any_of
from .prefilter import single_literal, space_precheck, space_requirements
from .regex import compile_search
from .values import ORDERINGS, has_wildcard, string_matcher, to_number

FieldTest = Callable[[str], bool]
#: The values of the fields a pattern covers, and the slot of each (None if absorbed by
#: ``...``): without ``...`` one field per position, the last holding the rest of the line.
Alignment = tuple[list[str], "list[_Slot] | list[_Slot | None]"]
_UNSEEN: Any = object()
#: In a :class:`PlainLayout`: the alignment's value is the raw rest of the line, not a field.
REST = -1


class PlainLayout(NamedTuple):
    """Where the alignment of every plain message (``event.is_plain``) with one field count
    takes its values: the same for all of them, so a caller holding many such messages' splits
    can test and read a column of fields at a time instead of aligning each message."""

    #: (field index or :data:`REST`, test) for each position with a condition
    tests: list[tuple[int, FieldTest]]
    #: the field index (or :data:`REST`) of each value of the alignment
    fields: list[int]
    slots: list[_Slot] | list[_Slot | None]

    def field(self, key: str) -> int | None:
        """The field index (or :data:`REST`) ``reader(key)`` reads; None when it reads
        nothing (no such position in this alignment)."""
        found = _find(self.slots, key)
        return None if found is None else self.fields[found]


def _comparison_test(expr: Comparison) -> FieldTest:
    op, value = expr.op, expr.value
    if value.regex is not None:
        search = compile_search(value.regex.source, value.regex.pos)
        return search if op == "=" else (lambda s: not search(s))
    n = value.number
    if n is None:
        match = string_matcher(value.text)
        return match if op == "=" else (lambda s: not match(s))
    # Numbers compare by value when the field is a number (S3, S4); a field that is not a
    # number (VPC's "-") never satisfies = or an ordering, and is != any number (S15).
    if op == "=":
        return lambda s: to_number(s) == n
    if op == "!=":
        return lambda s: to_number(s) != n
    order = ORDERINGS[op]
    return lambda s: (x := to_number(s)) is not None and order(x, n)


def _membership(expr: Or) -> FieldTest | None:
    """``f = a || f = b || ...`` with plain values as one set lookup, or None."""
    numbers: set[int | float] = set()
    strings: set[str] = set()
    for item in expr.items:
        if not (isinstance(item, Comparison) and item.op == "=" and item.value.regex is None):
            return None
        if item.value.number is not None:
            numbers.add(item.value.number)
        elif has_wildcard(item.value.text):
            return None
        else:
            strings.add(item.value.text)
    words, values = frozenset(strings), frozenset(numbers)
    if not values:
        return words.__contains__
    if not words:
        return lambda s: to_number(s) in values
    return lambda s: s in words or to_number(s) in values


def compile_condition(expr: Expr) -> FieldTest:
    """A position's condition as a test of its field's value.

    Every comparison in one position tests that position's field, whatever name it uses
    (reading A13: the first name names the field).
    """
    if isinstance(expr, Or):
        return _membership(expr) or any_of([compile_condition(item) for item in expr.items])
    if isinstance(expr, And):
        return all_of([compile_condition(item) for item in expr.items])
    assert isinstance(expr, Comparison)
    return _comparison_test(expr)


@dataclass(frozen=True, slots=True)
class _Slot:
    index: int  # position among the pattern's fields, ellipses excluded
    name: str | None
    test: FieldTest | None


class SpaceMatcher:
    def __init__(self, syntax: SpacePattern) -> None:
        segments: list[list[_Slot]] = [[]]
        for position in syntax.positions or (Position(0, ellipsis=True),):
            if position.ellipsis:
                segments.append([])
                continue
            test = None if position.condition is None else compile_condition(position.condition)
            slot = _Slot(sum(map(len, segments)), position.name, test)
            segments[-1].append(slot)
        self._segments = segments
        self._slots = [slot for segment in segments for slot in segment]
        self.names = [slot.name for slot in self._slots if slot.name is not None]
        self._tests = [(slot.index, slot.test) for slot in self._slots if slot.test is not None]
        chosen = space_requirements(syntax.positions)
        self._precheck = space_precheck(chosen)
        self._literal = single_literal(chosen)
        self.matches: Callable[[str], bool] = (
            self._fast_matches() if len(segments) <= 2 else self._general_matches
        )
        #: Whether :meth:`plain_layout` applies: at most one ``...``.
        self.columnar = len(segments) <= 2

    # --- alignment ---------------------------------------------------------------------

    def _align(self, fields: Fields) -> Alignment | None:
        """The values of the fields the pattern covers and the slot each one fills."""
        values = fields.values
        count = len(values)
        segments = self._segments
        if len(segments) == 1:
            slots = segments[0]
            n = len(slots)
            if count < n:
                return None
            if count > n:
                values = values[:n]
                values[-1] = fields.rest(n - 1)
            for i, test in self._tests:
                if not test(values[i]):
                    return None
            return values, slots
        head, middles, tail = segments[0], segments[1:-1], segments[-1]
        if count < len(self._slots):
            return None
        placed: dict[int, _Slot] = {}
        for i, slot in enumerate(head):
            placed[i] = slot
        tail_start = count - len(tail)
        for i, slot in enumerate(tail):
            placed[tail_start + i] = slot
        for i, slot in placed.items():
            if slot.test is not None and not slot.test(values[i]):
                return None
        cursor = len(head)
        for segment in middles:
            start = self._leftmost(segment, values, cursor, tail_start)
            if start is None:
                return None
            for j, slot in enumerate(segment):
                placed[start + j] = slot
            cursor = start + len(segment)
        return values, [placed.get(i) for i in range(count)]

    @staticmethod
    def _leftmost(segment: list[_Slot], values: list[str], lo: int, hi: int) -> int | None:
        for start in range(lo, hi - len(segment) + 1):
            if all(
                slot.test is None or slot.test(values[start + j]) for j, slot in enumerate(segment)
            ):
                return start
        return None

    # --- matching ------------------------------------------------------------------------

    def _general_matches(self, message: str) -> bool:
        if self._precheck is not None and not self._precheck(message):
            return False
        return self._align(Fields(message)) is not None

    def _fast_matches(self) -> Callable[[str], bool]:
        """``matches`` for patterns with at most one ``...``: one C-level split on plain lines.

        Without ``...`` the split stops at the last position, which takes the greedy rest of
        the line; with ``[head..., ..., tail...]`` the tail fields are indexed from the end.
        """
        head, tail = [*self._segments, []][:2]
        greedy = len(self._segments) == 1
        need = len(head) + len(tail)
        maxsplit = need - 1 if greedy else -1
        strip = need - 1 if greedy else None  # the greedy field may end in blanks
        tests = [(slot.index, slot.test) for slot in head if slot.test is not None] + [
            (j - len(tail), slot.test) for j, slot in enumerate(tail) if slot.test is not None
        ]
        literal = self._literal
        precheck = None if literal is not None else self._precheck
        general = self._general_matches

        def matches(message: str) -> bool:
            if literal is not None:
                if literal not in message:
                    return False
            elif precheck is not None and not precheck(message):
                return False
            if not message.isascii() or '"' in message or "[" in message:
                return general(message)
            parts = message.split(None, maxsplit)
            if len(parts) < need:
                return False
            for i, test in tests:
                value = parts[i]
                if i == strip:
                    value = value.rstrip()
                if not test(value):
                    return False
            return True

        return matches

    def plain_layout(self, count: int) -> PlainLayout | None:
        """The :class:`PlainLayout` of plain messages split into ``count`` fields, or None
        when they cannot align (too few fields: no such message matches). Only patterns
        with at most one ``...`` (``columnar``): a run between two ellipses moves with the
        values."""
        segments = self._segments
        assert len(segments) <= 2, "only for columnar patterns"
        if count < len(self._slots):
            return None
        if len(segments) == 1:
            n = len(self._slots)
            fields = list(range(n))
            if count > n:
                fields[-1] = REST  # the greedy last position takes the raw rest of the line
            slots: list[_Slot | None] = list(self._slots)
        else:
            head, tail = segments
            fields = list(range(count))
            slots = [None] * count
            slots[: len(head)] = head
            slots[count - len(tail) :] = tail
        tests = [
            (fields[i], slot.test)
            for i, slot in enumerate(slots)
            if slot is not None and slot.test is not None
        ]
        return PlainLayout(tests, fields, slots)

    # --- one alignment per event, shared -------------------------------------------------

    def aligned(self, event: Event) -> Alignment | None:
        """The event's fields as this pattern aligns them, or None when it does not match.

        Computed once per event and kept in ``event.views``: the match, the metric value,
        each dimension and the extracted fields of every filter with this pattern read it.
        """
        views = event.views
        found = views.get(self, _UNSEEN)
        if found is _UNSEEN:
            found = None
            if self._precheck is None or self._precheck(event.message):
                found = self._align(event.fields)
            views[self] = found
        return found

    def match_event(self, event: Event) -> bool:
        return self.aligned(event) is not None

    view = aligned

    # --- extraction ----------------------------------------------------------------------

    def extract(self, event: Event) -> dict[str, str] | None:
        """TestMetricFilter's view: ``$name`` for named positions, ``$N`` for the others."""
        taken = self.aligned(event)
        if taken is None:
            return None
        values, slots = taken
        return {
            f"${slot.name}" if slot is not None and slot.name else f"${i + 1}": value
            for i, (slot, value) in enumerate(zip(slots, values, strict=True))
        }

    def reader(self, key: str) -> Callable[[Alignment], str | None]:
        """One field by name or 1-based number, read from a matching event's alignment
        (``aligned``): a metric value or dimension."""
        index = self._static_index(key)
        if index is None:

            def scan(taken: Alignment) -> str | None:
                values, slots = taken
                found = _find(slots, key)
                return None if found is None else values[found]

            return scan

        def read(taken: Alignment) -> str | None:
            values = taken[0]
            return values[index] if index < len(values) else None

        return read

    def _static_index(self, key: str) -> int | None:
        """Where ``key`` sits in every alignment, when that does not depend on the event."""
        if key.isdigit():
            plain = key.isascii() and str(int(key)) == key and key != "0"
            return int(key) - 1 if plain and key not in self.names else None
        if len(self._segments) == 1:
            for slot in self._segments[0]:
                if slot.name == key:
                    return slot.index
        return None

    def extracted_fields(self, event: Event) -> dict[str, str] | None:
        """Subscription deliveries' view: named positions only, keyed by the bare name."""
        taken = self.aligned(event)
        if taken is None:
            return None
        values, slots = taken
        return {
            slot.name: value
            for slot, value in zip(slots, values, strict=True)
            if slot is not None and slot.name
        }


def _find(slots: list[_Slot] | list[_Slot | None], key: str) -> int | None:
    """The first position of an alignment that ``key`` names: a position's name or its
    1-based number."""
    for i, slot in enumerate(slots):
        if (slot is not None and slot.name == key) or str(i + 1) == key:
            return i
    return None
