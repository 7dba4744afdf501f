"""Metric filters that count: a log group's events evaluated against its metric filters.

Semantics, as CloudWatch Logs documents them (aws-wave2.md section 3):

* an event counts for a filter only if it was ingested after the filter was created;
* a matching event contributes ``metricValue``: a number literal, ``$.path`` (JSON patterns)
  or ``$field`` (space-delimited patterns); a matching event whose selected value is missing
  or not a number contributes nothing;
* a non-matching event contributes ``defaultValue`` once, when the filter has one;
* dimensions (``$.path`` / ``$field``) are published only with the values found in the event;
* the datapoint's timestamp is the event's, at standard (1-minute) resolution; ``unit``
  omitted is ``None``.

Observations are aggregated per metric, minute, unit and value (a value seen ``n`` times is
one observation of count ``n``), so Sum, SampleCount, Minimum, Maximum and percentiles stay
exact while a million REJECTs a minute are one row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from itertools import compress, repeat
from operator import contains, floordiv, itemgetter
from typing import Any

from logsieve.formats import emf
from logsieve.patterns import compile as compile_pattern
from logsieve.patterns.ast import SpacePattern
from logsieve.patterns.event import Event
from logsieve.patterns.pattern import FilterPattern
from logsieve.patterns.prefilter import single_literal, space_requirements
from logsieve.storage.metrics import MetricKey, Observation, dimension_key
from logsieve.storage.records import MetricFilter, StoredEvent

from .columns import count_columns, dimension_text

__all__ = ["CompiledFilter", "Tally", "evaluate"]

#: (metric, second (truncated to the resolution), unit, value) -> how many times
Tally = dict[tuple[MetricKey, int, str, float], float]
#: one filter's counts while evaluating: (second, value, dimensions) -> how many times
_Counts = dict[tuple[int, float, tuple[tuple[str, str], ...]], float]


def _literal(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


def _field_key(selector: str) -> str | None:
    """``$name`` or ``$N`` (a space-delimited field) without its ``$``; None for others."""
    selector = selector.strip()
    return selector[1:] if selector.startswith("$") else None


def _needle(pattern: FilterPattern) -> str | None:
    """The one literal every match contains, if any (for a term pattern such as ``ACCEPT``,
    the whole pattern: ``pattern.substring``)."""
    if isinstance(pattern.syntax, SpacePattern):
        return single_literal(space_requirements(pattern.syntax.positions))
    return pattern.substring


def _uniform(items: list[int]) -> bool:
    """Whether ``items`` (not empty) are all the same."""
    return items.count(items[0]) == len(items)


class _Window:
    """The columns every simple filter reads, extracted once per window in C-level loops."""

    def __init__(self, events: Sequence[StoredEvent]) -> None:
        self.events = events
        self.messages = list(map(itemgetter(5), events))
        #: minute index (epoch minutes) of each event's timestamp
        self.minutes = list(map(floordiv, map(itemgetter(0), events), repeat(60000)))
        #: the minute of every event when they share one (a batch's, mostly), else None
        self.minute = self.minutes[0] if _uniform(self.minutes) else None
        self._all: Counter[int] | None = None

    def _kept(self, created: int) -> list[bool] | None:
        """Which events were ingested at or after ``created``; None when all were."""
        events = self.events
        # Ingestion times grow with the log's order: when the first event of the window was
        # ingested after the filter's creation, so were all the others.
        if not events or events[0][4] >= created:
            return None
        return [e[4] >= created for e in events]

    def since(self, created: int) -> tuple[list[str], list[int]]:
        """Messages and minutes of the events ingested at or after ``created``."""
        keep = self._kept(created)
        if keep is None:
            return self.messages, self.minutes
        return list(compress(self.messages, keep)), list(compress(self.minutes, keep))

    def per_minute(self) -> dict[int, int]:
        """Events per minute index for the whole window (shared by default values)."""
        if self._all is None:
            minute = self.minute
            self._all = Counter(self.minutes) if minute is None else {minute: len(self.minutes)}
        return self._all


class CompiledFilter:
    """One metric filter, compiled once and applied to many events."""

    def __init__(self, item: MetricFilter) -> None:
        self.item = item
        self.pattern = compile_pattern(item.pattern)
        transformation: dict[str, Any] = item.transformations[0]
        self.created = item.creation_time
        self.metric: MetricKey = (
            transformation["metricNamespace"],
            transformation["metricName"],
            (),
        )
        self.unit: str = transformation.get("unit") or "None"
        default = transformation.get("defaultValue")
        self.default: float | None = None if default is None else float(default)
        self.literal = _literal(transformation["metricValue"])
        self.read_value = self.pattern.reader(transformation["metricValue"])
        self.read_dimensions = [
            (name, self.pattern.reader(selector))
            for name, selector in sorted((transformation.get("dimensions") or {}).items())
        ]
        #: Counting on the bare message suffices: a literal value and no dimensions.
        self.simple = self.literal is not None and not self.read_dimensions
        #: For the column path (``metrics.columns``): the field keys of ``$field`` value and
        #: dimensions (``value_key`` None: the literal); ``columnar`` when it applies.
        self.value_key = (
            None if self.literal is not None else _field_key(transformation["metricValue"])
        )
        self.dimension_keys = [
            (name, _field_key(selector))
            for name, selector in sorted((transformation.get("dimensions") or {}).items())
        ]
        self.columnar = (
            self.pattern.columnar
            and (self.literal is not None or self.value_key is not None)
            and all(key is not None for _, key in self.dimension_keys)
        )
        #: A text every matching message contains: tested with ``in`` from C before ``matches``.
        self.needle = _needle(self.pattern)

    def count_simple(self, window: _Window, tally: Tally) -> None:
        """The fast path: ``matches`` on the message, counted per minute in C-level loops."""
        messages, minutes = window.since(self.created)
        whole = messages is window.messages
        candidates, stamps = messages, minutes
        matched: Iterable[bool]
        if self.needle is not None:
            found = list(map(contains, messages, repeat(self.needle)))
            if self.pattern.substring is not None:  # the needle is the whole pattern
                matched = found
            else:
                candidates = list(compress(messages, found))
                stamps = list(compress(minutes, found))
                matched = map(self.pattern.matches, candidates)
        else:
            matched = map(self.pattern.matches, candidates)
        if whole and window.minute is not None:
            hits: dict[int, int] = {window.minute: sum(matched)}
        else:
            hits = Counter(compress(stamps, matched))
        metric, unit = self.metric, self.unit
        for minute, count in hits.items():
            key = (metric, minute * 60, unit, self.literal)
            tally[key] = tally.get(key, 0.0) + count  # type: ignore[index]
        if self.default is not None:
            misses = window.per_minute() if whole else Counter(minutes)
            for minute, total in misses.items():
                count = total - hits.get(minute, 0)
                if count > 0:
                    key = (metric, minute * 60, unit, self.default)
                    tally[key] = tally.get(key, 0.0) + count

    def count_view(self, minute: int, seen: Any, counts: _Counts) -> None:
        """The general path, for one event: ``seen`` is the pattern's view of it (None when
        it does not match), shared by every filter with this pattern. Counted in this
        filter's own ``counts`` under a short key (hashing the whole metric key per event
        cost more than the rest of the count); :meth:`fold` moves them to the tally."""
        if seen is None:
            if self.default is not None:
                key = (minute, self.default, ())
                counts[key] = counts.get(key, 0.0) + 1.0
            return
        value = self.read_value(seen)
        if type(value) is not float:
            return  # the selected field is missing or not a number: nothing published
        dimensions: tuple[tuple[str, str], ...] = ()
        if self.read_dimensions:
            found = {}
            for name, read in self.read_dimensions:
                selected = read(seen)
                if selected is not None:
                    found[name] = dimension_text(selected)
            dimensions = dimension_key(found)
        key = (minute, value, dimensions)
        counts[key] = counts.get(key, 0.0) + 1.0

    def fold(self, counts: _Counts, tally: Tally) -> None:
        """Add what :meth:`count_view` counted to the tally, under the full metric keys."""
        namespace, name, _ = self.metric
        for (minute, value, dimensions), count in counts.items():
            key = ((namespace, name, dimensions), minute, self.unit, value)
            tally[key] = tally.get(key, 0.0) + count


_Group = tuple[Any, str | None, list[tuple[CompiledFilter, _Counts]]]


def _by_pattern(filters: list[CompiledFilter]) -> list[_Group]:
    """The filters grouped by pattern (compiled patterns are shared, so equal text is one
    object): (the pattern's ``view``, its needle, its filters)."""
    groups: dict[int, _Group] = {}
    for compiled in filters:
        pattern = compiled.pattern
        members = groups.setdefault(id(pattern), (pattern.view, compiled.needle, []))[2]
        members.append((compiled, {}))
    return list(groups.values())


def evaluate(
    filters: Iterable[CompiledFilter],
    events: Sequence[StoredEvent],
    embedded: bool = False,
    parse: Callable[[int, str], Event] | None = None,
) -> Tally:
    """What ``events`` (one log group's, in order) add to the metrics of ``filters``, and
    with ``embedded`` the metrics their Embedded Metric Format publishes.

    Space-delimited filters with at most one ``...`` that count the whole window go column
    by column (``metrics.columns``: one split per message for all of them) when two or
    more do, or one reads fields. The others, and the messages the columns cannot read,
    go row by row: filters that read fields share one :class:`Event` per event (its field
    split or JSON parse), and the filters of one pattern share its match and alignment.
    ``parse(seq, message)`` may supply that Event (another consumer's, already parsed).
    Events are taken one at a time and dropped after use: holding a window's worth of
    parsed events costs more in garbage collection than it saves."""
    tally: Tally = {}
    if embedded:
        count_embedded(events, tally)
    filters = list(filters)
    columnar = _columnar(filters, events)
    window = None
    if columnar:
        window = _Window(events)
        counts: dict[CompiledFilter, _Counts] = {compiled: {} for compiled in columnar}
        left = count_columns(columnar, window.messages, window.minutes, counts)
        for compiled in columnar:
            compiled.fold(counts[compiled], tally)
        if left:
            _count_rows(columnar, [events[i] for i in left], tally, parse)
        chosen = set(columnar)
        filters = [compiled for compiled in filters if compiled not in chosen]
    _count_rows(filters, events, tally, parse, window)
    return tally


def _columnar(filters: list[CompiledFilter], events: Sequence[StoredEvent]) -> list:
    """The filters to count column by column (``metrics.columns``): the ``columnar`` ones
    that count every event of the window (created before it), when splitting every message
    pays: two or more of them, or one that reads fields. A lone literal-value filter with a
    text to look for first (the REJECT count) is faster on its own (``count_simple``)."""
    if not events:
        return []
    first = events[0][4]
    chosen = [c for c in filters if c.columnar and first >= c.created]
    if len(chosen) > 1 or any(not c.simple for c in chosen):
        return chosen
    return []


def _count_rows(
    filters: list[CompiledFilter],
    events: Sequence[StoredEvent],
    tally: Tally,
    parse: Callable[[int, str], Event] | None,
    window: _Window | None = None,
) -> None:
    """``filters`` over ``events`` (``window``: theirs, if made already) message by
    message, each filter its fastest way."""
    if not filters or not events:
        return
    if window is None and any(c.simple for c in filters):
        window = _Window(events)
    general = []
    for compiled in filters:
        if compiled.simple:
            compiled.count_simple(window, tally)  # type: ignore[arg-type]
        else:
            general.append(compiled)
    if not general:
        return
    since = min(compiled.created for compiled in general)
    groups = _by_pattern(general)
    for timestamp, seq, _, _, ingested, message in events:
        if ingested < since:
            continue
        minute = timestamp // 60000 * 60
        event = Event(message) if parse is None else parse(seq, message)
        for view, needle, members in groups:
            seen = None if needle is not None and needle not in message else view(event)
            for compiled, counts in members:
                if ingested >= compiled.created:
                    compiled.count_view(minute, seen, counts)
    for _, _, members in groups:
        for compiled, counted in members:
            compiled.fold(counted, tally)


def count_embedded(events: Sequence[StoredEvent], tally: Tally) -> None:
    """The Embedded Metric Format events among ``events`` (others are skipped unparsed)."""
    marker = emf.MARKER
    for _, _, _, _, _, message in events:
        if marker not in message:
            continue
        for metric in emf.parse(message) or ():
            step = metric.resolution
            second = metric.timestamp_ms // 1000 // step * step
            key_metric = (metric.namespace, metric.name, metric.dimensions)
            for value in metric.values:
                key = (key_metric, second, metric.unit, value)
                tally[key] = tally.get(key, 0.0) + 1.0


def observations(tally: Tally) -> list[Observation]:
    """The tally as stored observations: value ``v`` seen ``n`` times is one of count ``n``."""
    return [
        Observation(metric, minute, unit, count, value * count, value, value)
        for (metric, minute, unit, value), count in tally.items()
    ]
