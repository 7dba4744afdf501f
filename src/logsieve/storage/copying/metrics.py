"""Copy metric datapoints, metric by metric, as the store keeps them: read back per second and
unit, each raw value (a row whose Minimum equals its Maximum) as its own observation, and a
second whose rows percentiles cannot use (a statistic set, a negative value) as one statistic
set. SampleCount, Sum, Minimum and Maximum of every period are then the same on the target,
and so are the percentiles (periods that had none still have none).

Idempotent although observations add up: each chunk is stored with the metric's progress (the
last second copied, ``MetricStore.put``'s ``progress``, in the same transaction), and a re-run
starts after it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from ..metrics import Bucket, MetricKey, MetricStore, Observation
from .report import CopyReport, Say

__all__ = ["copy_metrics"]

CHUNK = 10_000  # observations per transaction
_END = 2**40


def _progress_key(source_name: str, metric: MetricKey) -> str:
    digest = hashlib.sha256(repr((source_name, metric)).encode()).hexdigest()[:24]
    return f"storage-copy/{digest}"


def _observations(metric: MetricKey, bucket: Bucket) -> Iterator[Observation]:
    """What reproduces ``bucket`` (one second, one unit) when stored."""
    unit = bucket.unit or "None"
    if bucket.values is None:
        yield Observation(
            metric, bucket.start, unit, bucket.count, bucket.total, bucket.minimum, bucket.maximum
        )
        return
    for value, count in bucket.values:
        yield Observation(metric, bucket.start, unit, count, value * count, value, value)


def copy_metrics(
    source: MetricStore, target: MetricStore, source_name: str, report: CopyReport, say: Say
) -> None:
    metrics = source.metrics()
    for metric in metrics:
        key = _progress_key(source_name, metric)
        done = target.progress(key)
        report.add("metrics", done is None)
        start = 0 if done is None else done + 1
        chunk: list[Observation] = []
        copied = 0
        for bucket in source.buckets(metric, start, _END, 1, raw_values=True):
            if len(chunk) >= CHUNK and chunk[-1].timestamp != bucket.start:
                target.put(chunk, {key: chunk[-1].timestamp})
                copied += len(chunk)
                chunk = []
            chunk.extend(_observations(metric, bucket))
        if chunk or done is None:
            target.put(chunk, {key: chunk[-1].timestamp if chunk else 0})
            copied += len(chunk)
        report.add("metric observations", True, copied)
    say(f"metrics: {report.copied.get('metrics', 0)} of {len(metrics)} copied")
