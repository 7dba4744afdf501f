"""Waiting on something asynchronous without sleeping a guessed time: poll a condition until it
holds, or fail the test naming what never happened."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

WAIT = 60.0  # generous: only something broken takes this long, and then the test fails


def wait_for(
    condition: Callable[[], T], timeout: float = WAIT, what: str = "condition", poll: float = 0.02
) -> T:
    """Poll ``condition`` until it returns something truthy and return that; raise
    ``AssertionError`` naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(poll)
