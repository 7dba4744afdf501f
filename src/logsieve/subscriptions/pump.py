"""One subscription filter's delivery loop: read, match, batch, deliver, then advance.

The loop follows the event log from the subscription's durable cursor. A window is the run of
new events read at once: its matches are cut into payloads per log stream, each stream's
payloads are delivered in order (streams in parallel), and only when every payload of the
window is confirmed (or dead-lettered) is the cursor committed past it. A crash therefore
re-delivers at most the window in flight: at least once, never lost.

Each pump is independent, so a slow or failing destination holds back only its own
subscription; its backlog stays in the event log, never in memory (a window is bounded).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from logsieve.cluster import Fence, working
from logsieve.destinations import DeliveryError, Destinations
from logsieve.errors import ServiceError
from logsieve.patterns import compile as compile_pattern
from logsieve.storage import DeadLetter, DeadLetters, LogsStore, SubscriptionFilter

from .batching import Batch, build_batches, match_events
from .event_cache import EventCache
from .retry import RetryState
from .settings import DeliverySettings
from .status import SubscriptionStatus

log = logging.getLogger("logsieve.subscriptions")


@dataclass
class PumpContext:
    """What every pump shares: storage, destinations, tuning and the thread pools."""

    store: LogsStore
    destinations: Destinations
    dead_letters: DeadLetters
    settings: DeliverySettings
    owner: str  # the account id payloads carry
    reads: Executor  # reading and matching (CPU + disk)
    deliveries: Executor  # destination calls, which may block for a handler's whole timeout
    cache: EventCache = field(default_factory=EventCache)
    clock: Callable[[], float] = time.time
    #: on a shared engine (several nodes), how often an idle pump looks for new events even
    #: unwoken (the safety net for an append signal from another node lost on the way);
    #: None: wake-ups only
    poll_seconds: float | None = None


@dataclass
class Window:
    end: int  # the cursor once this window is delivered
    read: int  # events read
    batches: list[Batch]


class SubscriptionPump:
    def __init__(self, item: SubscriptionFilter, ctx: PumpContext) -> None:
        self.item = item
        self.ctx = ctx
        self.pattern = compile_pattern(item.pattern)
        self.status = SubscriptionStatus(item.group_name, item.name, item.destination_arn)
        self.wake = asyncio.Event()
        self.wake.set()  # look for a backlog at once
        self._stream_names: dict[int, str] = {}

    async def _on(self, executor: Executor, function: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(executor, function, *args)

    async def run(self, fence: Fence | None = None) -> None:
        """Deliver forever; with ``fence``, each cursor commit first checks that this node
        still holds the subscription (a node that lost it cannot move its cursor)."""
        ctx, item = self.ctx, self.item
        cursor = await self._on(ctx.reads, ctx.store.cursor, item.consumer)
        self.status.cursor = cursor
        backlog = True
        while True:
            if not backlog:
                self.status.state = "idle"
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), ctx.poll_seconds)
                # The window stays open a moment so events arriving together share payloads.
                await asyncio.sleep(ctx.settings.linger_seconds)
            self.wake.clear()
            with working(fence):  # a planned handover stops the pump between windows
                window = await self._on(ctx.reads, self._prepare, cursor)
                backlog = window.read >= ctx.settings.max_window_events
                if not window.read:
                    continue
                if window.batches:
                    self.status.state = "delivering"
                    await self._deliver(window.batches)
                await self._on(ctx.reads, self._commit, window.end, fence)
                cursor = self.status.cursor = window.end

    def _commit(self, end: int, fence: Fence | None) -> None:
        if fence is not None:
            fence.check()
        self.ctx.store.commit_cursor(self.item.consumer, end)

    # --- reading and matching (on a worker thread) ---------------------------------------

    def _prepare(self, cursor: int) -> Window:
        ctx, item = self.ctx, self.item
        events = ctx.store.read_after(cursor, ctx.settings.max_window_events, item.group_id)
        if not events:
            return Window(cursor, 0, [])
        by_stream = match_events(self.pattern, events, ctx.cache)
        batches: list[Batch] = []
        for stream_id, matched in by_stream.items():
            name = self._stream_name(stream_id)
            if name is None:  # the stream was deleted meanwhile, and its events with it
                continue
            batches += build_batches(
                ctx.owner, item.group_name, item.name, name, matched,
                ctx.settings.max_payload_bytes,
            )  # fmt: skip
        return Window(events[-1][1], len(events), batches)

    def _stream_name(self, stream_id: int) -> str | None:
        name = self._stream_names.get(stream_id)
        if name is None:
            self._stream_names = self.ctx.store.stream_ids(self.item.group_id, None, None)
            name = self._stream_names.get(stream_id)
        return name

    # --- delivery ------------------------------------------------------------------------

    async def _deliver(self, batches: list[Batch]) -> None:
        lanes: dict[str, list[Batch]] = {}
        for batch in batches:
            lanes.setdefault(batch.stream, []).append(batch)
        await asyncio.gather(*(self._deliver_lane(lane) for lane in lanes.values()))

    async def _deliver_lane(self, lane: list[Batch]) -> None:
        for batch in lane:  # in order: a stream's events arrive in the order they were sent
            await self._deliver_batch(batch)

    async def _deliver_batch(self, batch: Batch) -> None:
        ctx, status = self.ctx, self.status
        retry = RetryState(ctx.settings)
        waiting = False  # counted in status.retrying_batches
        try:
            while True:
                try:
                    await self._on(ctx.deliveries, self._send, batch)
                except Exception as exc:
                    retryable = not isinstance(exc, DeliveryError | ServiceError) or (
                        isinstance(exc, DeliveryError) and exc.retryable
                    )
                    if not isinstance(exc, DeliveryError | ServiceError):
                        log.exception("delivery crashed filter=%s", self.item.name)
                    error = str(exc) if not isinstance(exc, ServiceError) else exc.message
                    now = ctx.clock()
                    status.failed_attempts += 1
                    status.last_error, status.last_error_time = error, int(now * 1000)
                    delay = retry.failed(now) if retryable else None
                    if delay is None:
                        await self._on(ctx.reads, self._dead_letter, batch, retry.attempts, error)
                        return
                    if not waiting:
                        waiting = True
                        status.retrying_batches += 1
                    status.state = "retrying"
                    # Attempts 1, 2, 4, 8...: a long outage stays visible, the log not flooded.
                    quiet = retry.attempts & (retry.attempts - 1)
                    log.log(
                        logging.DEBUG if quiet else logging.WARNING,
                        "delivery failed group=%s filter=%s attempt=%d retry_in=%.2fs error=%s",
                        self.item.group_name, self.item.name, retry.attempts, delay, error,
                    )  # fmt: skip
                    await asyncio.sleep(delay)
                    continue
                status.delivered_events += batch.events
                status.delivered_payloads += 1
                status.last_delivery_time = int(ctx.clock() * 1000)
                return
        finally:
            if waiting:
                status.retrying_batches -= 1
            # Streams are delivered in parallel: one still retrying keeps the state.
            status.state = "retrying" if status.retrying_batches else "delivering"

    def _send(self, batch: Batch) -> None:
        destination = self.ctx.destinations.resolve(
            self.item.destination_arn, self.item.distribution
        )
        destination.deliver(batch.payload, batch.data)

    def _dead_letter(self, batch: Batch, attempts: int, error: str) -> None:
        item = self.item
        letter_id = self.ctx.dead_letters.add(
            DeadLetter(
                0, int(self.ctx.clock() * 1000), item.group_name, item.name,
                item.destination_arn, batch.stream, batch.events, batch.first_timestamp,
                batch.last_timestamp, attempts, error, batch.data, None,
            )
        )  # fmt: skip
        log.error(
            "dead-lettered id=%d group=%s filter=%s events=%d attempts=%d error=%s",
            letter_id, item.group_name, item.name, batch.events, attempts, error,
        )  # fmt: skip
