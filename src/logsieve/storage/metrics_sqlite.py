"""``MetricStore`` on its own SQLite file (``metrics.db`` in the data directory).

One row per observation set (see ``metrics.py``), indexed by metric and time with every
column in the index, so a read of one metric over a range is one index range scan that SQLite
aggregates without touching the table. Beside them, a per-minute roll-up (SampleCount, Sum,
Minimum, Maximum per metric, minute and unit) kept in the same transaction answers reads
whose periods are whole minutes on minute boundaries without raw values (dashboards, alarms
at 60 s and above) from 60 times fewer rows. Metric ids are cached in memory once committed.

Writes are group-committed: puts that arrive while a transaction is being written wait for it,
and the next writer commits all of them in one transaction (one fsync for many concurrent
PutMetricData requests), each put returning only once its rows are durable.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

import orjson

from .database import Connections
from .metrics import Bucket, MetricKey, Observation

__all__ = ["SqliteMetricStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS metrics (
    id INTEGER PRIMARY KEY, namespace TEXT NOT NULL, name TEXT NOT NULL, dims TEXT NOT NULL,
    UNIQUE (namespace, name, dims)
);
CREATE TABLE IF NOT EXISTS points (
    metric INTEGER NOT NULL, ts INTEGER NOT NULL, unit TEXT NOT NULL,
    n REAL NOT NULL, total REAL NOT NULL, lo REAL NOT NULL, hi REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS points_by_metric ON points (metric, ts, unit, n, total, lo, hi);
CREATE INDEX IF NOT EXISTS points_by_time ON points (ts);
CREATE TABLE IF NOT EXISTS minutes (
    metric INTEGER NOT NULL, minute INTEGER NOT NULL, unit TEXT NOT NULL,
    n REAL NOT NULL, total REAL NOT NULL, lo REAL NOT NULL, hi REAL NOT NULL,
    PRIMARY KEY (metric, minute, unit)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS progress (key TEXT PRIMARY KEY, position INTEGER NOT NULL)
    WITHOUT ROWID;
"""


def _dims_text(metric: MetricKey) -> str:
    return orjson.dumps(metric[2]).decode()


class _Put:
    """One caller's put, waiting to be committed with whatever else is pending."""

    __slots__ = ("done", "error", "progress", "rows")

    def __init__(self, rows: list[Observation], progress: Mapping[str, int] | None) -> None:
        self.rows = rows
        self.progress = progress
        self.done = False
        self.error: BaseException | None = None


class SqliteMetricStore:
    """Thread-safe: one writer behind a lock, one reader connection per thread."""

    def __init__(self, path: Path) -> None:
        self._db = Connections(Path(path), schema=_SCHEMA)
        self._ids: dict[MetricKey, int] = {}
        self._ids_lock = threading.Lock()
        self._pending: list[_Put] = []
        self._pending_lock = threading.Lock()
        self._commit_lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    # -- writing -------------------------------------------------------------------------

    def put(
        self, observations: Iterable[Observation], progress: Mapping[str, int] | None = None
    ) -> None:
        job = _Put(list(observations), progress)
        with self._pending_lock:
            self._pending.append(job)
        while not job.done:
            with self._commit_lock:
                if job.done:
                    break  # a writer before us committed it
                with self._pending_lock:
                    batch, self._pending = self._pending, []
                try:
                    rows = [row for put in batch for row in put.rows]
                    merged = {k: v for put in batch for k, v in (put.progress or {}).items()}
                    self._write(rows, merged)
                except BaseException as error:
                    for put in batch:
                        put.error = error
                finally:
                    for put in batch:
                        put.done = True
        if job.error is not None:
            raise job.error

    def _write(self, rows: list[Observation], progress: Mapping[str, int]) -> None:
        """One transaction: the rows, their minute roll-up and the progress positions."""
        created: dict[MetricKey, int] = {}
        with self._db.write() as conn:
            ids = {}
            for metric in {row.metric for row in rows}:
                known = self._ids.get(metric)
                if known is None:
                    known = created[metric] = self._metric_id(conn, metric)
                ids[metric] = known
            conn.executemany(
                "INSERT INTO points (metric, ts, unit, n, total, lo, hi) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (ids[r.metric], r.timestamp, r.unit, r.count, r.total, r.minimum, r.maximum)
                    for r in rows
                ],
            )
            minutes: dict[tuple[int, int, str], list[float]] = {}
            for r in rows:
                key = (ids[r.metric], r.timestamp // 60 * 60, r.unit)
                held = minutes.get(key)
                if held is None:
                    minutes[key] = [r.count, r.total, r.minimum, r.maximum]
                else:
                    held[0] += r.count
                    held[1] += r.total
                    held[2] = min(held[2], r.minimum)
                    held[3] = max(held[3], r.maximum)
            conn.executemany(
                "INSERT INTO minutes (metric, minute, unit, n, total, lo, hi) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (metric, minute, unit) DO UPDATE SET "
                "n = n + excluded.n, total = total + excluded.total, "
                "lo = min(lo, excluded.lo), hi = max(hi, excluded.hi)",
                [(*key, *values) for key, values in minutes.items()],
            )
            if progress:
                conn.executemany(
                    "INSERT OR REPLACE INTO progress (key, position) VALUES (?, ?)",
                    list(progress.items()),
                )
        if created:
            with self._ids_lock:
                self._ids.update(created)

    @staticmethod
    def _metric_id(conn: object, metric: MetricKey) -> int:
        dims = _dims_text(metric)
        conn.execute(  # type: ignore[attr-defined]
            "INSERT OR IGNORE INTO metrics (namespace, name, dims) VALUES (?, ?, ?)",
            (metric[0], metric[1], dims),
        )
        row = conn.execute(  # type: ignore[attr-defined]
            "SELECT id FROM metrics WHERE namespace = ? AND name = ? AND dims = ?",
            (metric[0], metric[1], dims),
        ).fetchone()
        return int(row[0])

    def progress(self, key: str) -> int | None:
        row = (
            self._db.read()
            .execute("SELECT position FROM progress WHERE key = ?", (key,))
            .fetchone()
        )
        return None if row is None else int(row[0])

    def expire(self, before: int) -> int:
        with self._db.write() as conn:
            conn.execute("DELETE FROM minutes WHERE minute < ?", (before // 60 * 60,))
            return conn.execute("DELETE FROM points WHERE ts < ?", (before,)).rowcount

    # -- reading -------------------------------------------------------------------------

    def metrics(self, namespace: str | None = None, name: str | None = None) -> list[MetricKey]:
        sql = "SELECT namespace, name, dims FROM metrics"
        where, args = [], []
        if namespace is not None:
            where.append("namespace = ?")
            args.append(namespace)
        if name is not None:
            where.append("name = ?")
            args.append(name)
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._db.read().execute(sql, args).fetchall()
        out = [(ns, nm, tuple(tuple(pair) for pair in orjson.loads(dims))) for ns, nm, dims in rows]
        out.sort()
        return out  # type: ignore[return-value]

    def _lookup(self, metric: MetricKey) -> int | None:
        known = self._ids.get(metric)
        if known is not None:
            return known
        row = (
            self._db.read()
            .execute(
                "SELECT id FROM metrics WHERE namespace = ? AND name = ? AND dims = ?",
                (metric[0], metric[1], _dims_text(metric)),
            )
            .fetchone()
        )
        return None if row is None else int(row[0])

    def buckets(
        self,
        metric: MetricKey,
        start: int,
        end: int,
        period: int,
        unit: str | None = None,
        *,
        per_unit: bool = True,
        raw_values: bool = False,
    ) -> list[Bucket]:
        metric_id = self._lookup(metric)
        if metric_id is None or end <= start:
            return []
        rolled = not raw_values and not (start % 60 or end % 60 or period % 60)
        table, ts = ("minutes", "minute") if rolled else ("points", "ts")
        where = f"metric = ? AND {ts} >= ? AND {ts} < ?"
        args: list[object] = [metric_id, start, end]
        if unit is not None:
            where += " AND unit = ?"
            args.append(unit)
        slot = f"({ts} - {int(start)}) / {int(period)}"
        unit_column = "unit" if per_unit else "NULL"
        group = f"{slot}, unit" if per_unit else slot
        conn = self._db.read()
        rows = conn.execute(
            f"SELECT {slot}, {unit_column}, SUM(n), SUM(total), MIN(lo), MAX(hi) FROM {table} "
            f"WHERE {where} GROUP BY {group} ORDER BY {group}",
            args,
        ).fetchall()
        if not raw_values:
            return [Bucket(start + k * period, u, n, t, lo, hi) for k, u, n, t, lo, hi in rows]
        values: dict[tuple[int, str | None], list[tuple[float, float]] | None] = {}
        for k, u, n, lo, hi in conn.execute(
            f"SELECT {slot}, {unit_column}, n, lo, hi FROM points WHERE {where} "
            f"ORDER BY {group}, lo",
            args,
        ):
            key = (k, u)
            held = values.setdefault(key, [])
            if held is None:
                continue
            if lo != hi or lo < 0:
                values[key] = None  # a statistic set or a negative value: no percentiles
            else:
                held.append((lo, n))
        return [
            Bucket(start + k * period, u, n, t, lo, hi, values.get((k, u)))
            for k, u, n, t, lo, hi in rows
        ]
