"""Literal pre-checks: reject most non-matching events with a substring search, before parsing.

A comparison like ``$.status = "successful"`` can only hold if the raw message contains
``"successful"`` and ``"status"``. We collect such necessary literals from the syntax tree as a
conjunction of clauses (each clause: at least one of its literals must occur) and test a few of
the most selective ones with ``in``, which is far cheaper than decoding JSON or splitting fields.
A pre-check only ever says "cannot match"; the full matcher decides everything else.
"""

from __future__ import annotations

from collections.abc import Callable

from .ast import And, Check, Comparison, Expr, Or, Position
from .selectors import last_key
from .values import has_wildcard, required_text

# A literal with a weight: longer literals, and values rather than keys, rule out more events.
Literal = tuple[str, int]
Clause = tuple[Literal, ...]
Precheck = Callable[[str], bool]

_MAX_CLAUSES = 3
_VALUE_BONUS = 8
_NUMBER_CHARS = frozenset("0123456789.eE+-")


def _strength(clause: Clause) -> float:
    return min(weight for _, weight in clause) / len(clause)


def _any_of(requirements: list[list[Clause]]) -> list[Clause]:
    """The requirement of an OR: one clause gathering the best clause of every branch."""
    if any(not req for req in requirements):
        return []
    merged: dict[str, int] = {}
    for req in requirements:
        for literal, weight in max(req, key=_strength):
            merged[literal] = weight
    return [tuple(merged.items())]


def _json_safe(text: str) -> bool:
    """Whether ``text`` can only appear in raw JSON as itself or through a ``\\u`` escape."""
    return bool(text) and not any(c in '"\\/' or c < " " for c in text)


def _json_literals(expr: Expr) -> list[Clause]:
    if isinstance(expr, And):
        return [clause for item in expr.items for clause in _json_literals(item)]
    if isinstance(expr, Or):
        return _any_of([_json_literals(item) for item in expr.items])
    if isinstance(expr, Check) and expr.test == "NOT EXISTS":
        return []
    clauses: list[Clause] = []
    key = last_key(expr.target)  # type: ignore[arg-type]
    if key is not None and _json_safe(key):
        clauses.append(((f'"{key}"', len(key) + 2),))
    if isinstance(expr, Check):
        word = expr.test.lower()
        clauses.append(((word, len(word)),))
    elif expr.op == "=" and expr.value.regex is None and expr.value.number is None:
        literal = _json_value_literal(expr.value.text)
        if literal:
            clauses.insert(0, ((literal, len(literal) + _VALUE_BONUS),))
    return clauses


def _json_value_literal(text: str) -> str | None:
    if not has_wildcard(text):
        return f'"{text}"' if _json_safe(text) else None
    core = required_text(text)
    # Wildcards also match a number's text (`4*` matches 404), which raw JSON may spell
    # differently (1e3): only use literals that no number could contain.
    if not _json_safe(core) or set(core) <= _NUMBER_CHARS:
        return None
    if not text.startswith("*"):
        return '"' + core
    if not text.endswith("*"):
        return core + '"'
    return core


def _field_literals(expr: Expr) -> list[Clause]:
    if isinstance(expr, And):
        return [clause for item in expr.items for clause in _field_literals(item)]
    if isinstance(expr, Or):
        return _any_of([_field_literals(item) for item in expr.items])
    if (
        isinstance(expr, Comparison)
        and expr.op == "="
        and expr.value.regex is None
        and expr.value.number is None
    ):
        core = required_text(expr.value.text)
        if core:
            return [((core, len(core)),)]
    return []


def _build(clauses: list[Clause]) -> Precheck | None:
    chosen: list[Clause] = []
    for clause in sorted(clauses, key=_strength, reverse=True):
        if clause not in chosen:
            chosen.append(clause)
        if len(chosen) == _MAX_CLAUSES:
            break
    if not chosen:
        return None
    groups = [tuple(literal for literal, _ in clause) for clause in chosen]
    if all(len(g) == 1 for g in groups):
        singles = tuple(g[0] for g in groups)
        if len(singles) == 1:
            (only,) = singles
            return lambda m: only in m
        return lambda m: all(s in m for s in singles)
    return lambda m: all(any(s in m for s in g) for g in groups)


def json_precheck(expr: Expr) -> Precheck | None:
    """A pre-check for a JSON pattern, or None when it needs no literal at all."""
    check = _build(_json_literals(expr))
    if check is None:
        return None
    # Any character of a literal may also be written as a \u escape in the raw JSON.
    return lambda m: check(m) or "\\u" in m


def space_precheck(positions: tuple[Position, ...]) -> Precheck | None:
    """A pre-check for a space-delimited pattern, or None when it needs no literal."""
    clauses = [
        clause
        for position in positions
        if position.condition is not None
        for clause in _field_literals(position.condition)
    ]
    return _build(clauses)
