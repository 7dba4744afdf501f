"""The small syntax tree every pattern kind parses into.

Nodes carry the offset of their first character so later checks (quotas, type rules) can
report errors at the right place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TermMode = Literal["required", "optional", "excluded"]
Operator = Literal["=", "!=", "<", ">", "<=", ">="]
NUMERIC_OPERATORS: frozenset[str] = frozenset({"<", ">", "<=", ">="})


@dataclass(frozen=True, slots=True)
class Term:
    """One word or quoted phrase of an unstructured pattern."""

    text: str
    mode: TermMode
    pos: int


@dataclass(frozen=True, slots=True)
class TextPattern:
    terms: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class Regex:
    """A ``%...%`` regex in AWS's dialect; ``source`` is the text between the percent signs."""

    source: str
    pos: int


@dataclass(frozen=True, slots=True)
class RegexPattern:
    regex: Regex


@dataclass(frozen=True, slots=True)
class Value:
    """The right-hand side of a comparison.

    ``number`` is set for unquoted numeric literals; ``regex`` for ``%...%`` values; otherwise
    ``text`` is a string that may carry leading/trailing ``*`` wildcards.
    """

    text: str
    pos: int
    number: int | float | None = None
    regex: Regex | None = None


# JSON selector steps
@dataclass(frozen=True, slots=True)
class Key:
    name: str


@dataclass(frozen=True, slots=True)
class Index:
    index: int


@dataclass(frozen=True, slots=True)
class AnyMember:
    """``.*``: every member of an object."""


@dataclass(frozen=True, slots=True)
class AnyElement:
    """``[*]``: every element of an array."""


Step = Key | Index | AnyMember | AnyElement


@dataclass(frozen=True, slots=True)
class Selector:
    steps: tuple[Step, ...]
    text: str
    pos: int

    @property
    def wildcards(self) -> int:
        return sum(isinstance(s, AnyMember | AnyElement) for s in self.steps)


@dataclass(frozen=True, slots=True)
class Comparison:
    """``target op value``; the target is a JSON selector or a space-delimited field name."""

    target: Selector | str
    op: Operator
    value: Value
    pos: int


@dataclass(frozen=True, slots=True)
class Check:
    """``selector IS NULL|TRUE|FALSE`` or ``selector NOT EXISTS``."""

    target: Selector
    test: Literal["NULL", "TRUE", "FALSE", "NOT EXISTS"]
    pos: int


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Expr, ...]


Expr = Comparison | Check | And | Or


@dataclass(frozen=True, slots=True)
class JsonPattern:
    expr: Expr


@dataclass(frozen=True, slots=True)
class Position:
    """One comma-separated position of a space-delimited pattern.

    ``ellipsis`` stands for any number of fields; otherwise the position is one field, named or
    not, with an optional condition on its value.
    """

    pos: int
    ellipsis: bool = False
    name: str | None = None
    condition: Expr | None = None


@dataclass(frozen=True, slots=True)
class SpacePattern:
    positions: tuple[Position, ...]


Pattern = TextPattern | RegexPattern | JsonPattern | SpacePattern


def iter_exprs(expr: Expr):
    """Yield every node of a boolean expression tree, depth first."""
    yield expr
    if isinstance(expr, And | Or):
        for item in expr.items:
            yield from iter_exprs(item)
