"""Substring tests unrolled for the common small cases.

A generator like ``all(t in m for t in terms)`` costs more than the searches themselves on
short log lines; most patterns test one to three literals, so those get flat lambdas.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
Test = Callable[[str], bool]


def contains_all(literals: Sequence[str]) -> Test:
    """``message`` contains every literal."""
    if not literals:
        return lambda m: True
    if len(literals) == 1:
        (a,) = literals
        return lambda m: a in m
    if len(literals) == 2:
        a, b = literals
        return lambda m: a in m and b in m
    if len(literals) == 3:
        a, b, c = literals
        return lambda m: a in m and b in m and c in m
    items = tuple(literals)
    return lambda m: all(map(m.__contains__, items))  # C-level loop, no generator frame


def contains_any(literals: Sequence[str]) -> Test:
    """``message`` contains at least one literal."""
    if not literals:
        return lambda m: False
    if len(literals) == 1:
        (a,) = literals
        return lambda m: a in m
    if len(literals) == 2:
        a, b = literals
        return lambda m: a in m or b in m
    if len(literals) == 3:
        a, b, c = literals
        return lambda m: a in m or b in m or c in m
    items = tuple(literals)
    return lambda m: any(map(m.__contains__, items))


def all_of(tests: Sequence[Callable[[T], bool]]) -> Callable[[T], bool]:
    """Every test passes (short-circuit, unrolled for two and three)."""
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda v: a(v) and b(v)
    if len(tests) == 3:
        a, b, c = tests
        return lambda v: a(v) and b(v) and c(v)
    items = tuple(tests)
    return lambda v: all(t(v) for t in items)


def any_of(tests: Sequence[Callable[[T], bool]]) -> Callable[[T], bool]:
    """At least one test passes (short-circuit, unrolled for two and three)."""
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda v: a(v) or b(v)
    if len(tests) == 3:
        a, b, c = tests
        return lambda v: a(v) or b(v) or c(v)
    items = tuple(tests)
    return lambda v: any(t(v) for t in items)
