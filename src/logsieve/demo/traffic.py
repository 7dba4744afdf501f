"""The living account: ``simulate world`` on its own thread, following what the API set up.

The world discovers the flow log, the Client VPN endpoint and the trail through the API and
writes their logs (the same code as ``logsieve simulate world``); its progress callbacks feed
the display. ``flood`` runs the world's scripted episode. A world that cannot go on records one
line and sets the stop event, so the demo ends and says why instead of showing a frozen screen.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from logsieve.shipping import ShippingError, Target
from logsieve.simulate import Progress
from logsieve.simulate.world import World

from .plan import ACCOUNT_ID, WorldPlan

__all__ = ["SourceCount", "Traffic"]


@dataclass(frozen=True)
class SourceCount:
    source: str
    sent: int  # accepted by the server (PutLogEvents answered; attempts for client-vpn)
    rejected: int  # refused by the server (rejectedLogEventsInfo)


class Traffic:
    def __init__(self, target: Target, plan: WorldPlan, seed: int, stop: threading.Event) -> None:
        self.stop_event = stop
        self.errors: list[str] = []
        self._progress: dict[str, Progress] = {}
        self._flooded = 0
        self._lock = threading.Lock()
        self.world = World(
            target, rate=plan.flow_rate, trail_rate=plan.trail_rate,
            connect_every=plan.connect_every, refresh=1.0, seed=seed, account_id=ACCOUNT_ID,
            progress=self._report,
        )  # fmt: skip
        self._thread = threading.Thread(target=self._run, name="demo-world", daemon=True)
        self._done = False

    def _report(self, ident: str, progress: Progress) -> None:
        with self._lock:
            self._progress[ident] = progress

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            self.world.run(stop=self.stop_event)
        except (ShippingError, ValueError) as exc:
            self._fail(f"the world: {exc}")
        except Exception as exc:  # a bug: still end the demo with the reason, not a hang
            self._fail(f"the world failed: {type(exc).__name__}: {exc}")
        self._done = True

    def _fail(self, why: str) -> None:
        with self._lock:
            self.errors.append(why)
        self.stop_event.set()

    def flood(self, records: int, port: int = 22) -> int:
        """The world's flood episode; returns the records the server accepted."""
        try:
            sent = self.world.flood(records, port)
        except (ShippingError, ValueError) as exc:
            self._fail(f"the flood: {exc}")
            return 0
        with self._lock:
            self._flooded += sent
        return sent

    def counts(self) -> list[SourceCount]:
        """Events sent so far per source (final numbers once :meth:`join` returned)."""
        summary = self.world.summary
        with self._lock:
            if self._done:
                flows, trail = summary.events, sum(summary.trail_events.values())
                refused = 0
            else:
                flows = self._flooded + sum(
                    p.sent for k, p in self._progress.items() if not k.startswith("arn:")
                )
                trail = sum(p.sent for k, p in self._progress.items() if k.startswith("arn:"))
                refused = sum(p.rejected.total for p in self._progress.values())
        return [
            SourceCount("vpc-flow", flows, refused),
            SourceCount("client-vpn", summary.attempts, 0),
            SourceCount("cloudtrail", trail, 0),
        ]

    def join(self, timeout: float = 30.0) -> None:
        """Wait for the world to flush what it batched and stop."""
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()
