"""``MetricReader`` over the metric store: what alarm evaluation reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from logsieve.storage.metrics import MetricStore, dimension_key

from .reading import PeriodStats
from .statistics import parse_percentile, percentile

__all__ = ["StoreReader"]


class StoreReader:
    """Statistics per period straight from the store (periods aligned on ``start``)."""

    def __init__(self, store: MetricStore) -> None:
        self.store = store

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
        buckets = self.store.buckets(
            (namespace, metric_name, dimension_key(dimensions)),
            int(start),
            int(end) if end == int(end) else int(end) + 1,
            period,
            unit,
            per_unit=False,
            raw_values=bool(percentiles),
        )
        out = []
        for bucket in buckets:
            found = {}
            for name in percentiles:
                p = parse_percentile(name)
                value = None if p is None else percentile(bucket.values, p)
                if value is not None:
                    found[name] = value
            out.append(
                PeriodStats(
                    bucket.start,
                    bucket.count,
                    bucket.total,
                    bucket.minimum,
                    bucket.maximum,
                    unit,
                    found,
                )
            )
        return out
