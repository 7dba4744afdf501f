"""Standing subscriptions: consumers declared in the config file (alert rules), not by the API.

They ride the same at-least-once path as subscription filters (a pump, a durable cursor,
retries, dead letters) but are not AWS resources: they do not count against the per-group
filter limit and DescribeSubscriptionFilters does not list them.

Where a new one starts reading: the first time a standing subscription is seen, its activation
time is recorded (in the event log's consumer state, next to the cursors). A log group that
already existed then is followed from the end of the log (old events do not raise alerts); a
group created afterwards is followed from its first event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from logsieve.storage import EventLog, LogsMetadata, SubscriptionFilter
from logsieve.storage.migrate import ACTIVATED

PREFIX = "logsieve:"  # destination ARNs of standing subscriptions start with it


@dataclass(frozen=True)
class Standing:
    name: str  # unique, e.g. "alert:vpn-connections"
    pattern: str
    log_groups: tuple[str, ...]
    destination: str  # e.g. "logsieve:alert:vpn-connections"


class _Store(EventLog, LogsMetadata, Protocol):
    """What placing a standing consumer reads: its state and cursors, and the log groups."""


def resolve(store: _Store, standing: list[Standing], now_ms: int) -> list[SubscriptionFilter]:
    """The pumps' items for the standing subscriptions whose log groups exist now.

    Also places the cursor of a consumer seen for the first time (see the module docstring).
    """
    items = []
    for entry in standing:
        activated = store.consumer_value(entry.name, ACTIVATED)
        if activated is None:
            activated = now_ms
            store.set_consumer_value(entry.name, ACTIVATED, activated)
        for group_name in entry.log_groups:
            group = store.group(group_name)
            if group is None:
                continue
            item = SubscriptionFilter(
                group.id, group.name, entry.name, entry.pattern, entry.destination, None,
                "ByLogStream", activated, {},
            )  # fmt: skip
            if not store.cursor(item.consumer) and group.creation_time < activated:
                store.commit_cursor(item.consumer, store.last_seq(group.id))
            items.append(item)
    return items
