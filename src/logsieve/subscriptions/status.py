"""What an operator sees about one subscription: progress, lag and failures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class SubscriptionStatus:
    """Counters since the server started; dead letters and lag are filled in when asked."""

    group: str
    filter_name: str
    destination_arn: str
    state: str = "starting"  # starting | idle | delivering | retrying
    cursor: int = 0
    delivered_events: int = 0
    delivered_payloads: int = 0
    failed_attempts: int = 0
    dead_lettered_events: int = 0
    last_error: str | None = None
    last_error_time: int | None = None  # ms since the epoch
    last_delivery_time: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "logGroupName": self.group,
            "filterName": self.filter_name,
            "destinationArn": self.destination_arn,
            "state": self.state,
            "cursor": str(self.cursor),
            "deliveredEvents": self.delivered_events,
            "deliveredPayloads": self.delivered_payloads,
            "failedAttempts": self.failed_attempts,
            "deadLetteredEvents": self.dead_lettered_events,  # pending in the store
            "lastError": self.last_error,
            "lastErrorTime": self.last_error_time,
            "lastDeliveryTime": self.last_delivery_time,
        }
