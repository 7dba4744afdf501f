"""The demo's alarm, watched live, and when the world's flood must come to move it.

A metric filter publishes at standard (1-minute) resolution: a minute's REJECT count is one
datapoint stamped at the minute's start, as on AWS. A 10-second alarm (N = 1, missing data
not breaching) has an evaluation range of 3 periods, so it sees minute M's datapoint only in
the evaluations at M:10, M:20 and M:30, and goes back to OK at M:40. The flood is therefore
sent once the alarm is OK, within seconds 1-26 of a minute: its records (stamped now) are in
that minute's datapoint before an evaluation that sees it, the alarm goes to ALARM at the
next 10-second boundary and back to OK at M:40 -- within 45 s whatever the start time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["AlarmWatch", "Transition", "flood_window"]

_FIRST_SECOND, _LAST_SECOND = 1, 26


def flood_window(now: float) -> bool:
    """Whether a flood sent at ``now`` (epoch seconds) is counted in time to be evaluated."""
    return _FIRST_SECOND <= now % 60 <= _LAST_SECOND


@dataclass(frozen=True)
class Transition:
    alarm: str
    old: str
    new: str
    reason: str
    at_ms: int  # StateUpdatedTimestamp


class AlarmWatch:
    """Polls DescribeAlarms for one alarm; ``poll()`` returns the state changes it saw."""

    def __init__(self, cloudwatch: Any, name: str) -> None:
        self.cloudwatch = cloudwatch
        self.name = name
        self.state = ""
        self.transitions: list[Transition] = []
        self.error: str | None = None

    def poll(self) -> list[Transition]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            alarms = self.cloudwatch.describe_alarms(AlarmNames=[self.name])["MetricAlarms"]
        except (BotoCoreError, ClientError) as exc:  # the server stopping under us
            self.error = f"alarm state unavailable: {exc}"
            return []
        self.error = None
        if not alarms:
            return []
        alarm = alarms[0]
        state = str(alarm["StateValue"])
        if state == self.state:
            return []
        changed = Transition(
            self.name, self.state or "(created)", state, str(alarm.get("StateReason", "")),
            int(alarm["StateUpdatedTimestamp"].timestamp() * 1000),
        )  # fmt: skip
        self.state = state
        self.transitions.append(changed)
        return [changed]

    def cycled(self, since: int = 0) -> bool:
        """Went to ALARM and came back to OK in the transitions from index ``since`` on."""
        states = [t.new for t in self.transitions[since:]]
        return "ALARM" in states and states[-1] == "OK"
