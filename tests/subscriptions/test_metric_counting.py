"""Metric filter counting on the real stores, crashed at each side of its commit: a window is
counted exactly once whether the crash comes before or after the transaction."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from logsieve.storage import MetricFilter
from logsieve.storage.factory import Stores, open_stores
from logsieve.storage.metrics import MetricStore, Observation
from logsieve.subscriptions.metric_counting import GroupCounter, MetricCounting

NS = ("NS", "Errors", ())


class Crash(Exception):
    pass


class CrashingStore:
    """The real metric store, made to fail just before or just after one ``put``."""

    def __init__(self, inner: MetricStore, when: str) -> None:
        self.inner, self.when = inner, when

    def put(self, observations: Iterable[Observation], progress: Mapping[str, int] | None = None):
        if self.when == "before":
            self.when = ""
            raise Crash
        self.inner.put(observations, progress)
        if self.when == "after":
            self.when = ""
            raise Crash

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Stores]:
    yield open_stores(tmp_path / "data")


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_crash_on_either_side_of_the_commit_counts_each_event_once(
    stores: Stores, when: str
) -> None:
    logs, metrics = stores.logs(), stores.metrics()
    group = logs.create_group("g", 0, None, "STANDARD")
    assert group is not None
    stream = logs.create_stream(group.id, "s", 0)
    assert stream is not None
    transformation = {"metricName": "Errors", "metricNamespace": "NS", "metricValue": "1"}
    logs.put_metric_filter(group.id, MetricFilter("g", "f", "ERROR", [transformation], 0))
    logs.append(group.id, stream.id, [60_000, 60_001, 60_002], ["ERROR", "ok", "ERROR"], 30, 5)
    reads = ThreadPoolExecutor(1)
    try:
        counter = GroupCounter(
            group.id, "g", MetricCounting(logs, CrashingStore(metrics, when), reads)
        )
        with pytest.raises(Crash):
            counter.count_window()
        # the process restarts: a fresh counter on the same files
        fresh = GroupCounter(group.id, "g", MetricCounting(logs, metrics, reads))
        fresh.count_window()
        fresh.count_window()
        (bucket,) = metrics.buckets(NS, 60, 120, 60)
        assert (bucket.count, bucket.total) == (2.0, 2.0)
    finally:
        reads.shutdown()
        metrics.close()
        logs.close()
