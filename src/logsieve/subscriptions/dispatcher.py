"""The dispatcher: one delivery pump per subscription filter, kept in step with the store.

It is the logs service's ``Delivery``: PutSubscriptionFilter asks it to check the destination,
every filter change makes it start, restart or stop pumps, and every committed PutLogEvents
batch wakes the pumps of that log group (from request threads, hence the thread-safe hops
onto the event loop). It also answers status and re-drives dead letters.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from logsieve.cluster import Fence, Ownership
from logsieve.destinations import DeliveryError
from logsieve.errors import ServiceError
from logsieve.formats.awslogs import decode
from logsieve.storage import DeadLetter, SubscriptionFilter
from logsieve.storage.signals import AppendSignals

from .background import Background
from .metric_counting import MetricCounting
from .pump import PumpContext, SubscriptionPump
from .standing import Standing
from .standing import resolve as resolve_standing
from .supervised import supervised

log = logging.getLogger("logsieve.subscriptions")

_READ_THREADS = 4
_DELIVERY_THREADS = 64  # each may wait out a handler's timeout; isolation needs headroom
_FOLLOW_SECONDS = 1.0  # shared engine: how soon a filter made on another node runs


class Dispatcher:
    def __init__(
        self,
        ctx: PumpContext,
        region: str,
        standing: list[Standing] | None = None,
        counting: MetricCounting | None = None,
        ownership: Ownership | None = None,
        signals: AppendSignals | None = None,
    ) -> None:
        self.ctx = ctx
        #: appends told to (and heard from) the other nodes sharing the engine
        self.signals = signals
        #: which node works which subscription (None: this one works them all)
        self.ownership = ownership
        self.counting = counting  # metric filters: counters per log group, same wake-ups
        self.region = region
        self.standing = standing or []
        self._unresolved = bool(self.standing)  # standing subscriptions wait for their groups
        self._resolved_at = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pumps: dict[str, tuple[SubscriptionPump, asyncio.Task[None]]] = {}
        self._groups: dict[int, list[SubscriptionPump]] = {}
        self._follower: asyncio.Task[None] | None = None
        self._refreshing = asyncio.Lock()  # one read-then-apply at a time, in order
        self._background = Background()

    @classmethod
    def executors(cls) -> tuple[ThreadPoolExecutor, ThreadPoolExecutor]:
        """The (reads, deliveries) thread pools a ``PumpContext`` needs."""
        return (
            ThreadPoolExecutor(_READ_THREADS, thread_name_prefix="logsieve-match"),
            ThreadPoolExecutor(_DELIVERY_THREADS, thread_name_prefix="logsieve-deliver"),
        )

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._refresh()
        if self.signals is not None:
            self.signals.listen(self._appended_here)
        if self.ctx.poll_seconds is not None:
            self._follower = asyncio.create_task(self._follow(), name="subscriptions follow")

    async def stop(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
        for task in self._background.running():
            task.cancel()
        if self.counting is not None:
            await self.counting.stop()
        tasks = [task for _, task in self._pumps.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._pumps.clear()
        self._groups.clear()
        self.ctx.reads.shutdown(wait=False, cancel_futures=True)
        self.ctx.deliveries.shutdown(wait=False, cancel_futures=True)

    async def _refresh(self) -> None:
        """Make the running pumps (and metric counters) match the stored filters and the
        standing subscriptions. The store is read on a worker thread: on a shared engine a
        read may wait out a call budget for a cluster that does not answer, and the event
        loop (requests, shutdown) must not wait with it."""
        async with self._refreshing:
            wanted, unresolved, counted = await asyncio.to_thread(self._wanted)
            self._apply(wanted, unresolved, counted)

    def _refresh_soon(self) -> None:
        """``_refresh`` in the background, its failure logged (the next change or follow
        round tries again). On the event loop."""
        self._background.spawn(self._refresh_logged(), "subscriptions refresh")

    async def _refresh_logged(self) -> None:
        try:
            await self._refresh()
        except Exception:
            log.exception("reconciling subscriptions failed")

    def _wanted(self) -> tuple[dict[str, SubscriptionFilter], bool, dict[int, str] | None]:
        """What should run, read from the store (any thread): the subscriptions by consumer,
        whether standing subscriptions still wait for groups, the groups to count."""
        store = self.ctx.store
        items = store.subscription_filters(None)
        standing = resolve_standing(store, self.standing, int(self.ctx.clock() * 1000))
        unresolved = sum(len(s.log_groups) for s in self.standing) > len(standing)
        wanted = {item.consumer: item for item in [*items, *standing]}
        counted = self.counting.wanted() if self.counting is not None else None
        return wanted, unresolved, counted

    def _apply(
        self,
        wanted: dict[str, SubscriptionFilter],
        unresolved: bool,
        counted: dict[int, str] | None,
    ) -> None:
        """Start, restart and stop pumps to match ``wanted`` (on the event loop)."""
        self._unresolved = unresolved
        self._resolved_at = self.ctx.clock()
        for consumer, (pump, task) in list(self._pumps.items()):
            if wanted.get(consumer) != pump.item:
                task.cancel()
                del self._pumps[consumer]
        for consumer, item in wanted.items():
            if consumer not in self._pumps:
                pump = SubscriptionPump(item, self.ctx)
                task = asyncio.create_task(self._run(pump), name=f"pump {consumer}")
                self._pumps[consumer] = (pump, task)
        groups: dict[int, list[SubscriptionPump]] = {}
        for pump, _ in self._pumps.values():
            groups.setdefault(pump.item.group_id, []).append(pump)
        self._groups = groups
        if self.counting is not None and counted is not None:
            self.counting.apply(counted)

    def _run(self, pump: SubscriptionPump) -> Coroutine[Any, Any, None]:
        """A pump's task: on the node holding its lease only, when nodes share the work."""
        if self.ownership is None:
            return self._supervise(pump)
        return self.ownership.hold(pump.item.consumer, lambda fence: self._supervise(pump, fence))

    async def _follow(self) -> None:
        """On a shared engine, pick up filters changed through other nodes."""
        while True:
            await asyncio.sleep(_FOLLOW_SECONDS)
            await self._refresh_logged()  # a failed round: the next one tries again

    async def _supervise(self, pump: SubscriptionPump, fence: Fence | None = None) -> None:
        """Run a pump; a fault restarts it from its committed cursor."""

        def restarting() -> None:
            pump.status.state = "restarting"
            pump.wake.set()

        what = f"pump group={pump.item.group_name} filter={pump.item.name}"
        await supervised(lambda: pump.run(fence), what, restarting)

    # --- the logs service's Delivery protocol (called from request threads) ----------------

    def _source(self, group_name: str) -> str:
        return f"arn:aws:logs:{self.region}:{self.ctx.owner}:log-group:{group_name}:*"

    def check_destination(self, item: SubscriptionFilter) -> None:
        """Raise AWS's error when the destination cannot be delivered to; log the real cause
        (AWS's message for a missing function is the one for a missing permission)."""
        source = self._source(item.group_name)
        destinations = self.ctx.destinations
        try:
            destinations.resolve(item.destination_arn, item.distribution).check(source)
        except ServiceError as exc:
            cause = destinations.cause(item.destination_arn, source) or _underlying(exc)
            log.warning(
                "subscription filter refused group=%s filter=%s destination=%s cause=%s",
                item.group_name, item.name, item.destination_arn, cause,
            )  # fmt: skip
            raise

    def subscriptions_changed(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._refresh_soon)

    def appended(self, group_id: int) -> None:
        self._appended_here(group_id)
        if self.signals is not None:
            self.signals.appended(group_id)

    def _appended_here(self, group_id: int) -> None:
        """Wake this node's consumers of ``group_id`` (from any thread)."""
        if self.counting is not None:
            self.counting.appended(group_id)
        if self._loop is not None and (group_id in self._groups or self._unresolved):
            self._loop.call_soon_threadsafe(self._wake, group_id)

    def _wake(self, group_id: int) -> None:
        now = self.ctx.clock()
        if group_id not in self._groups and self._unresolved and now - self._resolved_at > 0.5:
            self._resolved_at = now  # one look at a time; the look sets it again
            self._refresh_soon()  # perhaps a log group a standing subscription waits for
        for pump in self._groups.get(group_id, ()):
            pump.wake.set()

    # --- operators --------------------------------------------------------------------------

    def status(self) -> list[dict[str, Any]]:
        """Every subscription's progress, lag (events and seconds) and failures."""
        now = self.ctx.clock()
        found = []
        elsewhere = self._worked_elsewhere()
        for pump, _ in sorted(self._pumps.values(), key=lambda p: p[0].item.consumer):
            status = pump.status
            if pump.item.consumer in elsewhere:  # its progress is the other node's cursor
                status.state = "elsewhere"
                status.cursor = self.ctx.store.cursor(pump.item.consumer)
            status.dead_lettered_events = self.ctx.dead_letters.pending_events(
                pump.item.group_name, pump.item.name
            )
            events, oldest = self.ctx.store.backlog(pump.item.group_id, status.cursor)
            described = status.to_dict()
            cause = self.ctx.destinations.cause(
                pump.item.destination_arn, self._source(pump.item.group_name)
            )
            error = status.current_error(cause)
            described["health"] = "ERROR" if error else "OK"
            described["error"] = error
            described["lagEvents"] = events
            described["lagSeconds"] = round(max(0.0, now - oldest / 1000), 3) if oldest else 0.0
            found.append(described)
        return found

    def _worked_elsewhere(self) -> set[str]:
        """The subscriptions another node works now (shared engines only)."""
        ownership = self.ownership
        if ownership is None or not ownership.leases.shared:
            return set()
        return set(self._pumps) - set(ownership.holding())

    def redrive(self, letter_id: int) -> DeadLetter:
        """Deliver a dead letter again, to the destination it was meant for (blocking)."""
        letter = self.ctx.dead_letters.get(letter_id)
        if letter is None:
            raise LookupError(f"no dead letter {letter_id}")
        if letter.redriven is not None:
            return letter
        try:
            destination = self.ctx.destinations.resolve(letter.destination_arn)
            destination.deliver(decode(letter.data), letter.data)
        except (DeliveryError, ServiceError) as exc:
            error = exc.message if isinstance(exc, ServiceError) else str(exc)
            self.ctx.dead_letters.record_failure(letter_id, error)
            raise DeliveryError(error) from exc
        self.ctx.dead_letters.mark_redriven(letter_id, int(self.ctx.clock() * 1000))
        return self.ctx.dead_letters.get(letter_id) or letter


def _underlying(exc: ServiceError) -> str:
    """The error behind an AWS-worded one (a Kinesis stream's own ResourceNotFound...)."""
    inner = exc.__cause__
    if isinstance(inner, ServiceError):
        return f"{inner.code}: {inner.message}"
    return exc.message
