"""The three simulators, each on its own thread, sending through the real API.

Each source runs ``logsieve.simulate.run`` -- the same code as ``logsieve simulate`` -- paced
to its rate, until the shared stop event is set; its progress callbacks feed the display. A
simulator that cannot go on (the server refuses it, or is gone) records one line and sets the
stop event, so the demo ends and says why instead of showing a frozen screen.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from logsieve.shipping import ShippingError, Target
from logsieve.simulate import Progress, RunSummary, run

from .plan import ACCOUNT_ID, REGION, SourcePlan

__all__ = ["SourceCount", "Traffic"]


@dataclass(frozen=True)
class SourceCount:
    source: str
    sent: int  # accepted by the server (PutLogEvents answered)
    rejected: int  # refused by the server (rejectedLogEventsInfo)


class Traffic:
    def __init__(
        self, target: Target, plans: list[SourcePlan], seed: int, stop: threading.Event
    ) -> None:
        self.target = target
        self.plans = plans
        self.seed = seed
        self.stop_event = stop
        self.errors: list[str] = []
        self.summaries: dict[str, RunSummary] = {}
        self._progress: dict[str, Progress] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.start_ms = int(time.time() * 1000)

    def start(self) -> None:
        for number, plan in enumerate(self.plans):
            thread = threading.Thread(
                target=self._run,
                args=(plan, self.seed + number),
                name=f"demo-{plan.source}",
                daemon=True,  # a sender still retrying against a stopped server never holds
            )  # the exit: join() waits for the normal end, a second Ctrl-C does not
            thread.start()
            self._threads.append(thread)

    def _run(self, plan: SourcePlan, seed: int) -> None:
        def progress(p: Progress) -> None:
            with self._lock:
                self._progress[plan.source] = p

        try:
            summary = run(
                plan.source, self.target, group=plan.group, seed=seed, rate=plan.rate,
                start_ms=self.start_ms, account_id=ACCOUNT_ID, region=REGION,
                stop=self.stop_event, progress=progress, progress_interval=0.25, senders=1,
            )  # fmt: skip
        except (ShippingError, ValueError) as exc:
            with self._lock:
                self.errors.append(f"{plan.source} simulator: {exc}")
            self.stop_event.set()
            return
        except Exception as exc:  # a bug: still end the demo with the reason, not a hang
            with self._lock:
                self.errors.append(f"{plan.source} simulator failed: {type(exc).__name__}: {exc}")
            self.stop_event.set()
            return
        with self._lock:
            self.summaries[plan.source] = summary

    def counts(self) -> list[SourceCount]:
        """Events sent so far per source (final numbers once :meth:`join` returned)."""
        found = []
        with self._lock:
            for plan in self.plans:
                summary = self.summaries.get(plan.source)
                if summary is not None:
                    found.append(SourceCount(plan.source, summary.sent, summary.rejected.total))
                    continue
                p = self._progress.get(plan.source)
                found.append(
                    SourceCount(plan.source, p.sent if p else 0, p.rejected.total if p else 0)
                )
        return found

    def join(self, timeout: float = 30.0) -> None:
        """Wait for the simulators to flush what they batched and stop."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)
