"""The storage interface of CloudWatch metrics (``metrics/`` depends on this only).

What is stored is one row per observation set: SampleCount, Sum, Minimum and Maximum of what
one datum (or one metric-filter event) contributed at one timestamp and unit. A single value
``v`` published ``c`` times is the row ``(c, v*c, v, v)``; a ``StatisticValues`` set is stored
as sent. Everything CloudWatch answers is computed from these rows at read time: SampleCount,
Sum, Minimum and Maximum exactly, and percentiles exactly from the rows whose Minimum equals
their Maximum (raw values); a period holding a statistic set with Minimum below Maximum, or a
negative value, has no percentiles, as on AWS.

Timestamps are whole epoch seconds, truncated to the datum's storage resolution (1 s for
high-resolution data, 60 s for standard) before they are stored. ``metrics_sqlite.py`` is the
embedded implementation; a scale-out engine implements the same protocol.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

__all__ = ["Bucket", "MetricKey", "MetricStore", "Observation", "dimension_key"]

#: (namespace, metric name, dimensions sorted by name as (name, value) pairs)
MetricKey = tuple[str, str, tuple[tuple[str, str], ...]]


def dimension_key(dimensions: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The canonical form of a dimension set: pairs sorted by name (each set is one metric)."""
    return tuple(sorted(dimensions.items()))


class Observation(NamedTuple):
    """What one datum contributed to a metric at one (truncated) second and unit.

    A named tuple rather than a frozen dataclass: PutMetricData makes a thousand a request,
    and a tuple is built several times faster."""

    metric: MetricKey
    timestamp: int
    unit: str
    count: float
    total: float
    minimum: float
    maximum: float


@dataclass(frozen=True, slots=True)
class Bucket:
    """The statistics of one period (and unit, when asked per unit) that had observations.

    ``values`` is filled only when raw values were asked for: (value, count) pairs in
    ascending value order, or None when the period holds data percentiles cannot use.
    """

    start: int
    unit: str | None
    count: float
    total: float
    minimum: float
    maximum: float
    values: Sequence[tuple[float, float]] | None = None


class MetricStore(Protocol):
    def put(
        self, observations: Iterable[Observation], progress: Mapping[str, int] | None = None
    ) -> None:
        """Store the observations durably, and with them in the same transaction the
        ``progress`` positions (a consumer's high-water marks, read back by ``progress``):
        a counter that commits what it counted and how far it got together never counts an
        event twice, whatever is redelivered after a crash."""
        ...

    def progress(self, key: str) -> int | None:
        """The position last stored for ``key`` by ``put``, if any."""
        ...

    def metrics(self, namespace: str | None = None, name: str | None = None) -> list[MetricKey]:
        """Every metric with data, optionally of one namespace and name, in key order."""
        ...

    def buckets(
        self,
        metric: MetricKey,
        start: int,
        end: int,
        period: int,
        unit: str | None = None,
        *,
        per_unit: bool = True,
        raw_values: bool = False,
    ) -> list[Bucket]:
        """The periods of ``period`` seconds aligned on ``start`` that have observations in
        ``[start, end)``, in time order; only ``unit``'s data when given; one bucket per
        period and unit when ``per_unit``, else the units pooled (``unit`` None in them)."""
        ...

    def expire(self, before: int) -> int:
        """Delete observations older than ``before`` (epoch seconds); how many went."""
        ...

    def close(self) -> None: ...
