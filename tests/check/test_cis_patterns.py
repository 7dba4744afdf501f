"""CIS controls are recognised by meaning, not by spelling."""

from __future__ import annotations

import pytest

from logsieve.check.cis import CONTROLS, same_pattern

TRAIL = next(c for c in CONTROLS if c.id == "4.5").pattern


@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: c.id)
def test_every_benchmark_pattern_parses_and_equals_itself(control) -> None:
    assert same_pattern(control.pattern, control.pattern)


@pytest.mark.parametrize(
    "spelling",
    [
        "{($.eventName=CreateTrail)||($.eventName=UpdateTrail)||($.eventName=DeleteTrail)||"
        "($.eventName=StartLogging)||($.eventName=StopLogging)}",
        '{ $.eventName = "StopLogging" || $.eventName = "StartLogging" || '
        '($.eventName = "DeleteTrail" || ($.eventName = "UpdateTrail" || '
        '$.eventName = "CreateTrail")) }',
    ],
)
def test_respellings_are_the_same_control(spelling: str) -> None:
    assert same_pattern(spelling, TRAIL)


@pytest.mark.parametrize(
    "different",
    [
        "{($.eventName=CreateTrail)||($.eventName=UpdateTrail)||($.eventName=DeleteTrail)||"
        "($.eventName=StartLogging)}",  # StopLogging missing
        "{($.eventName=CreateTrail)&&($.eventName=UpdateTrail)&&($.eventName=DeleteTrail)&&"
        "($.eventName=StartLogging)&&($.eventName=StopLogging)}",  # && for ||
        "StopLogging",  # not a JSON pattern
        "{ $.eventName = ",  # does not parse
    ],
)
def test_other_patterns_are_not(different: str) -> None:
    assert not same_pattern(different, TRAIL)
