"""Observations packed into chunks: one blob per metric, hour and unit of one write.

``metrics_sqlite`` stores the raw observations of a write as one row per (metric, hour, unit)
rather than one row per observation: a PutMetricData of 1,000 datums on a few hundred metrics
costs a few hundred index entries instead of 1,000 rows in two indexes. A chunk is columnar:
the timestamps as little-endian int64s, then the SampleCounts, Sums, Minimums and Maximums as
float64s (SQLite's REAL, so values read back exactly as a REAL column would give them).

A *fresh* chunk is what one write puts down before the store folds it (``metrics_sqlite``):
the observations of every metric of the write in one unit, a chunk with a leading column of
metric ids (int64), so a write costs one row whatever the number of metrics it touches.

``Accumulator`` answers ``MetricStore.buckets`` from chunks: per period (and unit) statistics,
and the raw (value, count) pairs percentiles need.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable, Sequence
from itertools import compress, repeat
from operator import eq, itemgetter
from typing import Any

import numpy as np

__all__ = [
    "HOUR",
    "WIDTH",
    "Accumulator",
    "chunked",
    "folded",
    "fresh",
    "pack",
    "size",
    "unpack",
    "unpack_fresh",
]

HOUR = 3600
WIDTH = 40  # bytes per observation: one int64 and four float64s
_SWAP = sys.byteorder != "little"


def pack(
    stamps: list[int],
    counts: list[float],
    totals: list[float],
    lows: list[float],
    highs: list[float],
) -> bytes:
    """One chunk of observations, given column by column."""
    ints = array("q", stamps)
    floats = array("d", counts)
    floats.extend(totals)
    floats.extend(lows)
    floats.extend(highs)
    if _SWAP:
        ints.byteswap()
        floats.byteswap()
    return ints.tobytes() + floats.tobytes()


def chunked(
    rows: Iterable[tuple[int, int, str, float, float, float, float]],
) -> list[tuple[int, int, str, bytes]]:
    """(metric id, hour, unit, chunk) rows for (metric id, ts, unit, n, total, lo, hi) rows."""
    columns: dict[tuple[int, int, str], tuple[list, list, list, list, list]] = {}
    for metric, ts, unit, n, total, lo, hi in rows:
        key = (metric, ts - ts % HOUR, unit)
        chunk = columns.get(key)
        if chunk is None:
            chunk = columns[key] = ([], [], [], [], [])
        chunk[0].append(ts)
        chunk[1].append(n)
        chunk[2].append(total)
        chunk[3].append(lo)
        chunk[4].append(hi)
    return [(*key, pack(*chunk)) for key, chunk in columns.items()]


def fresh(
    ids: Sequence[int],
    stamps: Sequence[int],
    units: Sequence[str],
    columns: tuple[Sequence[float], Sequence[float], Sequence[float], Sequence[float]],
) -> list[tuple[str, bytes]]:
    """(unit, fresh chunk) rows for a write, given column by column: one row per unit."""
    kinds = set(units)
    if len(kinds) == 1:
        return [(units[0], _pack_fresh(ids, stamps, *columns))]
    out = []
    for unit in sorted(kinds):
        pick = itemgetter(*compress(range(len(units)), map(eq, units, repeat(unit))))
        picked = [pick(column) for column in (ids, stamps, *columns)]
        picked = [column if type(column) is tuple else (column,) for column in picked]
        out.append((unit, _pack_fresh(*picked)))
    return out


def _pack_fresh(
    ids: Sequence[int],
    stamps: Sequence[int],
    counts: Sequence[float],
    totals: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
) -> bytes:
    head = array("q", ids)
    if _SWAP:
        head.byteswap()
    return head.tobytes() + pack(stamps, counts, totals, lows, highs)  # type: ignore[arg-type]


def unpack_fresh(
    blob: bytes,
) -> tuple[Sequence[int], Sequence[int], Sequence[float], Sequence[float], Sequence[float],
           Sequence[float]]:  # fmt: skip
    """The columns of a fresh chunk: metric ids, then those of ``unpack``."""
    k = len(blob) // (WIDTH + 8)
    ids = array("q")
    ids.frombytes(blob[: 8 * k])
    if _SWAP:
        ids.byteswap()
    return (ids, *unpack(blob[8 * k :]))


_Minute = tuple[int, int, str, float, float, float, float]


def folded(
    fresh: Iterable[tuple[str, bytes]],
) -> tuple[list[tuple[int, int, str, bytes]], list[_Minute]]:
    """Many writes' (unit, fresh chunk) rows as (metric id, hour, unit, chunk) rows and
    per-minute (metric id, minute, unit, SampleCount, Sum, Minimum, Maximum) statistics.

    The observations are put in (metric, timestamp) order once, so that each chunk and each
    minute is one run of them; numpy sorts, cuts and reduces the runs (in pure Python the same
    fold cost about 2 us per observation, as much as the rest of a PutMetricData request)."""
    by_unit: dict[str, list[bytes]] = {}
    for unit, blob in fresh:
        by_unit.setdefault(unit, []).append(blob)
    chunks: list[tuple[int, int, str, bytes]] = []
    minutes: list[_Minute] = []
    for unit, blobs in by_unit.items():
        ids, stamps, values = _columns(blobs)
        order = np.lexsort((stamps, ids))  # stable: equal timestamps keep their write order
        ids, stamps, values = ids[order], stamps[order], values[:, order]
        hours = stamps - stamps % HOUR
        starts = _starts(ids, hours)
        ends = [*starts[1:].tolist(), len(ids)]
        for a, b, metric, hour in zip(
            starts.tolist(), ends, ids[starts].tolist(), hours[starts].tolist(), strict=True
        ):
            chunk = stamps[a:b].astype("<i8").tobytes() + values[:, a:b].astype("<f8").tobytes()
            chunks.append((metric, hour, unit, chunk))
        firsts = _starts(ids, stamps - stamps % 60)
        minutes.extend(
            zip(
                ids[firsts].tolist(),
                (stamps[firsts] - stamps[firsts] % 60).tolist(),
                repeat(unit, len(firsts)),
                np.add.reduceat(values[0], firsts).tolist(),
                np.add.reduceat(values[1], firsts).tolist(),
                np.minimum.reduceat(values[2], firsts).tolist(),
                np.maximum.reduceat(values[3], firsts).tolist(),
                strict=True,
            )
        )
    return chunks, minutes


def _columns(blobs: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Metric ids, timestamps and the (4, n) SampleCount/Sum/Minimum/Maximum rows of fresh
    chunks, concatenated."""
    ids, stamps, values = [], [], []
    for blob in blobs:
        k = len(blob) // (WIDTH + 8)
        ids.append(np.frombuffer(blob, "<i8", k, 0))
        stamps.append(np.frombuffer(blob, "<i8", k, 8 * k))
        values.append(np.frombuffer(blob, "<f8", 4 * k, 16 * k).reshape(4, k))
    return np.concatenate(ids), np.concatenate(stamps), np.concatenate(values, axis=1)


def _starts(ids: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Where each run of equal (id, key) begins, in arrays sorted by id then key."""
    change = np.empty(len(ids), dtype=bool)
    change[0] = True
    np.not_equal(ids[1:], ids[:-1], out=change[1:])
    change[1:] |= keys[1:] != keys[:-1]
    return np.flatnonzero(change)


def size(blob: bytes) -> int:
    """How many observations a chunk holds."""
    return len(blob) // WIDTH


def unpack(
    blob: bytes,
) -> tuple[Sequence[int], Sequence[float], Sequence[float], Sequence[float], Sequence[float]]:
    """The columns of a chunk: timestamps, SampleCounts, Sums, Minimums, Maximums."""
    k = len(blob) // WIDTH
    ints, floats = array("q"), array("d")
    ints.frombytes(blob[: 8 * k])
    floats.frombytes(blob[8 * k :])
    if _SWAP:
        ints.byteswap()
        floats.byteswap()
    return ints, floats[:k], floats[k : 2 * k], floats[2 * k : 3 * k], floats[3 * k :]


def fold(
    stats: dict[Any, list[float]], key: Any, n: float, total: float, lo: float, hi: float
) -> None:
    """Add one statistic set (SampleCount, Sum, Minimum, Maximum) to ``stats[key]``: the one
    merge every roll-up and read uses, so all keep SampleCount/Sum/Min/Max exact alike."""
    held = stats.get(key)
    if held is None:
        stats[key] = [n, total, lo, hi]
        return
    held[0] += n
    held[1] += total
    if lo < held[2]:
        held[2] = lo
    if hi > held[3]:
        held[3] = hi


class Accumulator:
    """Statistics per (period index, unit) over observations in ``[start, end)``; the raw
    values too when ``raw`` (None for a period holding a statistic set or a negative value,
    which percentiles cannot use)."""

    def __init__(self, start: int, end: int, period: int, raw: bool) -> None:
        self.start, self.end, self.period, self.raw = start, end, period, raw
        self.low = start  # observations before this are not counted (see ``start_at``)
        self.stats: dict[tuple[int, str | None], list[float]] = {}
        self.values: dict[tuple[int, str | None], list[tuple[float, float]] | None] = {}

    def start_at(self, low: int) -> None:
        """Count chunk observations from ``low`` on (what is before came from the roll-up)."""
        self.low = low

    def add_chunk(self, unit: str | None, blob: bytes) -> None:
        self._add(unit, zip(*unpack(blob), strict=True), self.low)

    def add_fresh(self, unit: str | None, blob: bytes, metric: int) -> None:
        """Add ``metric``'s observations in a fresh chunk: all of ``[start, end)``, since
        neither the roll-up nor the chunks hold them yet."""
        ids, *columns = unpack_fresh(blob)
        mine = list(compress(range(len(ids)), map(eq, ids, repeat(metric))))
        if mine:
            pick = itemgetter(*mine)
            picked = [pick(column) for column in columns]
            if len(mine) == 1:
                picked = [(column,) for column in picked]
            self._add(unit, zip(*picked, strict=True), self.start)

    def _add(
        self, unit: str | None, rows: Iterable[tuple[int, float, float, float, float]], low: int
    ) -> None:
        start, end, period = self.start, self.end, self.period
        stats, values, raw = self.stats, self.values, self.raw
        for ts, n, total, lo, hi in rows:
            if ts < low or ts >= end:
                continue
            key = ((ts - start) // period, unit)
            fold(stats, key, n, total, lo, hi)
            if raw:
                kept = values.setdefault(key, [])
                if kept is None:
                    continue
                if lo != hi or lo < 0:
                    values[key] = None
                else:
                    kept.append((lo, n))

    def add_stats(self, rows: Iterable[tuple[int, str | None, float, float, float, float]]) -> None:
        """Merge already aggregated (period index, unit, n, total, lo, hi) rows."""
        for k, unit, n, total, lo, hi in rows:
            fold(self.stats, (k, unit), n, total, lo, hi)

    def results(
        self,
    ) -> list[tuple[int, str | None, list[float], list[tuple[float, float]] | None]]:
        """(period index, unit, [n, total, lo, hi], sorted raw values) in period, unit order."""
        out = []
        for key in sorted(self.stats, key=lambda key: (key[0], key[1] or "")):
            kept = self.values.get(key) if self.raw else None
            out.append(
                (key[0], key[1], self.stats[key], sorted(kept) if kept is not None else None)
            )
        return out
