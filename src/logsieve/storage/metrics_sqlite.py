"""``MetricStore`` on its own SQLite file (``metrics.db`` in the data directory).

A write puts its observations down as *fresh* rows (``metrics_chunks.fresh``: one row per unit
of the write, whatever the number of metrics) and returns once they are durable; a background
folder (``metrics_folder``) later moves many writes' fresh rows at once, in one transaction,
into the two shapes reads use: chunks, one row per metric, hour and unit holding the raw
observations column by column, indexed by metric and hour; and a per-minute roll-up
(SampleCount, Sum, Minimum, Maximum per metric, minute and unit) that answers reads whose
periods are whole minutes from a minute boundary from 60 times fewer rows. Folding behind the
writers pays the roll-up's upserts and the chunk index entries once per fold rather than once
per request. Every read is one snapshot (a read transaction) of the roll-up, the chunks and the
fresh rows not yet folded, which it adds: reads are exact and see every write that returned,
before the fold, during it and after a restart (the next open folds what is left). Metric ids
are cached in memory once committed.

Writes are group-committed: puts that arrive while a transaction is being written wait for it,
and the next writer commits all of them in one transaction (one fsync for many concurrent
PutMetricData requests), each put returning only once its rows are durable.

A ``points`` table left by an older version (one row per observation) is moved into chunks
when the file is opened.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

import orjson

from . import metrics_chunks as chunks
from .checkpoint import Checkpointer
from .database import Connections
from .metrics import Bucket, MetricKey, Observation
from .metrics_folder import Folder

__all__ = ["SqliteMetricStore"]

log = logging.getLogger("logsieve.storage")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS metrics (
    id INTEGER PRIMARY KEY, namespace TEXT NOT NULL, name TEXT NOT NULL, dims TEXT NOT NULL,
    UNIQUE (namespace, name, dims)
);
CREATE TABLE IF NOT EXISTS chunks (
    metric INTEGER NOT NULL, hour INTEGER NOT NULL, unit TEXT NOT NULL, data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_metric ON chunks (metric, hour);
CREATE TABLE IF NOT EXISTS minutes (
    metric INTEGER NOT NULL, minute INTEGER NOT NULL, unit TEXT NOT NULL,
    n REAL NOT NULL, total REAL NOT NULL, lo REAL NOT NULL, hi REAL NOT NULL,
    PRIMARY KEY (metric, minute, unit)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fresh (id INTEGER PRIMARY KEY, unit TEXT NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS progress (key TEXT PRIMARY KEY, position INTEGER NOT NULL)
    WITHOUT ROWID;
"""

_WRITER_CACHE_MB = 32  # the minute roll-up and the chunk index of recent hours stay in memory
_WAL_KEEP_BYTES = 64 * 1024 * 1024  # journal_size_limit: the WAL file shrinks back to this
FOLD_PAUSE_S = 0.25  # writes gather this long before a fold; reads scan at most this much tail
_FOLD_ROWS = 256  # fresh rows per fold transaction, at most
_FOLD_BYTES = 200_000 * (chunks.WIDTH + 8)  # and about 200,000 observations (memory bound)


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

    def __init__(self, path: Path, *, fold_pause: float | None = FOLD_PAUSE_S) -> None:
        """``fold_pause`` None: no folding at all (tests: what a crash before a fold leaves)."""
        self._db = Connections(Path(path), schema=_SCHEMA, writer_cache_mb=_WRITER_CACHE_MB)
        self._ids: dict[MetricKey, int] = {}
        self._ids_lock = threading.Lock()
        self._pending: list[_Put] = []
        self._pending_lock = threading.Lock()
        self._commit_lock = threading.Lock()
        self._move_points()
        # Checkpoints done inside a commit would stall PutMetricData: a background thread
        # does them (PASSIVE: never blocks a writer), as for the log store.
        self._db.writer.execute("PRAGMA wal_autocheckpoint=0")
        self._db.writer.execute(f"PRAGMA journal_size_limit={_WAL_KEEP_BYTES}")
        self._checkpointer = Checkpointer(Path(path), self._db.write_lock, self._db.space)
        self._checkpointer.start()
        self._folder: Folder | None = None
        if fold_pause is not None:
            self._folder = Folder(Path(path).stem, self._fold_some, fold_pause)
            self._folder.start()
        self._closed = False

    def _move_points(self) -> None:
        """Move an older version's one-row-per-observation ``points`` into chunks (one
        transaction: a crash leaves the old table for the next start)."""
        with self._db.write() as conn:
            if conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'points'"
            ).fetchone():
                conn.executemany(
                    "INSERT INTO chunks (metric, hour, unit, data) VALUES (?, ?, ?, ?)",
                    chunks.chunked(
                        conn.execute(
                            "SELECT metric, ts, unit, n, total, lo, hi FROM points "
                            "ORDER BY metric, ts"
                        )
                    ),
                )
                conn.execute("DROP TABLE points")

    def close(self) -> None:
        """Fold what is left (so the next open starts with nothing to fold), then close."""
        if self._closed:
            return
        self._closed = True
        if self._folder is not None:
            self._folder.stop()
            try:
                while self._fold_some():
                    pass
            except (sqlite3.Error, OSError) as error:  # DiskFull too: the next open folds
                log.warning("metric fold at close failed: %s; the next open folds", error)
        self._checkpointer.stop()
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
        """One transaction: the rows as fresh chunks, and the progress."""
        created: dict[MetricKey, int] = {}
        with self._db.write() as conn:
            if rows:
                metrics, stamps, units, *columns = zip(*rows, strict=True)
                ids = {}
                for metric in set(metrics):
                    known = self._ids.get(metric)
                    if known is None:
                        known = created[metric] = self._metric_id(conn, metric)
                    ids[metric] = known
                conn.executemany(
                    "INSERT INTO fresh (unit, data) VALUES (?, ?)",
                    chunks.fresh(
                        list(map(ids.__getitem__, metrics)), stamps, units, tuple(columns)
                    ),
                )
            if progress:
                conn.executemany(
                    "INSERT OR REPLACE INTO progress (key, position) VALUES (?, ?)",
                    list(progress.items()),
                )
        if created:
            with self._ids_lock:
                self._ids.update(created)
        if rows and self._folder is not None:
            self._folder.poke()

    def _fold_some(self) -> bool:
        """Fold a batch of fresh rows in one transaction; whether more are left."""
        with self._db.write() as conn:
            return _fold(conn, _FOLD_ROWS)

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
        """Whole hours before ``before`` go by the index, metric by metric; the chunks of the
        hour ``before`` falls in are rewritten without their older observations, and the
        roll-up of the minute it falls in is recomputed from what is left."""
        gone = 0
        with self._db.write() as conn:
            while _fold(conn, _FOLD_ROWS):
                pass
            conn.execute("DELETE FROM minutes WHERE minute < ?", (before - before % 60,))
            for (metric_id,) in conn.execute("SELECT id FROM metrics").fetchall():
                gone += _expire_metric(conn, metric_id, before)
        return gone

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
        accumulator = chunks.Accumulator(start, end, period, raw_values)
        conn = self._db.read()
        conn.execute("BEGIN")  # one snapshot: a fold commits between no two of these reads
        try:
            self._read(conn, accumulator, metric_id, unit, per_unit=per_unit)
        finally:
            conn.execute("COMMIT")
        return [
            Bucket(start + k * period, u, n, t, lo, hi, values)
            for k, u, (n, t, lo, hi), values in accumulator.results()
        ]

    @staticmethod
    def _read(
        conn: sqlite3.Connection,
        accumulator: chunks.Accumulator,
        metric_id: int,
        unit: str | None,
        *,
        per_unit: bool,
    ) -> None:
        """Folded minutes, then chunks, then the fresh rows not yet folded."""
        start, end, period = accumulator.start, accumulator.end, accumulator.period
        raw_values = accumulator.raw
        unit_filter = "" if unit is None else " AND unit = ?"
        unit_args: list[object] = [] if unit is None else [unit]
        raw_from = start
        if not raw_values and not (start % 60 or period % 60):
            raw_from = end - end % 60  # whole minutes from the roll-up, the rest from chunks
            unit_column = "unit" if per_unit else "NULL"
            group = f"(minute - {int(start)}) / {int(period)}"
            accumulator.add_stats(
                conn.execute(
                    f"SELECT {group}, {unit_column}, SUM(n), SUM(total), MIN(lo), MAX(hi) "
                    f"FROM minutes WHERE metric = ? AND minute >= ? AND minute < ?{unit_filter} "
                    f"GROUP BY {group}, {unit_column}",
                    [metric_id, start, raw_from, *unit_args],
                )
            )
        if raw_from < end:
            accumulator.start_at(raw_from)
            for chunk_unit, blob in conn.execute(
                f"SELECT unit, data FROM chunks WHERE metric = ? AND hour >= ? AND hour < ?"
                f"{unit_filter}",
                [metric_id, raw_from - raw_from % chunks.HOUR, end, *unit_args],
            ):
                accumulator.add_chunk(chunk_unit if per_unit else None, blob)
        for fresh_unit, blob in conn.execute(
            f"SELECT unit, data FROM fresh WHERE 1{unit_filter}", unit_args
        ).fetchall():
            accumulator.add_fresh(fresh_unit if per_unit else None, blob, metric_id)


def _fold(conn: sqlite3.Connection, limit: int) -> bool:
    """Move up to ``limit`` fresh rows (oldest first, about ``_FOLD_BYTES`` of them) into
    chunks and the minute roll-up, inside ``conn``'s transaction; whether any are left."""
    sizes = conn.execute(
        "SELECT id, length(data) FROM fresh ORDER BY id LIMIT ?", (limit,)
    ).fetchall()
    if not sizes:
        return False
    taken, last = 0, sizes[0][0]
    for row_id, length in sizes:  # at least one row, then as many as fit in the bound
        if taken and taken + length > _FOLD_BYTES:
            break
        taken, last = taken + length, row_id
    fresh = conn.execute(
        "SELECT id, unit, data FROM fresh WHERE id <= ? ORDER BY id", (last,)
    ).fetchall()
    chunk_rows, minute_rows = chunks.folded((unit, blob) for _, unit, blob in fresh)
    conn.executemany(
        "INSERT INTO chunks (metric, hour, unit, data) VALUES (?, ?, ?, ?)", chunk_rows
    )
    conn.executemany(
        "INSERT INTO minutes (metric, minute, unit, n, total, lo, hi) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (metric, minute, unit) DO UPDATE SET "
        "n = n + excluded.n, total = total + excluded.total, "
        "lo = min(lo, excluded.lo), hi = max(hi, excluded.hi)",
        minute_rows,
    )
    conn.execute("DELETE FROM fresh WHERE id <= ?", (fresh[-1][0],))
    return len(fresh) < len(sizes) or len(sizes) == limit


def _expire_metric(conn: sqlite3.Connection, metric_id: int, before: int) -> int:
    """Drop one metric's observations older than ``before``; how many went."""
    hour = before - before % chunks.HOUR
    where = "metric = ? AND hour < ?"
    (size,) = conn.execute(
        f"SELECT TOTAL(length(data)) FROM chunks WHERE {where}", (metric_id, hour)
    ).fetchone()
    gone = int(size) // chunks.WIDTH
    conn.execute(f"DELETE FROM chunks WHERE {where}", (metric_id, hour))
    if before == hour:
        return gone
    minute = before - before % 60
    left = chunks.Accumulator(minute, minute + 60, 60, raw=False)
    for rowid, unit, blob in conn.execute(
        "SELECT rowid, unit, data FROM chunks WHERE metric = ? AND hour = ?", (metric_id, hour)
    ).fetchall():
        kept = [c for c in zip(*chunks.unpack(blob), strict=True) if c[0] >= before]
        gone += chunks.size(blob) - len(kept)
        if not kept:
            conn.execute("DELETE FROM chunks WHERE rowid = ?", (rowid,))
            continue
        packed = chunks.pack(*(list(column) for column in zip(*kept, strict=True)))
        if len(kept) < chunks.size(blob):
            conn.execute("UPDATE chunks SET data = ? WHERE rowid = ?", (packed, rowid))
        left.add_chunk(unit, packed)
    conn.execute("DELETE FROM minutes WHERE metric = ? AND minute = ?", (metric_id, minute))
    conn.executemany(
        "INSERT INTO minutes (metric, minute, unit, n, total, lo, hi) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(metric_id, minute, unit, *stats) for _, unit, stats, _ in left.results()],
    )
    return gone
