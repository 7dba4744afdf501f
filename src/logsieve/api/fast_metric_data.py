"""PutMetricData's ``MetricDatum`` as a msgspec type, for the JSON shortcut (``fast_decode``).

``MetricDatum`` has optional members, nested lists, an enum and a timestamp, which the generic
flat-structure shortcut does not take. This hand-written type decodes it into plain dicts (as
the generic path would give them: members as sent, doubles as int or float, timestamps as
epoch numbers) while msgspec checks each member's type, length, range and enum. Anything it
does not take exactly -- a null, an ISO timestamp, an unknown unit, an integral float where an
integer belongs, a string whose Java length could differ from its length -- makes the decode
fail, and the generic path answers with AWS's wording.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypedDict

import msgspec

__all__ = ["ELEMENTS", "java_safe"]

Unit = Literal[
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
    "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
    "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second",
    "Terabits/Second", "Count/Second", "None",
]  # fmt: skip
Number = int | float


def _text(high: int) -> Any:
    return Annotated[str, msgspec.Meta(min_length=1, max_length=high)]


class Dimension(TypedDict):
    Name: _text(255)  # type: ignore[valid-type]
    Value: _text(1024)  # type: ignore[valid-type]


class StatisticSet(TypedDict):
    SampleCount: Number
    Sum: Number
    Minimum: Number
    Maximum: Number


class _Required(TypedDict):
    MetricName: _text(255)  # type: ignore[valid-type]


class MetricDatum(_Required, total=False):
    Dimensions: Annotated[list[Dimension], msgspec.Meta(max_length=30)]
    Timestamp: Number
    Value: Number
    StatisticValues: StatisticSet
    Values: list[Number]
    Counts: list[Number]
    Unit: Unit
    StorageResolution: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]


#: Element types by botocore shape name, taken by ``fast_decode.build_decoder``.
ELEMENTS: dict[str, Any] = {"MetricDatum": MetricDatum}

# A character outside the Basic Multilingual Plane (4-byte UTF-8, or a surrogate escape) is
# two UTF-16 units to Java and one character to msgspec's length checks.
_ASTRAL = re.compile(rb"[\xf0-\xf7]|\\u[dD][89abAB]")


def java_safe(body: bytes) -> bool:
    """Whether every string in ``body`` has as many characters as Java counts units."""
    if body.isascii() and b"\\u" not in body:
        return True  # the common case, decided by two C-level scans
    return _ASTRAL.search(body) is None
