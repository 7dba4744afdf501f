"""Space-delimited metric filters counted a column at a time over a window of messages.

Every plain message (ASCII, no quotes or brackets: :func:`is_plain`) is split once for all
the filters. Plain messages with the same number of fields align the same way for a pattern
with at most one ``...`` (``FilterPattern.plain_layout``), so each pattern's tests and each
filter's value and dimensions are one pass over a column of fields in C-level loops (``zip``,
``map``, ``compress``, ``Counter``), and each distinct text of a column is tested or
converted once. Nothing is kept per event: a chunk's splits are dropped before the next.

What the columns cannot read (quoted, bracketed or non-ASCII messages; a test or a value that
takes the raw rest of a line) is left to the caller's row-wise path, whole blocks at a time,
so every event is counted by exactly one of the two paths.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import accumulate, compress
from operator import and_, itemgetter, not_
from typing import Any, Protocol

from logsieve.patterns.event import is_plain
from logsieve.patterns.match_space import REST, PlainLayout
from logsieve.patterns.pattern import FilterPattern, field_value
from logsieve.storage.metrics import dimension_key

__all__ = ["CHUNK", "CHUNK_CHARS", "count_columns", "dimension_text"]


class CompiledFilter(Protocol):
    """What this path reads of ``metrics.filters.CompiledFilter``."""

    pattern: FilterPattern
    literal: float | None  # the metric value, when a number
    value_key: str | None  # else the field it reads (``$bytes``: ``bytes``)
    dimension_keys: list[tuple[str, str]]  # (dimension name, field), sorted by name
    default: float | None


#: Messages split at a time: enough for C-level loops to dominate, small enough that the
#: splits stay in cache and are freed young.
CHUNK = 2048
#: and at most this many characters (but at least one message)
CHUNK_CHARS = 1 << 20

#: one filter's counts: (second, value, dimensions) -> how many times
Counts = dict[tuple[int, float, tuple[tuple[str, str], ...]], float]
#: per filter of a group: (value's field or None, [(dimension name, field)])
_Reads = list[tuple[int | None, list[tuple[str, int]]]]
_Plan = tuple[PlainLayout | None, _Reads] | None


def _mapped(function: Callable[[str], Any], column: Sequence[str]) -> list[Any]:
    """``function`` of each text of ``column``, computed once per distinct text when texts
    repeat (ports, actions, status words), else once per text."""
    if len(column) >= 16:
        distinct = set(column)
        if len(distinct) * 2 <= len(column):
            table = {text: function(text) for text in distinct}
            return list(map(table.__getitem__, column))
    return list(map(function, column))


def _number(text: str) -> float | None:
    """A field as a metric value: a number, or None (nothing is published)."""
    value = field_value(text)
    return value if type(value) is float else None


def dimension_text(value: float | str) -> str:
    """A dimension's value as published: a number without a needless ``.0``."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return value


def _dimension(text: str) -> str:
    """A field as a dimension value."""
    return dimension_text(field_value(text))


def _plan(pattern: FilterPattern, members: list[CompiledFilter], size: int) -> _Plan:
    """How ``members`` (filters of ``pattern``) read a plain message of ``size`` fields; None
    when one of them needs the raw rest of the line (the row-wise path's job)."""
    layout = pattern.plain_layout(size)
    if layout is None:
        return None, [(None, [])] * len(members)  # too few fields: none matches
    if any(field == REST for field, _ in layout.tests):
        return None
    reads: _Reads = []
    for compiled in members:
        value = None if compiled.value_key is None else layout.field(compiled.value_key)
        dimensions = [(name, layout.field(key)) for name, key in compiled.dimension_keys]
        if value == REST or any(field == REST for _, field in dimensions):
            return None
        reads.append((value, [(name, f) for name, f in dimensions if f is not None]))
    return layout, reads


class _Block:
    """Plain messages of one chunk with the same field count, read a column at a time:
    ``column(i)`` is every message's field ``i``."""

    def __init__(self, column: Callable[[int], list[str]], size: int, minutes: list[int]) -> None:
        self.size = size
        self._column = column
        self._columns: dict[int, list[str]] = {}
        self.minutes = minutes
        #: the minute of every row when they share one (the common case), else None
        self.minute = minutes[0] if minutes.count(minutes[0]) == self.size else None
        self._converted: dict[tuple[Callable[[str], Any], int], list[Any]] = {}
        self._totals: dict[int, int] | None = None

    def column(self, field: int) -> list[str]:
        """Field ``field`` of every row."""
        found = self._columns.get(field)
        if found is None:
            found = self._columns[field] = self._column(field)
        return found

    def converted(self, function: Callable[[str], Any], field: int) -> list[Any]:
        """``function`` of a column, shared by every filter that reads it so."""
        key = (function, field)
        found = self._converted.get(key)
        if found is None:
            found = self._converted[key] = _mapped(function, self.column(field))
        return found

    def totals(self) -> dict[int, int]:
        """Rows per minute."""
        if self._totals is None:
            minute = self.minute
            self._totals = Counter(self.minutes) if minute is None else {minute: self.size}
        return self._totals

    def per_minute(self, mask: list[bool] | None) -> dict[int, int]:
        """Rows per minute among those ``mask`` keeps (None: all)."""
        if mask is None:
            return self.totals()
        if self.minute is not None:
            return {self.minute: sum(mask)}
        return Counter(compress(self.minutes, mask))


def _mask(block: _Block, layout: PlainLayout | None) -> list[bool] | None:
    """Which rows match: None when all do."""
    if layout is None:
        return [False] * block.size
    mask = None
    for field, test in layout.tests:
        verdicts = block.converted(test, field)
        mask = verdicts if mask is None else list(map(and_, mask, verdicts))
    return mask


def _count(
    compiled: CompiledFilter,
    reads: tuple[int | None, list[tuple[str, int]]],
    block: _Block,
    mask: list[bool] | None,
    counts: Counts,
) -> None:
    """One filter's counts over one block, as ``CompiledFilter.count_view`` would give."""
    value_field, dimensions = reads

    def kept(column: Iterable[Any]) -> Iterable[Any]:
        return column if mask is None else compress(column, mask)

    literal = compiled.literal
    if literal is not None and not dimensions:
        for minute, hits in block.per_minute(mask).items():
            if hits:
                key = (minute * 60, literal, ())
                counts[key] = counts.get(key, 0.0) + hits
    elif literal is not None or value_field is not None:
        # Counted by the fields' texts, converted once per distinct combination after.
        columns: list[Iterable[Any]] = []
        if block.minute is None:
            columns.append(kept(block.minutes))
        if literal is None:
            columns.append(kept(block.column(value_field)))  # type: ignore[arg-type]
        names = [name for name, _ in dimensions]
        columns.extend(kept(block.column(field)) for _, field in dimensions)
        if len(columns) == 1:  # one column: counted as is, not as 1-tuples
            grouped = [((found,), hits) for found, hits in Counter(columns[0]).items()]
        else:
            grouped = list(Counter(zip(*columns, strict=True)).items())
        for found, hits in grouped:
            at = 0
            minute = block.minute
            if minute is None:
                minute, at = found[0], 1
            value = literal
            if value is None:
                value, at = _number(found[at]), at + 1
                if value is None:
                    continue  # not a number: nothing published
            dimensions_found = ()
            if names:
                texts = map(_dimension, found[at:])
                dimensions_found = dimension_key(dict(zip(names, texts, strict=True)))
            key = (minute * 60, value, dimensions_found)
            counts[key] = counts.get(key, 0.0) + hits
    default = compiled.default
    if default is not None:
        matched = block.per_minute(mask)
        for minute, total in block.totals().items():
            misses = total - matched.get(minute, 0)
            if misses:
                key = (minute * 60, default, ())
                counts[key] = counts.get(key, 0.0) + misses


#: Joins a chunk's messages for one split: a field no plain message can contain.
_SEPARATOR = "\x00"


def _split_uniform(part: list[str]) -> tuple[int, Callable[[int], list[str]]] | None:
    """(field count, column) when every message of ``part`` (none containing the separator)
    has the same number of fields (the common case: one source's lines): one split of the
    joined chunk, each column a slice of it; None otherwise."""
    if len(part) < 2:
        return None
    fields = f" {_SEPARATOR} ".join(part).split()
    size = fields.index(_SEPARATOR)
    if len(fields) != len(part) * (size + 1) - 1:
        return None
    if fields[size :: size + 1].count(_SEPARATOR) != len(part) - 1:
        return None
    step = size + 1
    return size, lambda i: fields[i::step]


def _blocks(part: list[str], minutes: list[int], index: Sequence[int], joinable: bool) -> list:
    """(field count, column, rows, minutes, event indexes) per field count in ``part``;
    ``joinable`` when no message contains the separator."""
    uniform = _split_uniform(part) if joinable else None
    if uniform is not None:
        return [(*uniform, len(part), minutes, index)]
    rows = list(map(str.split, part))
    by_size: dict[int, list[int]] = {}
    for at, size in enumerate(map(len, rows)):  # one pass, however many sizes there are
        by_size.setdefault(size, []).append(at)
    blocks = []
    for size, ats in by_size.items():
        chosen = list(map(rows.__getitem__, ats))

        def column(i: int, chosen: list[list[str]] = chosen) -> list[str]:
            return list(map(itemgetter(i), chosen))

        blocks.append((size, column, len(chosen), list(map(minutes.__getitem__, ats)),
                       list(map(index.__getitem__, ats))))  # fmt: skip
    return blocks


def _chunks(messages: list[str]) -> Iterator[tuple[int, int]]:
    """(start, end) of consecutive chunks of at most :data:`CHUNK` messages and, unless one
    message alone is longer, :data:`CHUNK_CHARS` characters (a chunk is joined and split
    whole: its memory is bounded by this, not by the size of the events)."""
    ends = list(accumulate(map(len, messages)))
    start = 0
    while start < len(messages):
        before = ends[start - 1] if start else 0
        end = bisect_right(ends, before + CHUNK_CHARS, start, min(start + CHUNK, len(ends)))
        end = max(end, start + 1)
        yield start, end
        start = end


def count_columns(
    filters: Sequence[CompiledFilter],
    messages: list[str],
    minutes: list[int],
    counts: dict[CompiledFilter, Counts],
) -> list[int]:
    """Count ``filters`` (``columnar``, each counting every event of the window) over the
    messages (with their minute indexes) into ``counts``; the indexes of the messages left
    for the row-wise path, in order."""
    groups: dict[int, tuple[FilterPattern, list[CompiledFilter]]] = {}
    for compiled in filters:
        groups.setdefault(id(compiled.pattern), (compiled.pattern, []))[1].append(compiled)
    plans: dict[tuple[int, int], _Plan] = {}
    left: list[int] = []
    for start, end in _chunks(messages):
        part = messages[start:end]
        stamps = minutes[start:end]
        index: Sequence[int] = range(start, end)
        joined = "\n".join(part)
        joinable = _SEPARATOR not in joined
        if not joined.isascii() or '"' in joined or "[" in joined:
            plain = list(map(is_plain, part))
            left.extend(compress(index, map(not_, plain)))
            part = list(compress(part, plain))
            stamps = list(compress(stamps, plain))
            index = list(compress(index, plain))
            if not part:
                continue
        blocks = _blocks(part, stamps, index, joinable)
        for size, column, rows, block_minutes, block_index in blocks:
            chosen = []
            for key, (pattern, members) in groups.items():
                if (key, size) not in plans:
                    plans[key, size] = _plan(pattern, members, size)
                chosen.append((members, plans[key, size]))
            if any(plan is None for _, plan in chosen):
                left.extend(block_index)
                continue
            block = _Block(column, rows, block_minutes)
            for members, plan in chosen:
                layout, reads = plan  # type: ignore[misc]
                mask = _mask(block, layout)
                for compiled, read in zip(members, reads, strict=True):
                    _count(compiled, read, block, mask, counts[compiled])
    left.sort()
    return left
