"""Alert rules on the delivery path: standing subscriptions feeding the engine.

Each rule becomes a standing subscription per log group (same pump, cursor, retries and dead
letters as a subscription filter); its destination hands the matched events to the engine,
which decides and durably enqueues the notifications in the outbox before confirming. A
ticker closes digest windows on time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from pathlib import Path
from typing import Any

from logsieve.destinations import Destination
from logsieve.destinations.alert_rule import AlertRuleDestination, alert_arn
from logsieve.notify.channels import send_notification
from logsieve.notify.message import Notification
from logsieve.notify.outbox import Outbox
from logsieve.storage.alert_state import AlertStateStore
from logsieve.subscriptions import Standing

from .config import AlertRule
from .engine import AlertEngine

log = logging.getLogger("logsieve.alerts")

TICK_SECONDS = 1.0


def standing_name(rule: str) -> str:
    """The standing subscription (event-log consumer) of alert rule ``rule``."""
    return f"alert:{rule}"


class AlertService:
    def __init__(
        self,
        rules: tuple[AlertRule, ...],
        state: AlertStateStore | Path,
        outbox: Outbox,
        channels: Collection[Any],
    ) -> None:
        self.rules = rules
        self.outbox = outbox
        self.engine = AlertEngine(rules, state, self._emit, channels=channels)

    def _emit(self, channel: str, note: Notification, key: str) -> None:
        send_notification(self.outbox, channel, note, key)

    def standing(self) -> list[Standing]:
        return [
            Standing(
                standing_name(rule.name), rule.pattern, tuple(rule.log_groups),
                alert_arn(rule.name),
            )
            for rule in self.rules
        ]  # fmt: skip

    def destinations(self) -> dict[str, Destination]:
        return {alert_arn(rule.name): AlertRuleDestination(rule.name, self.engine.handle)
                for rule in self.rules}  # fmt: skip

    async def tick_forever(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                await asyncio.to_thread(self.engine.tick)
            except Exception:  # the next tick tries again; the state is durable
                log.exception("alert tick failed")

    def close(self) -> None:
        self.engine.close()
