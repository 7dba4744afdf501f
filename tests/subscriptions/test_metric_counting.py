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


FLOW = (
    "2 123456789012 eni-0a1b2c3d 10.0.0.5 203.0.113.9 443 {port} 6 10 840 1700000000 "
    "1700000060 {action} OK"
)
REJECTS = (
    "[version, account, eni, src, dst, sport, dport, proto, packets, bytes, start, end, "
    "action = REJECT, status]"
)


# Two ellipses: the run between them moves with the values, so counting aligns each event
# (the row-wise path) rather than reading columns of fields (``metrics.columns``).
REJECTS_ALIGNED = (
    "[version, account, eni, src, dst, sport, dport, ..., proto, ..., action = REJECT, status]"
)


@pytest.mark.parametrize(("pattern", "aligned_by_counting"), [(REJECTS_ALIGNED, 4), (REJECTS, 0)])
def test_counting_reads_the_events_a_subscription_parsed_and_keeps_none_itself(
    stores: Stores, monkeypatch: pytest.MonkeyPatch, pattern: str, aligned_by_counting: int
) -> None:
    """A metric filter and a subscription filter with one pattern align each event once;
    counting reuses the subscription's parsed events but adds none to the shared cache.
    A pattern with at most one ``...`` is counted a column at a time: no event aligned."""
    from logsieve.patterns import compile
    from logsieve.patterns.match_space import SpaceMatcher
    from logsieve.subscriptions.batching import match_events
    from logsieve.subscriptions.event_cache import EventCache

    logs, metrics = stores.logs(), stores.metrics()
    group = logs.create_group("g", 0, None, "STANDARD")
    assert group is not None
    stream = logs.create_stream(group.id, "s", 0)
    assert stream is not None
    transformation = {"metricName": "Rejects", "metricNamespace": "NS", "metricValue": "1",
                      "dimensions": {"Port": "$dport"}}  # fmt: skip
    logs.put_metric_filter(group.id, MetricFilter("g", "f", pattern, [transformation], 0))
    messages = [FLOW.format(port=22 + i % 2, action=("REJECT", "ACCEPT")[i % 3 == 0])
                for i in range(12)]  # fmt: skip
    logs.append(group.id, stream.id, [60_000 + i for i in range(12)], messages, 30, 5)
    cache = EventCache()
    subscribed = logs.read_after(0, 6, group.id)  # a subscription has read half of them
    assert sum(map(len, match_events(compile(pattern), subscribed, cache).values())) == 4
    aligned = []
    original = SpaceMatcher._align
    monkeypatch.setattr(
        SpaceMatcher, "_align", lambda self, fields: aligned.append(1) or original(self, fields)
    )
    reads = ThreadPoolExecutor(1)
    try:
        counting = MetricCounting(logs, metrics, reads, cache=cache)
        GroupCounter(group.id, "g", counting).count_window()
        # row-wise: aligned only the REJECT lines among the six no subscription had parsed
        # (the others fail the pattern's literal before any alignment)
        assert len(aligned) == aligned_by_counting
        assert len(cache._events) == 6
        port22 = ("NS", "Rejects", (("Port", "22"),))
        port23 = ("NS", "Rejects", (("Port", "23"),))
        assert [b.total for b in metrics.buckets(port22, 60, 120, 60)] == [4.0]
        assert [b.total for b in metrics.buckets(port23, 60, 120, 60)] == [4.0]
    finally:
        reads.shutdown()
        metrics.close()
        logs.close()
