"""What alarm evaluation reads from the metric store: statistics per period.

The seam between the two halves of the CloudWatch service: the metric side (PutMetricData,
metric filters, EMF) stores observations and answers ``period_statistics``; the alarm side
evaluates alarms from those answers only, so it can be driven by a deterministic clock and a
store filled by a test, and a second storage engine serves both unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["MetricReader", "PeriodStats"]


@dataclass(frozen=True)
class PeriodStats:
    """The statistics of one period that had at least one observation.

    ``start`` is the period's start in epoch seconds (aligned as GetMetricStatistics aligns
    it); ``percentiles`` holds only the extended statistics asked for, keyed as asked
    ("p99", "p99.9"), each the value CloudWatch would answer (exact or within the store's
    documented error bound).
    """

    start: float
    sample_count: float
    sum: float
    minimum: float
    maximum: float
    unit: str | None = None
    percentiles: Mapping[str, float] = field(default_factory=dict)

    @property
    def average(self) -> float:
        return self.sum / self.sample_count if self.sample_count else 0.0


class MetricReader(Protocol):
    """Statistics of one metric (namespace, name and exact dimension set, as an alarm names
    it), per ``period`` seconds from ``start`` (inclusive) to ``end`` (exclusive), in epoch
    seconds; periods without observations are absent. ``unit`` None means any unit (the
    datapoints of every unit pooled, as an alarm without a Unit reads them)."""

    def period_statistics(
        self,
        namespace: str,
        metric_name: str,
        dimensions: Mapping[str, str],
        start: float,
        end: float,
        period: int,
        unit: str | None = None,
        percentiles: Sequence[str] = (),
    ) -> list[PeriodStats]: ...
