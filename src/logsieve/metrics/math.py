"""Metric math: the expression language of GetMetricData (and math alarms), a subset.

Supported: numbers, query ids, ``+ - * / ^``, unary minus, parentheses, arrays ``[m1, m2]``,
and the functions ``ABS``, ``AVG``, ``CEIL``, ``FILL``, ``FLOOR``, ``MAX``, ``MIN``,
``METRICS``, ``RATE``, ``DIFF``, ``SUM``, ``SAMPLE_COUNT``. Anything else is refused with a
message naming the function and listing these.

Time series are ``{timestamp (epoch seconds): value}`` on the period grid of the request.
Arithmetic between two series keeps the timestamps both have (as CloudWatch does); between a
series and a number, every point. ``SUM``/``AVG``/``MIN``/``MAX`` of one series are a number;
of an array, the series of the per-timestamp aggregate over the series that have a value.
``RATE`` is the change per second between consecutive points; ``DIFF`` the change.
``FILL(m, v)`` fills every missing period of the grid with ``v`` (a number, ``REPEAT`` for the
last value seen or ``LINEAR`` for linear interpolation).
"""

from __future__ import annotations

import itertools
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Union

__all__ = ["FUNCTIONS", "MathError", "Series", "Value", "evaluate", "references"]

Series = dict[int, float]
Value = Union[float, Series, list[Series]]  # noqa: UP007 (recursive aliases read better)


class MathError(Exception):
    """An expression that cannot be parsed or evaluated; the message says why."""


_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<string>\"[^\"]*\"|'[^']*')|(?P<op>[-+*/^(),\[\]]))"
)


@dataclass(frozen=True)
class _Num:
    value: float


@dataclass(frozen=True)
class _Ref:
    name: str


@dataclass(frozen=True)
class _Str:
    value: str


@dataclass(frozen=True)
class _Call:
    name: str
    args: tuple[object, ...]


@dataclass(frozen=True)
class _Array:
    items: tuple[object, ...]


@dataclass(frozen=True)
class _Bin:
    op: str
    left: object
    right: object


@dataclass(frozen=True)
class _Neg:
    operand: object


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        found = _TOKEN.match(text, pos)
        if found is None or found.end() == pos:
            raise MathError(f"unexpected character {text[pos:].strip()[:1]!r} at {pos + 1}")
        kind = found.lastgroup or ""
        out.append((kind, found.group(kind)))
        pos = found.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.items = _tokens(text)
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def take(self, op: str | None = None) -> tuple[str, str]:
        item = self.peek()
        if item is None or (op is not None and item != ("op", op)):
            raise MathError(f"expected {op!r}" if op else "unexpected end of expression")
        self.pos += 1
        return item

    def parse(self) -> object:
        node = self.sum()
        if self.peek() is not None:
            raise MathError(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return node

    def sum(self) -> object:
        node = self.product()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            node = _Bin(op, node, self.product())
        return node

    def product(self) -> object:
        node = self.power()
        while self.peek() in (("op", "*"), ("op", "/")):
            op = self.take()[1]
            node = _Bin(op, node, self.power())
        return node

    def power(self) -> object:
        node = self.unary()
        if self.peek() == ("op", "^"):
            self.take()
            node = _Bin("^", node, self.power())
        return node

    def unary(self) -> object:
        if self.peek() == ("op", "-"):
            self.take()
            return _Neg(self.unary())
        return self.atom()

    def atom(self) -> object:
        kind, text = self.take()
        if kind == "number":
            return _Num(float(text))
        if kind == "string":
            return _Str(text[1:-1])
        if kind == "name":
            if self.peek() == ("op", "("):
                self.take()
                args: list[object] = []
                if self.peek() != ("op", ")"):
                    args.append(self.sum())
                    while self.peek() == ("op", ","):
                        self.take()
                        args.append(self.sum())
                self.take(")")
                return _Call(text.upper(), tuple(args))
            return _Ref(text)
        if (kind, text) == ("op", "("):
            node = self.sum()
            self.take(")")
            return node
        if (kind, text) == ("op", "["):
            items = [self.sum()]
            while self.peek() == ("op", ","):
                self.take()
                items.append(self.sum())
            self.take("]")
            return _Array(tuple(items))
        raise MathError(f"unexpected {text!r}")


def references(expression: str) -> set[str]:
    """The query ids an expression names (for ordering and cycle checks)."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, _Ref):
            found.add(node.name)
        elif isinstance(node, _Call):
            for arg in node.args:
                walk(arg)
        elif isinstance(node, _Array):
            for item in node.items:
                walk(item)
        elif isinstance(node, _Bin):
            walk(node.left)
            walk(node.right)
        elif isinstance(node, _Neg):
            walk(node.operand)

    walk(_Parser(expression).parse())
    return found


_OPS: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": lambda a, b: a / b if b else math.nan,
    "^": lambda a, b: a**b,
}


def _binary(op: str, left: Value, right: Value) -> Value:
    fn = _OPS[op]
    if isinstance(left, list) or isinstance(right, list):
        if isinstance(left, list) and isinstance(right, list):
            raise MathError("arithmetic between two arrays of time series is not supported")
        if isinstance(left, list):
            return [_binary(op, s, right) for s in left]  # type: ignore[misc]
        return [_binary(op, left, s) for s in right]  # type: ignore[union-attr, misc]
    if isinstance(left, dict) and isinstance(right, dict):
        return {t: fn(v, right[t]) for t, v in left.items() if t in right}
    if isinstance(left, dict):
        return {t: fn(v, right) for t, v in left.items()}  # type: ignore[arg-type]
    if isinstance(right, dict):
        return {t: fn(left, v) for t, v in right.items()}
    return fn(left, right)


def _aggregate(name: str, fn: Callable[[Sequence[float]], float], value: Value) -> Value:
    if isinstance(value, list):
        stamps = sorted({t for s in value for t in s})
        return {t: fn([s[t] for s in value if t in s]) for t in stamps}
    if isinstance(value, dict):
        return fn(list(value.values())) if value else math.nan
    raise MathError(f"{name} takes a time series or an array of them")


def _each(value: Value, fn: Callable[[Series], Series]) -> Value:
    if isinstance(value, list):
        return [fn(s) for s in value]
    if isinstance(value, dict):
        return fn(value)
    raise MathError("this function takes a time series")


def _rate(series: Series, by_time: bool) -> Series:
    stamps = sorted(series)
    out = {}
    for before, after in itertools.pairwise(stamps):
        change = series[after] - series[before]
        out[after] = change / (after - before) if by_time else change
    return out


def _fill(series: Series, how: object, grid: Sequence[int]) -> Series:
    out = dict(series)
    if isinstance(how, float):
        for t in grid:
            out.setdefault(t, how)
        return out
    known = sorted(series)
    if how == "REPEAT":
        last = None
        for t in grid:
            if t in series:
                last = series[t]
            elif last is not None:
                out[t] = last
        return out
    if how == "LINEAR":
        for before, after in itertools.pairwise(known):
            for t in grid:
                if before < t < after:
                    share = (t - before) / (after - before)
                    out[t] = series[before] + share * (series[after] - series[before])
        return out
    raise MathError("FILL takes a number, REPEAT or LINEAR as its second argument")


def _stat(values: Sequence[float], name: str) -> float:
    if name == "SUM":
        return math.fsum(values)
    if name == "AVG":
        return math.fsum(values) / len(values)
    if name == "MIN":
        return min(values)
    if name == "MAX":
        return max(values)
    return float(len(values))


FUNCTIONS = ("ABS", "AVG", "CEIL", "DIFF", "FILL", "FLOOR", "MAX", "METRICS", "MIN",
             "RATE", "SAMPLE_COUNT", "SUM")  # fmt: skip


def evaluate(
    expression: str,
    values: Mapping[str, Value],
    grid: Sequence[int],
    metrics: Callable[[str], list[Series]] | None = None,
) -> Value:
    """The value of ``expression`` given the other queries' ``values`` by id; ``grid`` is
    the request's period timestamps (for FILL); ``metrics(prefix)`` serves ``METRICS()``."""

    def run(node: object) -> Value:
        if isinstance(node, _Num):
            return node.value
        if isinstance(node, _Ref):
            if node.name in ("REPEAT", "LINEAR"):
                return node.name  # type: ignore[return-value]
            if node.name not in values:
                raise MathError(f"unknown metric id {node.name!r}")
            return values[node.name]
        if isinstance(node, _Str):
            return node.value  # type: ignore[return-value]
        if isinstance(node, _Neg):
            return _binary("*", -1.0, run(node.operand))
        if isinstance(node, _Bin):
            return _binary(node.op, run(node.left), run(node.right))
        if isinstance(node, _Array):
            out: list[Series] = []
            for item in node.items:
                value = run(item)
                if isinstance(value, dict):
                    out.append(value)
                elif isinstance(value, list):
                    out.extend(value)
                else:
                    raise MathError("an array holds time series only")
            return out
        assert isinstance(node, _Call)
        return call(node)

    def call(node: _Call) -> Value:
        name, args = node.name, node.args
        if name not in FUNCTIONS:
            raise MathError(
                f"the function {name} is not supported by logsieve; supported functions: "
                + ", ".join(FUNCTIONS)
            )
        if name == "METRICS":
            if metrics is None:
                raise MathError("METRICS() is not available here")
            prefix = run(args[0]) if args else ""
            return metrics(str(prefix))
        if not args:
            raise MathError(f"{name} needs an argument")
        first = run(args[0])
        if name in ("SUM", "AVG", "MIN", "MAX", "SAMPLE_COUNT"):
            return _aggregate(name, lambda v: _stat(v, name), first)
        if name in ("ABS", "CEIL", "FLOOR"):
            fn = {"ABS": abs, "CEIL": math.ceil, "FLOOR": math.floor}[name]
            if isinstance(first, float):
                return float(fn(first))
            return _each(first, lambda s: {t: float(fn(v)) for t, v in s.items()})
        if name in ("RATE", "DIFF"):
            return _each(first, lambda s: _rate(s, name == "RATE"))
        if len(args) != 2:
            raise MathError("FILL takes two arguments")
        how = run(args[1])
        return _each(first, lambda s: _fill(s, how, grid))

    try:
        return run(_Parser(expression).parse())
    except RecursionError:
        raise MathError("the expression is nested too deeply") from None
