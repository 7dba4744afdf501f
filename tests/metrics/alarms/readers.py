"""A ``MetricReader`` filled by a test: the seam's contract, not a mock of the metric store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from logsieve.metrics.reading import PeriodStats


class FilledReader:
    """Datapoints by period start for one metric; every query answers from them."""

    def __init__(self) -> None:
        self.points: dict[float, PeriodStats] = {}
        self.asked: list[tuple[str, str, dict[str, str], float, float, int]] = []

    def put(
        self, start: float, *values: float, percentiles: Mapping[str, float] | None = None
    ) -> None:
        self.points[start] = PeriodStats(
            start, len(values), sum(values), min(values), max(values), None, percentiles or {}
        )

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
    ) -> list[PeriodStats]:
        self.asked.append((namespace, metric_name, dict(dimensions), start, end, period))
        return [p for s, p in sorted(self.points.items()) if start <= s < end]
