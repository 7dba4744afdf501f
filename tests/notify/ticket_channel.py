"""A channel type written the way a new one is added: this module plus one registry line.

It files a "ticket" by appending to an in-memory queue (``FILED``), so a test can see what the
outbox delivered without a real ticketing service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from logsieve.config_values import Invalid
from logsieve.notify.channels.base import BuildContext, ChannelConfig
from logsieve.notify.channels.checks import string
from logsieve.notify.message import Notification
from logsieve.notify.policy import DeliveryPolicy

FILED: list[tuple[str, str, Notification]] = []


@dataclass(frozen=True, kw_only=True)
class TicketConfig(ChannelConfig):
    queue: str
    priority: int = 3
    token: str | None = field(default=None, repr=False)


def _priority(value: Any) -> int:
    if isinstance(value, bool) or value not in (1, 2, 3, 4, 5):
        raise Invalid(f"must be 1 to 5 (got {value!r})", "write priority = 2")
    return int(value)


CONFIG = TicketConfig
CHECKS = {
    "queue": lambda value: string(value, 'write queue = "SEC"'),
    "priority": _priority,
    "token": lambda value: string(value, "paste the API token", secret=True),
}
DEFAULT_RATE_PER_MINUTE: float | None = 6.0


class TicketChannel:
    def __init__(self, name: str, queue: str, policy: DeliveryPolicy) -> None:
        self.name = name
        self.queue = queue
        self.policy = policy

    def send(self, note: Notification) -> None:
        FILED.append((self.name, self.queue, note))


def build(config: TicketConfig, context: BuildContext) -> TicketChannel:
    return TicketChannel(config.name, config.queue, config.policy)
