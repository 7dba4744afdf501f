"""Helpers for the notify tests: an outbox running on its own loop, and polling with a deadline."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from logsieve.notify.outbox import Outbox

T = TypeVar("T")

TIMEOUT = 15.0  # generous: only a broken outbox takes this long


@contextmanager
def running(outbox: Outbox) -> Iterator[Outbox]:
    """Run ``outbox.run()`` on a loop in a background thread, as the server does."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    task: list[asyncio.Task[None]] = []

    def main() -> None:
        asyncio.set_event_loop(loop)

        async def go() -> None:
            task.append(asyncio.current_task())  # type: ignore[arg-type]
            started.set()
            await outbox.run()

        try:
            loop.run_until_complete(go())
        except asyncio.CancelledError:
            pass
        finally:
            loop.close()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    started.wait(TIMEOUT)
    try:
        yield outbox
    finally:
        loop.call_soon_threadsafe(task[0].cancel)
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "outbox.run() did not stop when cancelled"
