"""storage/copying/metrics.py into each engine: every period's SampleCount, Sum, Minimum,
Maximum and raw values (what percentiles come from) are the same after the copy, also for
statistic sets and negative values, and a re-run or a resumed run adds nothing twice."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from logsieve.storage.copying import CopyReport
from logsieve.storage.copying import metrics as copy_metrics
from logsieve.storage.factory import Stores, open_stores
from logsieve.storage.metrics import MetricStore, Observation

T0 = 1_700_000_040  # not on a minute boundary
LAT = ("App", "Latency", (("host", "a"),))
ERR = ("App", "Errors", ())


def _fill(store: MetricStore) -> None:
    store.put(
        [Observation(LAT, T0 + s, "Milliseconds", 1, v, v, v) for s in range(0, 600, 7)
         for v in (s % 13, s % 5, 2.5)]
        + [Observation(LAT, T0 + 61, "Milliseconds", 4, 40, 1, 20),  # a statistic set
           Observation(ERR, T0, "Count", 3, 3, 1, 1),
           Observation(ERR, T0 + 1, "Count", 1, -2, -2, -2),
           Observation(ERR, T0 + 120, "None", 1, 0.1, 0.1, 0.1)]
    )  # fmt: skip


def _view(store: MetricStore) -> dict[object, object]:
    return {
        (metric, period): [
            (b.start, b.unit, b.count, b.total, b.minimum, b.maximum,
             None if b.values is None else sorted(b.values))
            for b in store.buckets(metric, T0 - 40, T0 + 3600, period, raw_values=True)
        ]
        for metric in store.metrics() for period in (1, 60, 300)
    }  # fmt: skip


def _copy(source: MetricStore, target: MetricStore) -> CopyReport:
    report = CopyReport()
    copy_metrics.copy_metrics(source, target, "/data/old", report, lambda line: None)
    return report


def test_every_period_has_the_same_statistics_once(tmp_path: Path, stores: Stores) -> None:
    old, new = open_stores(tmp_path / "source", "sqlite").metrics(), stores.metrics()
    try:
        _fill(old)
        first, again = _copy(old, new), _copy(old, new)
        assert first.copied["metrics"] == 2
        assert (again.copied.get("metrics", 0), again.present["metrics"]) == (0, 2)
        assert again.copied["metric observations"] == 0
        assert _view(new) == _view(old)
    finally:
        old.close()
        new.close()


class _Stops(Exception):
    pass


class _StopsAfter:
    """A target whose ``puts``-th put fails (the copy interrupted there)."""

    def __init__(self, store: MetricStore, puts: int) -> None:
        self.store, self.left = store, puts

    def put(self, observations: Iterable[Observation], progress: Mapping[str, int] | None) -> None:
        self.left -= 1
        if not self.left:
            raise _Stops
        self.store.put(observations, progress)

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)


def test_a_resumed_copy_adds_nothing_twice(
    tmp_path: Path, stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(copy_metrics, "CHUNK", 20)
    old, new = open_stores(tmp_path / "source", "sqlite").metrics(), stores.metrics()
    try:
        _fill(old)
        with pytest.raises(_Stops):
            _copy(old, _StopsAfter(new, 4))  # type: ignore[arg-type]
        _copy(old, new)
        assert _view(new) == _view(old)
    finally:
        old.close()
        new.close()
