"""The retry policy: exponential backoff with jitter, bounded by a window and attempts."""

from __future__ import annotations

import random

from logsieve.subscriptions.retry import RetryState
from logsieve.subscriptions.settings import DeliverySettings


def test_backoff_grows_exponentially_within_jitter_and_caps() -> None:
    settings = DeliverySettings(retry_base_seconds=1, retry_max_backoff_seconds=8)
    state = RetryState(settings, rng=random.Random(1))
    delays = [state.failed(now=0.0) for _ in range(6)]
    for attempt, delay in enumerate(delays, start=1):
        ceiling = min(8, 2 ** (attempt - 1))
        assert delay is not None and ceiling / 2 <= delay <= ceiling


def test_gives_up_after_the_window() -> None:
    state = RetryState(DeliverySettings(retry_base_seconds=1, retry_window_seconds=10))
    assert state.failed(now=100.0) is not None
    delay = state.failed(now=109.5)
    assert delay is not None and delay <= 0.5  # never waits past the window
    assert state.failed(now=110.0) is None


def test_gives_up_after_max_attempts() -> None:
    state = RetryState(DeliverySettings(max_attempts=3))
    assert state.failed(0) is not None
    assert state.failed(0) is not None
    assert state.failed(0) is None
    assert state.attempts == 3
