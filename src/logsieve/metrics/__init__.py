"""CloudWatch metrics and alarms (service ``monitoring``): storage-backed statistics, metric
filters that count, Embedded Metric Format, and alarms evaluated as AWS does."""

from __future__ import annotations

from logsieve.errors import Operation
from logsieve.storage.metrics import MetricStore

from .reader import StoreReader
from .reading import MetricReader, PeriodStats
from .service import RETENTION_SECONDS, MetricsService

__all__ = [
    "RETENTION_SECONDS",
    "MetricReader",
    "MetricsService",
    "PeriodStats",
    "StoreReader",
    "build_cloudwatch",
]


def build_cloudwatch(store: MetricStore) -> dict[str, Operation]:
    """Every CloudWatch operation served, by name: one table for all three protocols."""
    metrics = MetricsService(store)
    return {**metrics.operations}
