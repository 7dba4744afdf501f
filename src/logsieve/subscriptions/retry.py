"""When to try a failing delivery again, and when to give up on it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .settings import DeliverySettings


@dataclass
class RetryState:
    """The failures of one payload so far."""

    settings: DeliverySettings
    first_failure: float | None = None
    attempts: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def failed(self, now: float) -> float | None:
        """Record a failed attempt at ``now``: seconds to wait before the next one, or None
        when the retry window or attempt limit is used up (dead-letter it)."""
        self.attempts += 1
        if self.first_failure is None:
            self.first_failure = now
        s = self.settings
        if s.max_attempts and self.attempts >= s.max_attempts:
            return None
        elapsed = now - self.first_failure
        if elapsed >= s.retry_window_seconds:
            return None
        ceiling = min(s.retry_max_backoff_seconds, s.retry_base_seconds * 2 ** (self.attempts - 1))
        # "Equal jitter": never retry sooner than half the backoff, and spread retries apart.
        delay = self.rng.uniform(ceiling / 2, ceiling)
        return min(delay, s.retry_window_seconds - elapsed)
