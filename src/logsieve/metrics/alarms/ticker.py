"""Evaluates alarms when they are due: every 60 s for periods of a minute or more, every 10 s
for 10/20/30-second periods, on the evaluation boundaries (the clock floored to 10 s or 60 s).

``evaluate_due(now)`` is the deterministic hook (tests drive it with their own times);
``run()`` calls it on the real clock, shortly after each 10-second boundary.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable

from logsieve.metrics.reading import MetricReader

from .evaluation import evaluate, evaluation_time
from .service import AlarmService

log = logging.getLogger(__name__)

STEP = 10.0  # seconds between ticks
SETTLE = 0.5  # seconds after a boundary before evaluating (data of the closing period lands)
HISTORY_SECONDS = 14 * 86_400  # AWS keeps alarm history two weeks
PRUNE_EVERY = 3600.0


class Ticker:
    """Evaluates the alarms of ``service`` from ``reader``; remembers, per alarm and
    configuration, the last boundary evaluated so each boundary is evaluated once."""

    def __init__(
        self,
        service: AlarmService,
        reader: MetricReader,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.service = service
        self.reader = reader
        self.clock = clock
        self._done: dict[tuple[str, int], float] = {}
        self._pruned = float("-inf")

    def evaluate_due(self, now: float | None = None) -> int:
        """Evaluate every alarm with a boundary not yet evaluated at ``now``; the number of
        state changes made."""
        now = self.clock() if now is None else now
        changes = 0
        seen = set()
        for row in self.service.store.list_alarms():
            key = (row.name, row.config_updated_ms)
            seen.add(key)
            boundary = evaluation_time(row.config, now)
            if self._done.get(key) == boundary:
                continue
            self._done[key] = boundary
            try:
                outcome = evaluate(row.config, row.state_value, self.reader, now)
            except Exception:  # one broken alarm must not stop the others
                log.exception("alarm evaluation failed alarm=%s", row.name)
                continue
            if outcome is None or outcome.state == row.state_value:
                continue
            if self.service.change_state(row, outcome.state, outcome.reason, outcome.reason_data):
                changes += 1
        for key in set(self._done) - seen:
            del self._done[key]
        if now - self._pruned >= PRUNE_EVERY:
            self._pruned = now
            self.service.store.prune_history(int((now - HISTORY_SECONDS) * 1000))
        return changes

    async def run(self) -> None:
        """Tick forever on the real clock (cancel to stop)."""
        while True:
            now = self.clock()
            await asyncio.sleep(math.floor(now / STEP) * STEP + STEP + SETTLE - now)
            try:
                await asyncio.to_thread(self.evaluate_due)
            except Exception:
                log.exception("alarm tick failed")
