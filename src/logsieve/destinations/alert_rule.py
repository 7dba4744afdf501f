"""Alert rules as subscription destinations: a payload goes to the rule engine in-process.

The engine renders and enqueues notifications durably before returning, so a confirmed
delivery means the alert will be sent; a failure is retried like any other destination.
"""

from __future__ import annotations

from collections.abc import Callable

from logsieve.formats.awslogs import Payload

from .base import DeliveryError

ALERT_ARN_PREFIX = "logsieve:alert:"


def alert_arn(rule: str) -> str:
    return ALERT_ARN_PREFIX + rule


class AlertRuleDestination:
    def __init__(self, rule: str, handle: Callable[[str, Payload], None]) -> None:
        self.arn = alert_arn(rule)
        self.rule = rule
        self.handle = handle

    def check(self, source_arn: str) -> None:
        """Standing subscriptions are declared in the config file, never test-delivered."""

    def deliver(self, payload: Payload, data: bytes) -> None:
        try:
            self.handle(self.rule, payload)
        except Exception as exc:  # a rule that cannot render or enqueue: retried, then visible
            raise DeliveryError(f"alert rule {self.rule}: {type(exc).__name__}: {exc}") from exc
