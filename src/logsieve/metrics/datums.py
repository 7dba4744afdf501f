"""PutMetricData's datums in bulk: the common datum checked in a few operations.

Almost every datum a client sends is one ``Value`` of a metric with a few dimensions, a unit
and an epoch timestamp. ``observe`` takes such a datum with the fewest checks that decide it is
valid (a finite value within CloudWatch's range, a timestamp within the accepted window, a
storage resolution of 1 or 60, dimension names that do not repeat) and reuses the metric key of
an earlier datum with the same name and dimensions. Any other datum -- ``Values``,
``StatisticValues``, an ISO or ``datetime`` timestamp, or one that fails a check -- goes to the
service's full check (``full``), which stores it or raises AWS's error for it. Datums are
taken in order, so the first invalid one is the one AWS names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import chain, repeat
from math import isfinite
from operator import itemgetter, mod, sub
from typing import Any

from logsieve.storage.metrics import MetricKey, Observation

__all__ = ["observe"]

LIMIT = 2.0**360
TINY = 1 / LIMIT
_PLAIN = frozenset({"MetricName", "Value", "Timestamp", "Dimensions", "Unit", "StorageResolution"})
_NUMBER = (int, float)
_NUMBERS = frozenset(_NUMBER)
_DICT = {dict}
_INT = {int}
_RESOLUTIONS = {1, 60}
_PAIR = itemgetter("Name", "Value")

#: (datum, "MetricData.member.N") -> its observations, after every check
Full = Callable[[Mapping[str, Any], str], list[Observation]]


def observe(
    namespace: str, data: Sequence[Any], low: float, high: float, now: float, full: Full
) -> list[Observation]:
    """The observations of ``data``; timestamps must lie in ``[low, high]``."""
    found = _in_columns(namespace, data, low, high, now)
    return found if found is not None else _one_by_one(namespace, data, low, high, now, full)


def _in_columns(
    namespace: str, data: Sequence[Any], low: float, high: float, now: float
) -> list[Observation] | None:
    """All of ``data`` at once when every datum is a common valid one, else None.

    Each member is read into a column and checked with C-level ``map``s, ``min`` and ``max``:
    no Python bytecode runs per datum, only per distinct metric."""
    count = len(data)
    if not count or set(map(type, data)) != _DICT or not all(map(_PLAIN.issuperset, data)):
        return None
    values = list(map(dict.get, data, repeat("Value", count)))
    stamps = list(map(dict.get, data, repeat("Timestamp", count), repeat(now, count)))
    resolutions = set(map(dict.get, data, repeat("StorageResolution", count), repeat(60, count)))
    try:
        common = _common(values, stamps, resolutions, low, high)
    except OverflowError:  # an integer beyond any double: the full check words it
        return None
    if not common:
        return None
    units = list(map(dict.get, data, repeat("Unit", count), repeat("None", count)))
    if None in units or "" in units:
        return None
    dims = list(map(dict.get, data, repeat("Dimensions", count), repeat((), count)))
    if not set(map(type, chain.from_iterable(dims))) <= _DICT:
        return None
    keys = list(zip(map(dict.get, data, repeat("MetricName", count)), _pairs(dims), strict=True))
    metrics = dict.fromkeys(keys)
    for key in metrics:
        name, pairs = key
        if len({pair[0] for pair in pairs}) != len(pairs):
            return None  # a repeated dimension name: the full check words it
        metrics[key] = (namespace, name, tuple(sorted(pairs)))
    seconds = list(map(int, stamps))
    if resolutions == {60}:
        seconds = list(map(sub, seconds, map(mod, seconds, repeat(60, count))))
    elif resolutions != {1}:
        resolution = list(
            map(dict.get, data, repeat("StorageResolution", count), repeat(60, count))
        )
        seconds = list(map(sub, seconds, map(mod, seconds, resolution)))
    return list(
        map(
            tuple.__new__,
            repeat(Observation, count),
            zip(
                map(metrics.__getitem__, keys),
                seconds,
                units,
                repeat(1.0, count),
                values,
                values,
                values,
                strict=True,
            ),
        )
    )


def _pairs(dims: list[Any]) -> Iterable[tuple[tuple[str, str], ...]]:
    """Each datum's (name, value) dimension pairs; when every datum has as many dimensions
    (the usual case), built position by position without a Python call per datum."""
    sizes = set(map(len, dims))
    if len(sizes) != 1:
        return map(tuple, map(map, repeat(_PAIR, len(dims)), dims))
    width = sizes.pop()
    if not width:
        return repeat((), len(dims))
    return zip(*(map(_PAIR, map(itemgetter(j), dims)) for j in range(width)), strict=True)


def _common(
    values: list[Any], stamps: list[Any], resolutions: set[Any], low: float, high: float
) -> bool:
    """Whether every value, timestamp and storage resolution is one the bulk path takes."""
    return (
        set(map(type, values)) <= _NUMBERS
        and all(map(isfinite, values))
        and min(values) >= -LIMIT
        and max(values) <= LIMIT
        and min(map(abs, filter(None, values)), default=TINY) >= TINY
        and set(map(type, stamps)) <= _NUMBERS
        and all(map(isfinite, stamps))
        and min(stamps) >= low
        and max(stamps) <= high
        and resolutions <= _RESOLUTIONS
        and set(map(type, resolutions)) <= _INT
    )


def _one_by_one(
    namespace: str, data: Sequence[Any], low: float, high: float, now: float, full: Full
) -> list[Observation]:
    """Datum by datum: the common ones checked here, any other by ``full``."""
    out: list[Observation] = []
    append = out.append
    keys: dict[tuple[str, tuple[tuple[str, str], ...]], MetricKey] = {}
    for index, datum in enumerate(data, 1):
        if type(datum) is not dict or not datum.keys() <= _PLAIN:
            out.extend(full(datum, f"MetricData.member.{index}"))
            continue
        value = datum.get("Value")
        stamp = datum.get("Timestamp", now)
        resolution = datum.get("StorageResolution", 60)
        if (
            type(value) not in _NUMBER
            or not -LIMIT <= value <= LIMIT
            or (value and -TINY < value < TINY)
            or type(stamp) not in _NUMBER
            or not low <= stamp <= high
            or (resolution != 60 and resolution != 1)
        ):
            out.extend(full(datum, f"MetricData.member.{index}"))
            continue
        dims = datum.get("Dimensions")
        if dims and type(dims[0]) is not dict:
            out.extend(full(datum, f"MetricData.member.{index}"))
            continue
        pairs = tuple([(d["Name"], d["Value"]) for d in dims]) if dims else ()
        name = datum["MetricName"]
        metric = keys.get((name, pairs))
        if metric is None:
            ordered = tuple(sorted(pairs))
            if len({pair[0] for pair in pairs}) != len(pairs):
                out.extend(full(datum, f"MetricData.member.{index}"))  # raises: a repeated name
                continue
            metric = keys[(name, pairs)] = (namespace, name, ordered)
        second = int(stamp) // resolution * resolution
        append(Observation(metric, second, datum.get("Unit") or "None", 1.0, value, value, value))
    return out
