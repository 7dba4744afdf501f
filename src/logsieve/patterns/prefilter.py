"""Literal pre-checks: reject most non-matching events with a substring search, before parsing.

A comparison like ``$.status = "successful"`` can only hold if the raw message contains
``"successful"`` (and ``"status"``). We collect such necessary literals from the syntax tree as
a conjunction of clauses (each clause: at least one of its literals must occur) and test the
one or two most selective with ``in``, far cheaper than decoding JSON or splitting fields. Value
literals go first: keys appear in nearly every record of a log group, values rarely. A
pre-check only ever says "cannot match"; the matcher decides everything else.
"""

from __future__ import annotations

from collections.abc import Callable

from .ast import And, Check, Comparison, Expr, Or, Position
from .literals import all_of, contains_all, contains_any
from .selectors import last_key
from .values import has_wildcard, required_text

# (literal, is_value); a clause holds when the message contains at least one of its literals.
Literal = tuple[str, bool]
Clause = tuple[Literal, ...]
Precheck = Callable[[str], bool]

_MAX_CLAUSES = 2  # every extra scan costs the events that do match
# Every character a number's text can hold, "inf" included (1e400 parses to infinity).
_NUMBER_CHARS = frozenset("0123456789.eE+-inf")


def _rank(clause: Clause) -> tuple[bool, float]:
    """Values before keys, then longer literals in smaller clauses first."""
    return (
        all(is_value for _, is_value in clause),
        min(len(text) for text, _ in clause) / len(clause),
    )


def _any_of(requirements: list[list[Clause]]) -> list[Clause]:
    """The requirement of an OR: one clause gathering the best clause of every branch."""
    if any(not req for req in requirements):
        return []
    merged: dict[str, bool] = {}
    for req in requirements:
        for text, is_value in max(req, key=_rank):
            merged[text] = merged.get(text, True) and is_value
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
    if isinstance(expr, Check):
        clauses.append(((expr.test.lower(), False),))
    elif expr.op == "=" and expr.value.regex is None and expr.value.number is None:
        literal = _json_value_literal(expr.value.text)
        if literal:
            clauses.append(((literal, True),))
    key = last_key(expr.target)  # type: ignore[arg-type]
    if key is not None and _json_safe(key):
        clauses.append(((f'"{key}', False),))
    return clauses


def _json_value_literal(text: str) -> str | None:
    if not has_wildcard(text):
        # '"value' rather than '"value"': a needle ending in a quote skips badly through JSON.
        return f'"{text}' if _json_safe(text) else None
    core = required_text(text)
    # Wildcards also match a number's text (`4*` matches 404), which raw JSON may spell
    # differently (1e3): only use literals that no number could contain.
    if not _json_safe(core) or set(core) <= _NUMBER_CHARS:
        return None
    if not text.startswith("*"):
        return '"' + core
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
            return [((core, True),)]
    return []


def _choose(clauses: list[Clause]) -> list[tuple[str, ...]]:
    """Up to two value clauses, or one key clause when no value is required."""
    values = sorted((c for c in clauses if _rank(c)[0]), key=_rank, reverse=True)
    keys = sorted((c for c in clauses if not _rank(c)[0]), key=_rank, reverse=True)
    chosen: list[tuple[str, ...]] = []
    for clause in values[:_MAX_CLAUSES] or keys[:1]:
        texts = tuple(text for text, _ in clause)
        if texts not in chosen:
            chosen.append(texts)
    return chosen


def _build(chosen: list[tuple[str, ...]]) -> Precheck:
    if all(len(texts) == 1 for texts in chosen):
        return contains_all([texts[0] for texts in chosen])
    return all_of([contains_any(texts) for texts in chosen])


def json_requirements(expr: Expr) -> list[tuple[str, ...]]:
    """The literal clauses a JSON pattern's pre-check tests (empty: no pre-check)."""
    return _choose(_json_literals(expr))


def json_precheck(chosen: list[tuple[str, ...]]) -> Precheck | None:
    """The pre-check for a JSON pattern's chosen clauses, or None when there are none."""
    if not chosen:
        return None
    check = _build(chosen)
    # Any character of a literal may also be written as a \u escape in the raw JSON; a
    # one-character search for the backslash is cheap, the two-character one is not.
    return lambda m: check(m) or ("\\" in m and "\\u" in m)


def space_requirements(positions: tuple[Position, ...]) -> list[tuple[str, ...]]:
    """The literal clauses a space-delimited pattern's pre-check tests (empty: none)."""
    return _choose(
        [
            clause
            for position in positions
            if position.condition is not None
            for clause in _field_literals(position.condition)
        ]
    )


def space_precheck(chosen: list[tuple[str, ...]]) -> Precheck | None:
    """The pre-check for a space-delimited pattern's chosen clauses, or None."""
    return _build(chosen) if chosen else None


def single_literal(chosen: list[tuple[str, ...]]) -> str | None:
    """The literal when the pre-check is one substring test (matchers inline it)."""
    return chosen[0][0] if len(chosen) == 1 and len(chosen[0]) == 1 else None
