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

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from logsieve.storage.metrics import MetricKey, Observation

__all__ = ["observe"]

LIMIT = 2.0**360
TINY = 1 / LIMIT
_PLAIN = frozenset({"MetricName", "Value", "Timestamp", "Dimensions", "Unit", "StorageResolution"})
_NUMBER = (int, float)

#: (datum, "MetricData.member.N") -> its observations, after every check
Full = Callable[[Mapping[str, Any], str], list[Observation]]


def observe(
    namespace: str, data: Sequence[Any], low: float, high: float, now: float, full: Full
) -> list[Observation]:
    """The observations of ``data``; timestamps must lie in ``[low, high]``."""
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
