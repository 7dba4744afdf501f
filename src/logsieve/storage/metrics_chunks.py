"""Observations packed into chunks: one blob per metric, hour and unit of one write.

``metrics_sqlite`` stores the raw observations of a write as one row per (metric, hour, unit)
rather than one row per observation: a PutMetricData of 1,000 datums on a few hundred metrics
costs a few hundred index entries instead of 1,000 rows in two indexes. A chunk is columnar:
the timestamps as little-endian int64s, then the SampleCounts, Sums, Minimums and Maximums as
float64s (SQLite's REAL, so values read back exactly as a REAL column would give them).

``aggregate`` answers ``MetricStore.buckets`` from chunks: per period (and unit) statistics,
and the raw (value, count) pairs percentiles need.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["HOUR", "WIDTH", "Accumulator", "chunked", "pack", "size", "unpack"]

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
        start, low, end, period = self.start, self.low, self.end, self.period
        stats, values, raw = self.stats, self.values, self.raw
        for ts, n, total, lo, hi in zip(*unpack(blob), strict=True):
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
