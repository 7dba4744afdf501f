"""A ``metrics.db`` written by the one-row-per-observation version opens with its data."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

from logsieve.storage.metrics import dimension_key
from logsieve.storage.metrics_sqlite import SqliteMetricStore

OLD_SCHEMA = """
CREATE TABLE metrics (
    id INTEGER PRIMARY KEY, namespace TEXT NOT NULL, name TEXT NOT NULL, dims TEXT NOT NULL,
    UNIQUE (namespace, name, dims)
);
CREATE TABLE points (
    metric INTEGER NOT NULL, ts INTEGER NOT NULL, unit TEXT NOT NULL,
    n REAL NOT NULL, total REAL NOT NULL, lo REAL NOT NULL, hi REAL NOT NULL
);
CREATE INDEX points_by_metric ON points (metric, ts, unit, n, total, lo, hi);
CREATE INDEX points_by_time ON points (ts);
"""


def test_points_of_an_older_version_move_into_chunks(tmp_path: Path) -> None:
    path = tmp_path / "metrics.db"
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA)
    old.execute("""INSERT INTO metrics VALUES (1, 'NS', 'CPU', '[["host","a"]]')""")
    points = [(t, "Percent" if t % 2 else "None", t % 5, t % 5, t % 5) for t in range(0, 4000, 9)]
    old.executemany("INSERT INTO points VALUES (1, ?, ?, 1, ?, ?, ?)", points)
    old.commit()
    old.close()
    store = SqliteMetricStore(path)
    try:
        cpu = ("NS", "CPU", dimension_key({"host": "a"}))
        found = store.buckets(cpu, 0, 4000, 1000, raw_values=True)
        expected = Counter((t // 1000 * 1000, unit) for t, unit, *_ in points)
        assert [(b.start, b.unit, b.count) for b in found] == sorted(
            (*key, n) for key, n in expected.items()
        )
        assert [b.total for b in found] == [
            sum(v for t, u, v, *_ in points if (t // 1000 * 1000, u) == (b.start, b.unit))
            for b in found
        ]
        assert found[0].values == sorted(
            (float(v), 1.0) for t, u, v, *_ in points[:112] if u == "None"
        )
        assert store.expire(2000) == sum(1 for t, *_ in points if t < 2000)
    finally:
        store.close()
    tables = sqlite3.connect(path).execute("SELECT name FROM sqlite_master").fetchall()
    assert ("points",) not in tables and ("chunks",) in tables
