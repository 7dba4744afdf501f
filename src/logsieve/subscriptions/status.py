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
    state: str = "starting"  # starting | idle | delivering | retrying | elsewhere (another node)
    cursor: int = 0
    delivered_events: int = 0
    delivered_payloads: int = 0
    failed_attempts: int = 0
    dead_lettered_events: int = 0
    last_error: str | None = None
    last_error_time: int | None = None  # ms since the epoch
    last_delivery_time: int | None = None
    retrying_batches: int = 0  # payloads waiting for a retry now (streams run in parallel)

    def current_error(self, cause: str | None) -> str | None:
        """What is wrong now, or None: ``cause`` (the destination cannot work at all, e.g. its
        function does not exist), else the last error while deliveries are still failing.

        A failure the subscription has since got past -- a later delivery succeeded, or the
        payload went to the dead-letter store and the subscription caught up -- is history
        (``lastError``), not a current error.
        """
        if cause is not None:
            return cause
        if self.retrying_batches or self.state == "restarting":
            return self.last_error or self.state
        return None

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
