"""Timestamps parsed from the start of shipped lines."""

from __future__ import annotations

import pytest

from logsieve.shipping.timestamps import Stamper, parse_leading_timestamp

T = 1_741_615_200_000  # 2025-03-10T14:00:00Z


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("2025-03-10T14:00:00Z GET /", T),
        ("2025-03-10T14:00:00.123Z x", T + 123),
        ("2025-03-10 14:00:00,5 INFO started", T + 500),
        ("2025-03-10T16:00:00+02:00 x", T),
        ("2025-03-10T09:30:00-0430 x", T),
        ("2025-03-10T14:00:00 no zone means UTC", T),
        ("[2025-03-10T14:00:00.123456789Z] x", T + 123),
        ("1741615200123 epoch ms", T + 123),
        ("1741615200123", T + 123),
    ],
)
def test_leading_timestamps(line: str, expected: int) -> None:
    assert parse_leading_timestamp(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "GET / 2025-03-10T14:00:00Z",  # not at the start
        "2 123456789012 eni-0a1b2c3d4e5f60718 - - - - - - - 1431280876 1431280934 - NODATA",
        "1741615200 epoch seconds are not ms",
        "17416152001234 fourteen digits",
        "2025-13-10T14:00:00Z impossible month",
        "",
    ],
)
def test_no_leading_timestamp(line: str) -> None:
    assert parse_leading_timestamp(line) is None


def test_continuation_lines_take_the_previous_timestamp() -> None:
    stamper = Stamper("parse", clock=lambda: 2_000_000_000.0)
    assert stamper("no timestamp yet") == 2_000_000_000_000
    assert stamper("2025-03-10T14:00:00Z Traceback (most recent call last):") == T
    assert stamper('  File "app.py", line 1') == T
    assert stamper.parsed == 1


def test_now_mode_ignores_the_line() -> None:
    stamper = Stamper("now", clock=lambda: 1.5)
    assert stamper("2025-03-10T14:00:00Z x") == 1500


def test_unknown_mode() -> None:
    with pytest.raises(ValueError, match="now, parse"):
        Stamper("guess")
