"""When the demo floods, and what counts as the alarm's whole cycle."""

from __future__ import annotations

import datetime as dt
from typing import Any

from logsieve.demo.alarm import AlarmWatch, flood_window


def test_the_flood_goes_early_in_a_minute_only() -> None:
    minute = 1_800_000_000 // 60 * 60
    allowed = [second for second in range(60) if flood_window(minute + second + 0.5)]
    # counted before an evaluation at :10, :20 or :30 that sees the minute's datapoint
    assert allowed == list(range(1, 26))


class _CloudWatch:
    def __init__(self) -> None:
        self.state = "INSUFFICIENT_DATA"

    def describe_alarms(self, AlarmNames: list[str]) -> dict[str, Any]:
        return {
            "MetricAlarms": [
                {
                    "StateValue": self.state,
                    "StateReason": f"now {self.state}",
                    "StateUpdatedTimestamp": dt.datetime(2026, 12, 3, tzinfo=dt.UTC),
                }
            ]
        }


def test_transitions_and_the_cycle_after_the_flood() -> None:
    cloudwatch = _CloudWatch()
    watch = AlarmWatch(cloudwatch, "rejected-traffic-rate")
    seen = []
    for state in ("INSUFFICIENT_DATA", "ALARM", "OK", "OK"):
        cloudwatch.state = state
        seen += watch.poll()
    assert [(t.old, t.new) for t in seen] == [
        ("(created)", "INSUFFICIENT_DATA"), ("INSUFFICIENT_DATA", "ALARM"), ("ALARM", "OK"),
    ]  # fmt: skip
    assert watch.cycled() and seen[1].reason == "now ALARM"
    flooded = len(watch.transitions)  # a baseline ALARM before the flood does not count
    assert not watch.cycled(flooded)
    for state in ("ALARM", "OK"):
        cloudwatch.state = state
        watch.poll()
    assert watch.cycled(flooded)
