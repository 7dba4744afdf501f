"""What the alert engine has done since it started, per rule: read by the console.

Counters in memory (they restart at zero with the server): events processed, duplicates a
dedup key suppressed, redeliveries skipped, notifications handed to the outbox; and the last
``RECENT`` notifications caused by one event (its id and log group, and when it was handed
over), from which the console works out ingest-to-alert latency with the event's
``ingestionTime``. The engine's lock serialises the writes; readers get copies.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from typing import Any

__all__ = ["RECENT", "HandedOver", "OpenWindow", "RuleActivity"]

RECENT = 100


@dataclasses.dataclass(frozen=True, slots=True)
class HandedOver:
    """A notification caused by one event, handed to the outbox at ``handed_over`` (ms)."""

    event_id: str
    log_group: str
    handed_over: int


@dataclasses.dataclass(frozen=True, slots=True)
class OpenWindow:
    """A digest window still collecting: events after the first are summed up at ``due``."""

    rule: str
    group: str
    start: int  # event time of the first event, ms
    end: int  # event time the window covers until, ms
    due: int  # wall-clock time the engine closes it, ms
    count: int  # events since the first (the follow-up reports them)

    @classmethod
    def of(cls, rule: str, group: str, state: dict[str, Any]) -> OpenWindow:
        return cls(rule, group, state["start"], state["end"], state["due"], state["count"])


@dataclasses.dataclass
class RuleActivity:
    processed: int = 0
    suppressed: int = 0
    redelivered: int = 0
    notifications: int = 0
    recent: Any = dataclasses.field(default_factory=lambda: deque(maxlen=RECENT))

    def handed_over(self, fields: dict[str, Any], now: int) -> None:
        """Count one decided notification (once, however many channels it goes to) and
        remember it when a single event caused it."""
        event_id = fields.get("event_id") if fields.get("kind") == "event" else None
        if event_id and self.recent and self.recent[-1].event_id == event_id:
            return  # the same notification, to the rule's next channel
        self.notifications += 1
        if event_id:
            self.recent.append(HandedOver(event_id, fields.get("log_group") or "", now))

    def copy(self) -> RuleActivity:
        return dataclasses.replace(self, recent=list(self.recent))
