"""Stop cleanly on the first Ctrl-C or SIGTERM, at once on the second.

A clean stop is what makes ``ship`` exactly-once across restarts (send what is batched, save the
position) and lets ``simulate``/``put`` print their summary; a second signal is the user saying
"now", so it raises KeyboardInterrupt wherever the main thread is.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

__all__ = ["graceful_stop"]


@contextlib.contextmanager
def graceful_stop(
    stop: threading.Event, on_first: Callable[[str], None] | None = None
) -> Iterator[threading.Event]:
    """Within the block, SIGINT/SIGTERM set ``stop`` (and call ``on_first`` with the signal's
    name) the first time and raise KeyboardInterrupt the second time. Only works on the main
    thread; elsewhere the block runs with the handlers untouched."""
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        if on_first is not None:
            on_first(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
