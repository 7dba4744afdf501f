"""How the outbox paces and retries one channel: every channel object carries one."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_POLICY", "DeliveryPolicy"]


@dataclass(frozen=True)
class DeliveryPolicy:
    """Rate limit and retry window of one channel (``channel.policy``).

    Built from the channel's ``rate_per_minute`` and ``retry_seconds`` keys; a channel made in
    code without one gets these defaults: no rate limit, retried for a day.
    """

    rate_per_second: float | None = None
    give_up_after: float = 86_400.0
    retry_base: float = 1.0
    retry_max_backoff: float = 300.0


DEFAULT_POLICY = DeliveryPolicy()
