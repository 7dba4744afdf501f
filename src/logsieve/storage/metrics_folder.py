"""The background thread that folds the metric store's fresh writes into its chunks and roll-up.

PutMetricData writes each request as one row of fresh observations and returns; this thread
then moves what has accumulated into per-metric chunks and the per-minute roll-up, one
transaction for many writes, so the roll-up's upserts and the chunk index entries of a busy
metric are paid once per fold rather than once per request. It waits ``pause`` seconds after
being poked so that writes gather, and it must outlive every error (a fold that stops would
leave reads scanning a growing tail): a failure is logged once, retried with a growing pause,
and the recovery is logged too. Reads stay exact meanwhile: they add the unfolded tail.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

__all__ = ["Folder"]

log = logging.getLogger("logsieve.storage")

MAX_BACKOFF_S = 5.0


class Folder:
    """Calls ``fold`` (which folds one batch and says whether more is left) after each
    ``poke``, ``pause`` seconds later, until nothing is left or ``stop``."""

    def __init__(self, name: str, fold: Callable[[], bool], pause: float) -> None:
        self._fold = fold
        self._pause = pause
        self._poked = threading.Event()
        self._poked.set()  # whatever an earlier run left unfolded goes first
        self._stopping = threading.Event()
        self.failures = 0  # consecutive failed folds (0: healthy)
        self.thread = threading.Thread(target=self._run, name=f"logsieve-fold-{name}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def poke(self) -> None:
        """Something new to fold."""
        self._poked.set()

    def stop(self) -> None:
        self._stopping.set()
        self._poked.set()
        self.thread.join()

    def _run(self) -> None:
        backoff = self._pause
        while not self._stopping.is_set():
            self._poked.wait()
            if self._stopping.wait(self._pause):
                return
            self._poked.clear()  # a poke from here on calls for another round
            try:
                while self._fold() and not self._stopping.is_set():
                    pass
            except Exception as error:  # this thread must never die
                self._failed(error)
                self._poked.set()
                backoff = min(max(backoff * 2, 0.1), MAX_BACKOFF_S)
                self._stopping.wait(backoff)
                continue
            if self.failures:
                log.warning("metric folding resumed after %d failed folds", self.failures)
                self.failures = 0
            backoff = self._pause

    def _failed(self, error: Exception) -> None:
        self.failures += 1
        if self.failures == 1:
            log.error("metric folding failed; reads stay exact, retrying", exc_info=error)
