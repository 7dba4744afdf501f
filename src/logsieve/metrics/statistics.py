"""Statistics over stored buckets: the five basic ones and percentiles (``pNN``).

Percentiles are exact nearest-rank values over the raw values of a period (each value counted
as often as it was published): the smallest value with at least ``p`` % of the samples at or
below it. CloudWatch does not publish its algorithm; on the same raw values its answers agree
with nearest rank to within one rank. A period that holds a statistic set which is not a
single repeated value, or any negative value, has no percentiles (as on AWS).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from logsieve.storage.metrics import Bucket

__all__ = ["BASIC", "basic", "parse_percentile", "percentile"]

BASIC = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
_PERCENTILE = re.compile(r"p(\d{1,3}(?:\.\d{1,10})?)\Z")


def parse_percentile(name: str) -> float | None:
    """The percentile ``pNN`` asks for (0-100), or None when ``name`` is not one."""
    found = _PERCENTILE.match(name)
    if found is None:
        return None
    value = float(found.group(1))
    return value if 0 <= value <= 100 else None


def percentile(values: Sequence[tuple[float, float]] | None, p: float) -> float | None:
    """Nearest-rank ``p`` over (value, count) pairs sorted by value; None if unavailable."""
    if not values:
        return None
    total = sum(count for _, count in values)
    if total <= 0:
        return None
    rank = max(math.ceil(p / 100 * total - 1e-9), 1)
    seen = 0.0
    for value, count in values:
        seen += count
        if seen >= rank:
            return value
    return values[-1][0]


def basic(bucket: Bucket, statistic: str) -> float:
    """One of ``BASIC`` for a bucket."""
    if statistic == "SampleCount":
        return bucket.count
    if statistic == "Sum":
        return bucket.total
    if statistic == "Minimum":
        return bucket.minimum
    if statistic == "Maximum":
        return bucket.maximum
    return bucket.total / bucket.count if bucket.count else 0.0
