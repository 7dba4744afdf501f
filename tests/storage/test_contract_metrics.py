"""The ``MetricStore`` contract, for every engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from logsieve.storage.factory import Stores
from logsieve.storage.metrics import MetricStore, Observation, dimension_key

CPU = ("NS", "CPU", dimension_key({"host": "a"}))
OTHER = ("NS", "CPU", dimension_key({"host": "b"}))


@pytest.fixture
def store(stores: Stores) -> Iterator[MetricStore]:
    opened = stores.metrics()
    yield opened
    opened.close()


def value(metric: tuple, ts: int, v: float, unit: str = "None", count: float = 1) -> Observation:
    return Observation(metric, ts, unit, count, v * count, v, v)


def test_buckets_aggregate_exactly_per_period_and_unit(store: MetricStore) -> None:
    store.put([value(CPU, 100, 1), value(CPU, 119, 5, count=2), value(CPU, 160, 7),
               value(CPU, 130, 2, "Percent"), value(OTHER, 100, 99)])  # fmt: skip
    buckets = store.buckets(CPU, 100, 200, 60)
    assert [(b.start, b.unit, b.count, b.total, b.minimum, b.maximum) for b in buckets] == [
        (100, "None", 3, 11, 1, 5),
        (100, "Percent", 1, 2, 2, 2),
        (160, "None", 1, 7, 7, 7),
    ]
    pooled = store.buckets(CPU, 100, 200, 60, per_unit=False)
    assert [(b.start, b.unit, b.count) for b in pooled] == [(100, None, 4), (160, None, 1)]
    assert [b.count for b in store.buckets(CPU, 100, 200, 60, "Percent")] == [1]
    assert store.buckets(CPU, 100, 160, 60, raw_values=True)[0].values == [(1, 1), (5, 2)]


def test_statistic_sets_and_negative_values_have_no_raw_values(store: MetricStore) -> None:
    store.put([Observation(CPU, 0, "None", 2, 3, 1, 2), value(CPU, 60, -1), value(CPU, 60, 4)])
    assert [b.values for b in store.buckets(CPU, 0, 120, 60, raw_values=True)] == [None, None]


def test_metrics_are_listed_by_namespace_and_name(store: MetricStore) -> None:
    store.put([value(CPU, 0, 1), value(OTHER, 0, 1), value(("X", "Y", ()), 0, 1)])
    assert store.metrics("NS") == [CPU, OTHER]
    assert store.metrics(None, "Y") == [("X", "Y", ())]
    assert store.buckets(("NS", "CPU", ()), 0, 60, 60) == []


def test_progress_commits_with_the_observations(store: MetricStore) -> None:
    assert store.progress("filter/1") is None
    store.put([value(CPU, 0, 1)], {"filter/1": 42})
    assert store.progress("filter/1") == 42


def test_expire_drops_old_observations(store: MetricStore) -> None:
    store.put([value(CPU, 0, 1), value(CPU, 100, 1)])
    assert store.expire(50) == 1
    assert [b.start for b in store.buckets(CPU, 0, 200, 60)] == [60]


def test_minute_reads_agree_with_raw_reads(store: MetricStore) -> None:
    store.put(
        [value(CPU, t, float(t % 7), "Count" if t % 2 else "None") for t in range(0, 600, 13)]
    )
    store.put([Observation(CPU, 61, "Count", 3, 30, 5, 15)])
    for period in (60, 120, 300):
        rolled = store.buckets(CPU, 0, 600, period)  # minute-aligned: the roll-up
        raw = store.buckets(CPU, 0, 600, period, raw_values=True)
        assert [(b.start, b.unit, b.count, b.total, b.minimum, b.maximum) for b in rolled] == [
            (b.start, b.unit, b.count, b.total, b.minimum, b.maximum) for b in raw
        ]
        assert rolled


def test_an_unaligned_end_reads_its_last_minute_raw(store: MetricStore) -> None:
    """Whole minutes come from the roll-up, the minute the end falls in from the raw data:
    together they answer exactly what the raw data alone answers."""
    store.put(
        [value(CPU, t, float(t % 11), "Count" if t % 3 else "None") for t in range(0, 7300, 7)]
    )
    for end in (7205, 7199, 3601, 130):
        for per_unit in (True, False):
            fast = store.buckets(CPU, 0, end, 120, per_unit=per_unit)
            raw = store.buckets(CPU, 0, end, 120, per_unit=per_unit, raw_values=True)
            assert fast and [
                (b.start, b.unit, b.count, b.total, b.minimum, b.maximum) for b in fast
            ] == [(b.start, b.unit, b.count, b.total, b.minimum, b.maximum) for b in raw]
    assert [b.count for b in store.buckets(CPU, 7140, 7145, 60)] == [1]  # 7140 only


def test_expire_inside_a_minute_keeps_its_newer_observations(store: MetricStore) -> None:
    store.put([value(CPU, t, 1.0) for t in range(3590, 3700, 5)])
    store.put([value(OTHER, 3600, 2.0)])
    assert store.expire(3620) == 7  # CPU 3590 ... 3615 and OTHER 3600
    for raw in (False, True):
        found = store.buckets(CPU, 3540, 3720, 60, raw_values=raw)
        assert [(b.start, b.count) for b in found] == [(3600, 8), (3660, 8)]
    assert [(b.start, b.count) for b in store.buckets(OTHER, 3600, 3660, 60)] == []
    assert store.expire(3620) == 0


def test_a_read_right_after_a_put_sees_it_and_so_does_a_reopened_store(
    stores: Stores, store: MetricStore
) -> None:
    """Read-your-writes: whatever a store does with a write behind the caller (SQLite folds it
    into its roll-up later), every read from the moment ``put`` returns is exact, and so is
    every read after a restart."""
    expected: list[tuple[int, str, float, float, float, float]] = []
    for round_ in range(3):
        store.put([value(CPU, t, float(t % 5 + round_)) for t in range(0, 300, 7)])
        minute = [value(CPU, t, float(t % 5 + round_)) for t in range(0, 300, 7)]
        expected = _fold_minutes(expected, minute)
        for raw in (False, True):
            found = store.buckets(CPU, 0, 300, 60, raw_values=raw)
            assert [(b.start, b.unit, b.count, b.total, b.minimum, b.maximum) for b in found] == (
                expected
            )
    store.close()
    again = stores.metrics()
    try:
        for raw in (False, True):
            found = again.buckets(CPU, 0, 300, 60, raw_values=raw)
            assert [(b.start, b.unit, b.count, b.total, b.minimum, b.maximum) for b in found] == (
                expected
            )
    finally:
        again.close()


def _fold_minutes(
    held: list[tuple[int, str, float, float, float, float]], rows: list[Observation]
) -> list[tuple[int, str, float, float, float, float]]:
    """The per-minute statistics of ``held`` plus ``rows``, computed here independently."""
    stats = {(start, unit): [n, total, lo, hi] for start, unit, n, total, lo, hi in held}
    for row in rows:
        key = (row.timestamp - row.timestamp % 60, row.unit)
        n, total, lo, hi = stats.get(key, [0.0, 0.0, float("inf"), float("-inf")])
        stats[key] = [n + row.count, total + row.total, min(lo, row.minimum), max(hi, row.maximum)]
    return [(*key, *stats[key]) for key in sorted(stats)]  # type: ignore[misc]
