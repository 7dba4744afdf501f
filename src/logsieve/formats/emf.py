"""Embedded Metric Format: metrics carried in structured log events.

A log event whose message is a JSON object with ``_aws.CloudWatchMetrics`` publishes, for
each directive, each of its metrics once per dimension set, with the values at the root
member of the metric's name (a number, or an array of up to 100 numbers), at the time
``_aws.Timestamp`` (ms) gives. Dimension values are root members too (strings). An event
that breaks the specification publishes nothing, as CloudWatch drops invalid EMF (the event
itself is still stored). Specification:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import orjson

__all__ = ["MARKER", "EmfMetric", "parse"]

#: Every EMF event holds this; a message without it is skipped unparsed.
MARKER = '"_aws"'
MAX_VALUES = 100
MAX_DIMENSIONS = 30


@dataclass(frozen=True, slots=True)
class EmfMetric:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    unit: str
    resolution: int
    values: tuple[float, ...]
    timestamp_ms: int


def _numbers(value: object) -> tuple[float, ...] | None:
    items = value if isinstance(value, list) else [value]
    if not 0 < len(items) <= MAX_VALUES:
        return None
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            return None
        number = float(item)
        if not math.isfinite(number):
            return None
        out.append(number)
    return tuple(out)


def parse(message: str) -> list[EmfMetric] | None:
    """The metrics an EMF event publishes; None when it is not valid EMF."""
    if MARKER not in message:
        return None
    try:
        doc = orjson.loads(message)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(doc, dict):
        return None
    meta = doc.get("_aws")
    if not isinstance(meta, dict):
        return None
    timestamp = meta.get("Timestamp")
    directives = meta.get("CloudWatchMetrics")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        return None
    if not isinstance(directives, list):
        return None
    out: list[EmfMetric] = []
    for directive in directives:
        if not isinstance(directive, dict):
            return None
        namespace = directive.get("Namespace")
        sets = directive.get("Dimensions")
        metrics = directive.get("Metrics")
        if not isinstance(namespace, str) or not 0 < len(namespace) <= 255:
            return None
        if not isinstance(sets, list) or not isinstance(metrics, list):
            return None
        dimension_sets = []
        for names in sets or [[]]:
            if not isinstance(names, list) or len(names) > MAX_DIMENSIONS:
                return None
            pairs = []
            for name in names:
                value = doc.get(name) if isinstance(name, str) else None
                if not isinstance(value, str):
                    return None  # a dimension must resolve to a string member
                pairs.append((name, value))
            dimension_sets.append(tuple(sorted(pairs)))
        for metric in metrics:
            if not isinstance(metric, dict) or not isinstance(metric.get("Name"), str):
                return None
            values = _numbers(doc.get(metric["Name"]))
            if values is None:
                return None
            unit = metric.get("Unit") or "None"
            resolution = metric.get("StorageResolution", 60)
            if not isinstance(unit, str) or resolution not in (1, 60):
                return None
            for dims in dimension_sets:
                out.append(
                    EmfMetric(namespace, metric["Name"], dims, unit, resolution, values, timestamp)
                )
    return out
