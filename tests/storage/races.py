"""Releasing several threads at one call at the same moment (the delete races' tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from botocore.exceptions import ClientError


def concurrently(calls: int, call: Callable[[int], object]) -> list[ClientError | None]:
    """Run ``call(i)`` for i in range(calls), each on its own thread, all released by one
    barrier; returns each call's ClientError, or None where it succeeded."""
    barrier = threading.Barrier(calls)
    results: list[ClientError | None] = [None] * calls

    def run(i: int) -> None:
        barrier.wait()
        try:
            call(i)
        except ClientError as error:
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results
