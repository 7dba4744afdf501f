"""SQLite's metric store folds writes into chunks and the minute roll-up behind the writers.

A put durably writes only its observations (one row per write in ``fresh``); the folder moves
them into per-metric chunks and the per-minute roll-up later. These tests hold the store to
exact reads at every point of that: before the fold, across a restart that finds writes not
yet folded, and while the folder runs beside readers and writers.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from logsieve.storage import metrics_sqlite
from logsieve.storage.metrics import Observation, dimension_key
from logsieve.storage.metrics_folder import Folder
from logsieve.storage.metrics_sqlite import SqliteMetricStore
from tests.waiting import wait_for

CPU = ("NS", "CPU", dimension_key({"host": "a"}))
OTHER = ("NS", "CPU", dimension_key({"host": "b"}))


def rows(path: Path, table: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def stats(store: SqliteMetricStore, metric: tuple, raw: bool = False) -> list[tuple]:
    found = store.buckets(metric, 0, 7200, 60, raw_values=raw)
    return [(b.start, b.unit, b.count, b.total, b.minimum, b.maximum, b.values) for b in found]


def observations() -> list[Observation]:
    return [
        Observation(metric, t, "Count" if t % 3 else "None", 1.0, float(t % 13), t % 13, t % 13)
        for t in range(0, 7200, 11)
        for metric in (CPU, OTHER)
    ] + [Observation(CPU, 61, "Count", 3.0, 30.0, 5.0, 15.0)]


def test_writes_not_yet_folded_read_exactly_and_fold_on_the_next_open(tmp_path: Path) -> None:
    path = tmp_path / "metrics.db"
    reference = SqliteMetricStore(tmp_path / "reference.db")
    reference.put(observations())
    reference.close()  # folded on close
    reference = SqliteMetricStore(tmp_path / "reference.db")
    assert rows(tmp_path / "reference.db", "fresh") == 0
    paused = SqliteMetricStore(path, fold_pause=None)  # a folder that never runs: a crash
    try:
        paused.put(observations()[:300])
        paused.put(observations()[300:])
        assert rows(path, "fresh") == 4 and rows(path, "minutes") == 0  # a row per write, unit
        for metric in (CPU, OTHER):
            for raw in (False, True):
                assert stats(paused, metric, raw) == stats(reference, metric, raw)
        assert paused.buckets(CPU, 0, 7205, 120) == reference.buckets(CPU, 0, 7205, 120)
        restarted = SqliteMetricStore(path)
        try:
            wait_for(lambda: rows(path, "fresh") == 0)
            assert rows(path, "minutes") > 0
            for metric in (CPU, OTHER):
                for raw in (False, True):
                    assert stats(restarted, metric, raw) == stats(reference, metric, raw)
        finally:
            restarted.close()
    finally:
        paused.close()
        reference.close()


def test_expire_counts_writes_not_yet_folded(tmp_path: Path) -> None:
    store = SqliteMetricStore(tmp_path / "metrics.db", fold_pause=None)
    try:
        store.put(observations())
        before = sum(1 for row in observations() if row.timestamp < 3620)
        assert store.expire(3620) == before
        assert [b.start for b in store.buckets(CPU, 3540, 3720, 60, per_unit=False)] == [3600, 3660]
        kept = sum(
            1 for row in observations() if row.metric == CPU and 3620 <= row.timestamp < 3660
        )
        assert store.buckets(CPU, 3600, 3660, 60, per_unit=False)[0].count == kept
    finally:
        store.close()


def test_readers_beside_the_folder_never_miss_or_double_count(tmp_path: Path) -> None:
    """Each put adds one observation to one minute; a read may see any put that has started
    but must see every put that returned before it began, and never count one twice."""
    store = SqliteMetricStore(tmp_path / "metrics.db", fold_pause=0.0)
    started = returned = 0
    stop = threading.Event()

    def putting() -> None:
        nonlocal started, returned
        while not stop.is_set() and returned < 400:
            started += 1
            store.put([Observation(CPU, 120 + returned % 60, "None", 1.0, 1.0, 1.0, 1.0)])
            returned += 1

    writer = threading.Thread(target=putting)
    writer.start()
    try:
        reads = 0
        while writer.is_alive():
            floor = returned
            for raw in (False, True):
                found = store.buckets(CPU, 0, 600, 60, raw_values=raw)
                count = found[0].count if found else 0
                assert floor <= count <= started
            reads += 1
        assert reads > 1
        assert store.buckets(CPU, 0, 600, 60)[0].count == 400
    finally:
        stop.set()
        writer.join()
        store.close()


def test_a_backlog_folds_in_bounded_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fold takes about a bounded number of observations (at least one write), so a large
    backlog is folded in several transactions, each leaving the store exact."""
    reference = SqliteMetricStore(tmp_path / "reference.db", fold_pause=None)
    store = SqliteMetricStore(tmp_path / "metrics.db", fold_pause=None)
    try:
        every = observations()
        for part in range(0, len(every), 200):
            store.put(every[part : part + 200])
            reference.put(every[part : part + 200])
        monkeypatch.setattr(metrics_sqlite, "_FOLD_BYTES", 200 * 48)
        backlog = rows(tmp_path / "metrics.db", "fresh")
        folds = 0
        while store._fold_some():
            folds += 1
            for metric in (CPU, OTHER):
                assert stats(store, metric, raw=True) == stats(reference, metric, raw=True)
        assert rows(tmp_path / "metrics.db", "fresh") == 0
        assert folds >= backlog // 2 - 1
        for metric in (CPU, OTHER):
            for raw in (False, True):
                assert stats(store, metric, raw) == stats(reference, metric, raw)
    finally:
        store.close()
        reference.close()


def test_the_folder_outlives_a_failing_fold(caplog: pytest.LogCaptureFixture) -> None:
    """A fold that fails (a full disk, say) is retried until it succeeds, logged once."""
    calls: list[int] = []

    def fold() -> bool:
        calls.append(1)
        if len(calls) <= 2:
            raise sqlite3.OperationalError("database or disk is full")
        return False

    folder = Folder("test", fold, pause=0.0)
    folder.start()
    try:
        wait_for(lambda: len(calls) >= 3 and folder.failures == 0)
    finally:
        folder.stop()
    failed = [r for r in caplog.records if "metric folding failed" in r.getMessage()]
    assert len(failed) == 1
    assert any("metric folding resumed after 2" in r.getMessage() for r in caplog.records)
