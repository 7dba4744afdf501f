"""Template helpers: times in a zone, durations, byte sizes, protocol names, "ago"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from logsieve.alerts import helpers

MS = 1_741_615_200_000  # 2025-03-10T14:00:00Z


@pytest.mark.parametrize(
    ("value", "tz", "expected"),
    [
        (MS, None, "2025-03-10 14:00:00 UTC"),
        (MS, "Asia/Tokyo", "2025-03-10 23:00:00 JST"),
        (MS // 1000, "Asia/Tokyo", "2025-03-10 23:00:00 JST"),  # seconds (flow start)
        (str(MS // 1000), "UTC", "2025-03-10 14:00:00 UTC"),
        ("2025-03-10T02:14:09Z", "Europe/Paris", "2025-03-10 03:14:09 CET"),  # CloudTrail
        ("2025-03-10 08:00:18", "America/New_York", "2025-03-10 04:00:18 EDT"),  # Client VPN
        (datetime(2025, 3, 10, 14, tzinfo=UTC), "UTC", "2025-03-10 14:00:00 UTC"),
        (None, "UTC", "-"),
        ("NA", "UTC", "-"),
        ("not a time", "UTC", "-"),
    ],
)
def test_format_time(value: Any, tz: str | None, expected: str) -> None:
    assert helpers.format_time(value, tz) == expected


def test_format_time_with_a_format() -> None:
    assert helpers.format_time(MS, "Asia/Tokyo", "%H:%M") == "23:00"


def test_unknown_zone() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        helpers.format_time(MS, "Nowhere/Land")


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0 s"),
        (45, "45 s"),
        (60, "1 min"),
        (125, "2 min 5 s"),
        (7500, "2 h 5 min"),
        (7200, "2 h"),
        (90_061, "1 d 1 h"),
        (86_400 * 3 + 60, "3 d"),
        (-125, "-2 min 5 s"),
        ("318", "5 min 18 s"),
        (None, "-"),
        ("NA", "-"),
    ],
)
def test_format_duration(seconds: Any, expected: str) -> None:
    assert helpers.format_duration(seconds) == expected


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1234, "1.2 kB"),
        (1_200_000, "1.2 MB"),
        (12_345_678, "12.3 MB"),
        (345_000_000, "345 MB"),
        (3_400_000_000, "3.4 GB"),
        ("21017", "21.0 kB"),
        ("-", "-"),
    ],
)
def test_format_bytes(count: Any, expected: str) -> None:
    assert helpers.format_bytes(count) == expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (6, "TCP"),
        ("17", "UDP"),
        (1, "ICMP"),
        (58, "ICMPv6"),
        (47, "GRE"),
        (253, "253"),
        (None, "-"),
    ],
)
def test_protocol_name(number: Any, expected: str) -> None:
    assert helpers.protocol_name(number) == expected


def test_ago() -> None:
    assert helpers.ago(MS - 300_000, MS) == "5 min ago"
    assert helpers.ago(MS + 7_200_000, MS) == "in 2 h"
    assert helpers.ago(MS, MS) == "just now"
    assert helpers.ago(None, MS) == "-"


def test_format_number() -> None:
    assert helpers.format_number(12345) == "12,345"
    assert helpers.format_number("1.5") == "1.50"
