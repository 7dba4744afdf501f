"""A durable outbox: what must reach a person is written down before anyone tries to send it.

Alerts and SNS deliveries are enqueued here (an ``OutboxStore``, see ``storage/outbox.py``:
durable on return), so an item accepted by :meth:`Outbox.enqueue` survives a crash and is
sent at least once. Each *kind* ("channel:ops-slack", "sns-http", ...) has its own sender,
rate limit, retry policy and worker task, so a slow or broken service never holds up another;
within a kind, items are scheduled fairly per *destination* (endpoint, recipient), so a dead or
hanging endpoint holds back only itself (see :class:`Outbox`).
Items that cannot be delivered are never dropped: they stay in the file as "given up", with the
error, until re-driven (:meth:`Outbox.redrive`). This module is the scheduler; what is kept,
and how, is the store's business.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from logsieve.storage import STORE_ERRORS
from logsieve.storage.factory import open_outbox
from logsieve.storage.outbox import GIVEN_UP, PENDING, Entry, OutboxStore
from logsieve.storage.outbox import QueuedItem as _Item

__all__ = ["DeliveryFailed", "Entry", "Outbox"]

log = logging.getLogger(__name__)

T = TypeVar("T")

# A kind's worker re-reads its queue at least this often even when nothing woke it, so a
# clock that jumps (tests) or a lost wake-up can only delay an item, never strand it.
_MAX_IDLE = 1.0
# Other connections' commits (another process or Outbox on the same file) are noticed by
# polling ``PRAGMA data_version`` this often: that is the "within ~50 ms" promise.
_POLL = 0.05
_HOUSEKEEPING = 5.0  # seconds between unregistered-kind checks and pruning
_KEEP_SENT = 30 * 86_400.0  # idempotency keys of sent items are remembered this long


class DeliveryFailed(Exception):
    """Raised by a sender: the item was not delivered.

    ``retryable`` False means trying again cannot help (a 4xx, a refused recipient): the item
    is given up at once and listed by :meth:`Outbox.failures`. ``retry_after`` (seconds) is a
    server's request to wait at least that long (HTTP 429 ``Retry-After``).
    """

    def __init__(
        self, message: str, retryable: bool = True, *, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass
class _TokenBucket:
    """Sends per second with bursts of up to one second's worth (at least one send)."""

    rate: float
    tokens: float = 0.0
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.capacity

    @property
    def capacity(self) -> float:
        return max(1.0, self.rate)

    def take(self) -> float:
        """Take a token and return 0, or return the seconds until one is available."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


@dataclass
class _Kind:
    send: Callable[[bytes], None]
    bucket: _TokenBucket | None
    retry_base: float
    retry_max_backoff: float
    give_up_after: float
    concurrency: int  # items in flight for the whole kind
    per_destination: int  # items in flight for one destination
    attempt_timeout: float | None  # an attempt without an answer by then has failed
    event: asyncio.Event = field(default_factory=asyncio.Event)


class Outbox:
    """Durable queue of things to send (an ``OutboxStore``): an item enqueued survives a
    crash and is sent at least once; an idempotency key makes enqueue a no-op for an item
    already enqueued (so redelivered alerts never double-send).

    Scheduling is fair per *destination* (an item's ``dest``: an endpoint URL, a recipient, a
    function; "" for a channel that has one): a kind keeps up to ``concurrency`` items in
    flight, at most ``per_destination`` of them for one destination. Order is kept per
    destination -- an item waiting for its retry holds back that destination's later items,
    so a dead destination backs off as a whole -- but never another destination's items: a
    dead or hanging endpoint holds back only itself. An attempt that has not answered within
    ``attempt_timeout`` has failed (its thread is left to finish on its own).
    """

    def __init__(
        self,
        store: OutboxStore | Path,
        clock: Callable[[], float] = time.time,
        *,
        keep_sent: float = _KEEP_SENT,
    ) -> None:
        """``store`` is normally opened by ``storage.open_stores``; a path opens the SQLite
        store on that file (tools and tests)."""
        if isinstance(store, Path):
            store = open_outbox(store)
        self._store: OutboxStore = store
        self._clock = clock
        self._keep_sent = keep_sent
        self._kinds: dict[str, _Kind] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None
        self._warned: set[str] = set()
        self._closed = False
        # Database work of the run loop happens here, so an fsync never stalls the event loop.
        self._io = ThreadPoolExecutor(1, thread_name_prefix="outbox-db")

    # --- configuration ---------------------------------------------------------------------

    def register(
        self,
        kind: str,
        send: Callable[[bytes], None],
        *,
        rate_per_second: float | None = None,
        retry_base: float = 1.0,
        retry_max_backoff: float = 300.0,
        give_up_after: float = 86400.0,
        concurrency: int = 1,
        per_destination: int | None = None,
        attempt_timeout: float | None = 300.0,
    ) -> None:
        """Say how items of ``kind`` are sent. ``send`` blocks and raises DeliveryFailed.

        ``per_destination`` (default: ``concurrency``) caps one destination's share of the
        ``concurrency`` slots; ``attempt_timeout`` bounds one attempt (None: unbounded).

        Registering a kind again replaces its sender and policy (pending items are kept).
        """
        if rate_per_second is not None and rate_per_second <= 0:
            raise ValueError(f"rate_per_second must be > 0 or None (got {rate_per_second})")
        per_destination = concurrency if per_destination is None else per_destination
        if concurrency < 1 or per_destination < 1:
            raise ValueError(
                f"concurrency and per_destination must be at least 1 (got {concurrency}, "
                f"{per_destination})"
            )
        if retry_base <= 0 or retry_max_backoff <= 0 or give_up_after < 0:
            raise ValueError("retry_base and retry_max_backoff must be > 0, give_up_after >= 0")
        if attempt_timeout is not None and attempt_timeout <= 0:
            raise ValueError(f"attempt_timeout must be > 0 or None (got {attempt_timeout})")
        old = self._kinds.get(kind)
        self._kinds[kind] = _Kind(
            send=send,
            bucket=_TokenBucket(rate_per_second) if rate_per_second else None,
            retry_base=retry_base,
            retry_max_backoff=retry_max_backoff,
            give_up_after=give_up_after,
            concurrency=concurrency,
            per_destination=min(per_destination, concurrency),
            attempt_timeout=attempt_timeout,
            event=old.event if old else asyncio.Event(),
        )
        self._warned.discard(kind)
        self._notify_changed()

    # --- producers (any thread) ------------------------------------------------------------

    def enqueue(self, kind: str, payload: bytes, key: str | None = None, dest: str = "") -> bool:
        """Add an item for destination ``dest``; True if new, False if ``key`` was already
        enqueued for ``kind``.

        Durable on return (the commit is fsync'd). Blocks for that fsync: async callers
        should call it through ``asyncio.to_thread``. Thread-safe.
        """
        return self.enqueue_many([(kind, payload, key, dest)]) == 1

    def enqueue_many(self, entries: Iterable[Entry]) -> int:
        """Add items ``(kind, payload, key, dest)`` in one transaction (one fsync); returns
        how many were new (a key already enqueued for its kind is skipped). Thread-safe."""
        rows: list[Entry] = []
        now = self._clock()
        for kind, payload, key, dest in entries:
            if not isinstance(payload, bytes | bytearray | memoryview):
                raise TypeError(f"payload must be bytes, not {type(payload).__name__}")
            rows.append((kind, bytes(payload), key, dest))
        if not rows:
            return 0
        added = self._store.enqueue(rows, now)
        if added:
            for kind in {row[0] for row in rows}:
                self.wake(kind)
        return len(added)

    def wake(self, kind: str | None = None) -> None:
        """Thread-safe: an item was enqueued (for ``kind``, or any kind): look now."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed in between
            loop.call_soon_threadsafe(self._wake_in_loop, kind)

    def _wake_in_loop(self, kind: str | None) -> None:
        if kind is None:
            for registration in self._kinds.values():
                registration.event.set()
        elif kind in self._kinds:
            self._kinds[kind].event.set()

    def _notify_changed(self) -> None:
        loop, changed = self._loop, self._changed
        if loop is not None and changed is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(changed.set)

    # --- the delivery loop -----------------------------------------------------------------

    async def run(self) -> None:
        """Deliver due items of every registered kind, forever (until cancelled).

        Each kind gets its own task; its sends run on their own threads, so one kind whose
        service hangs never blocks another. Cancelling leaves in-flight items pending: they
        are sent again on the next run (at least once).
        """
        if self._loop is not None:
            raise RuntimeError("Outbox.run() is already running")
        self._check_open()
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        for registration in self._kinds.values():  # events bind to one loop: fresh ones
            registration.event = asyncio.Event()
        workers: dict[str, asyncio.Task[None]] = {}
        version = -1
        next_housekeeping = 0.0
        try:
            while True:
                self._changed.clear()
                for kind in list(self._kinds):
                    worker = workers.get(kind)
                    if worker is not None and worker.done() and not worker.cancelled():
                        log.error(  # a bug: say so, then start the worker again
                            "event=outbox_worker_died kind=%s", kind, exc_info=worker.exception()
                        )
                    if worker is None or worker.done():
                        workers[kind] = asyncio.create_task(
                            self._serve(kind), name=f"outbox:{kind}"
                        )
                try:
                    if time.monotonic() >= next_housekeeping:
                        next_housekeeping = time.monotonic() + _HOUSEKEEPING
                        await self._io_call(self._housekeeping)
                    seen = await self._io_call(self._store.change_marker)
                    if seen != version:  # another connection committed: maybe new items
                        version = seen
                        self._wake_in_loop(None)
                except STORE_ERRORS as exc:  # a full disk, a locked file: try again soon
                    log.error("event=outbox_poll_failed error=%r", str(exc))
                await _wait(self._changed, _POLL)
        finally:
            for task in workers.values():
                task.cancel()
            await asyncio.gather(*workers.values(), return_exceptions=True)
            self._loop = None
            self._changed = None

    async def _serve(self, kind: str) -> None:
        """One kind's worker: keep up to ``concurrency`` ready items in flight, fairly over
        destinations (see the class docstring)."""
        inflight: dict[int, tuple[asyncio.Task[None], str]] = {}
        try:
            while True:
                registration = self._kinds[kind]  # re-read: register() may replace it
                registration.event.clear()
                wait = _MAX_IDLE
                free = registration.concurrency - len(inflight)
                started: list[_Item] = []
                if free > 0:
                    busy: dict[str, int] = {}
                    for _, dest in inflight.values():
                        busy[dest] = busy.get(dest, 0) + 1
                    try:
                        # The fairness rules are the store's query (``OutboxStore.ready``).
                        ready, due = await self._io_call(
                            self._store.ready, kind, self._clock(), busy,
                            registration.per_destination, list(inflight), free,
                        )  # fmt: skip
                    except STORE_ERRORS as exc:
                        log.error("event=outbox_read_failed kind=%s error=%r", kind, str(exc))
                        ready, due = [], None
                    if due is not None:
                        wait = min(wait, max(due - self._clock(), 0.0))
                    for item in ready:
                        if registration.bucket is not None:
                            delay = registration.bucket.take()
                            if delay > 0:
                                wait = min(wait, delay)
                                break
                        started.append(item)
                        task = asyncio.create_task(
                            self._attempt(kind, registration, item, inflight)
                        )
                        inflight[item.id] = (task, item.dest)
                await _wait(registration.event, max(wait, 0.001))
        finally:
            tasks = [task for task, _ in inflight.values()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _attempt(
        self, kind: str, registration: _Kind, item: _Item, inflight: dict[int, Any]
    ) -> None:
        try:
            await self._deliver(kind, registration, item)
        except STORE_ERRORS as exc:  # the item stays pending and is tried again
            log.error("event=outbox_write_failed kind=%s id=%s error=%r", kind, item.id, str(exc))
        finally:
            inflight.pop(item.id, None)
            registration.event.set()

    async def _deliver(self, kind: str, registration: _Kind, item: _Item) -> None:
        """One attempt at one item, and its outcome written down."""
        started = self._clock()
        error = await self._send_on_thread(
            kind, registration.send, item.payload, registration.attempt_timeout
        )
        if error is None:
            await self._io_call(self._store.mark_sent, kind, item.dest, item.id, self._clock())
            return
        retryable = getattr(error, "retryable", True)
        retry_after = getattr(error, "retry_after", None)
        if isinstance(error, DeliveryFailed):
            message = error.message
        else:  # a bug or an unmapped library error: keep the item, retry it
            message = f"{type(error).__name__}: {error}"
            log.error("event=outbox_send_crashed kind=%s id=%s", kind, item.id, exc_info=error)
        now = self._clock()
        first = item.first_attempt if item.first_attempt is not None else started
        deadline = first + registration.give_up_after
        attempts = item.attempts + 1
        if not retryable or now >= deadline:
            log.warning(
                "event=outbox_given_up kind=%s id=%s attempts=%d retryable=%s error=%r",
                kind, item.id, attempts, retryable, message,
            )  # fmt: skip
            # Past its window: everything else queued for this destination at least that long
            # has waited behind it as long, and goes with it (each kept, with the error).
            window = None if not retryable else registration.give_up_after
            await self._io_call(
                self._store.mark_given_up, kind, item.dest, item.id, first, message, now, window
            )
            return
        delay = _backoff(registration, attempts)
        if retry_after is not None:
            delay = max(delay, retry_after)
        next_attempt = min(now + delay, deadline)
        log.info(
            "event=outbox_retry kind=%s id=%s attempts=%d in=%.2fs error=%r",
            kind, item.id, attempts, next_attempt - now, message,
        )  # fmt: skip
        await self._io_call(
            self._store.mark_failed, kind, item.dest, item.id, first, next_attempt, message, now
        )

    async def _send_on_thread(
        self,
        kind: str,
        send: Callable[[bytes], None],
        payload: bytes,
        timeout: float | None,
    ) -> BaseException | None:
        """Run ``send`` on a daemon thread: a send that never returns ties up only its own
        slot until ``timeout`` (then it has failed, and its late result is ignored), and
        cannot keep the process from exiting."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[BaseException | None] = loop.create_future()

        def settle(result: BaseException | None) -> None:
            if not done.done():
                done.set_result(result)

        def runner() -> None:
            result: BaseException | None = None
            try:
                send(payload)
            except BaseException as exc:  # reported to the loop, which decides
                result = exc
            with contextlib.suppress(RuntimeError):  # loop closed: the item stays pending
                loop.call_soon_threadsafe(settle, result)

        threading.Thread(target=runner, name=f"outbox-send:{kind}", daemon=True).start()
        if timeout is None:
            return await done
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(done)
        except TimeoutError:
            return DeliveryFailed(f"no answer within {timeout:g}s (the attempt was abandoned)")

    # --- inspection ------------------------------------------------------------------------

    def status(self) -> list[dict[str, Any]]:
        """Per kind: pending, sent, failed_attempts, given_up, oldest_pending_age (seconds),
        registered; ``failing_destinations`` (those whose last attempt failed and that still
        have items waiting, each with its error); ``last_error``/``last_error_time`` only while
        a destination is failing, else ``past_error``/``past_error_time`` and
        ``recovered_time`` (a past error is never shown as a current one)."""
        now = self._clock()
        counts = self._store.counts()
        rows: dict[str, dict[str, Any]] = {}

        def row(kind: str) -> dict[str, Any]:
            return rows.setdefault(
                kind,
                {
                    "kind": kind,
                    "registered": kind in self._kinds,
                    "pending": 0,
                    "sent": 0,
                    "failed_attempts": 0,
                    "given_up": 0,
                    "last_error": None,
                    "last_error_time": None,
                    "past_error": None,
                    "past_error_time": None,
                    "recovered_time": None,
                    "failing_destinations": [],
                    "oldest_pending_age": None,
                },
            )

        for kind in self._kinds:
            row(kind)
        for failing in counts.failing:
            row(failing.kind)["failing_destinations"].append(
                {
                    "destination": failing.dest or failing.kind,
                    "pending": failing.pending,
                    "failed_attempts": failing.failed_attempts,
                    "last_error": failing.last_error,
                    "last_error_time": failing.last_error_time,
                }
            )
        for stats in counts.kinds:
            kind, sent, failed = stats.kind, stats.sent, stats.failed_attempts
            error, error_time = stats.last_error, stats.last_error_time
            entry = row(kind)
            entry.update(sent=sent, failed_attempts=failed)
            if entry["failing_destinations"]:
                newest = entry["failing_destinations"][0]
                entry.update(last_error=newest["last_error"], last_error_time=error_time)
            elif error is not None:
                entry.update(
                    past_error=error,
                    past_error_time=error_time,
                    recovered_time=counts.last_sent.get(kind),
                )
        for kind, state, count, oldest in counts.states:
            entry = row(kind)
            if state == PENDING:
                entry["pending"] = count
                entry["oldest_pending_age"] = max(0.0, now - oldest)
            elif state == GIVEN_UP:
                entry["given_up"] = count
        return [rows[kind] for kind in sorted(rows)]

    def failures(self, limit: int = 100) -> list[dict[str, Any]]:
        """Items given up on, newest first, with their error (they stay until re-driven)."""
        return self._store.failures(limit)

    def redrive(self, ids: Iterable[int] | None = None, kind: str | None = None) -> int:
        """Put given-up items back in the queue (all, or these ids, or this kind's)."""
        count = self._store.redrive(None if ids is None else list(ids), kind, self._clock())
        if count:
            self.wake(kind)
        return count

    def close(self) -> None:
        """Close the file. Stop :meth:`run` first (cancel its task)."""
        if self._closed:
            return
        self._closed = True
        self._store.close()
        self._io.shutdown(wait=True)

    # --- the store, from the run loop's database thread ------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the outbox is closed")

    async def _io_call(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._io, function, *args)

    def _housekeeping(self) -> None:
        """Warn (once) about kinds nobody sends; forget old idempotency keys and idle
        destinations."""
        kinds = self._store.pending_kinds()
        self._store.prune(self._clock() - self._keep_sent)
        for kind in kinds:
            if kind not in self._kinds and kind not in self._warned:
                self._warned.add(kind)
                log.warning(
                    "event=outbox_unregistered_kind kind=%s note='items are kept until a "
                    "sender for this kind is configured again'",
                    kind,
                )


async def _wait(event: asyncio.Event, seconds: float) -> None:
    """Wait for ``event`` at most ``seconds``. Not ``asyncio.wait_for``: on Python 3.11 it can
    swallow a cancellation that arrives as the event is set, and run() would never stop."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()


def _backoff(registration: _Kind, attempts: int) -> float:
    """Exponential backoff with jitter: half fixed, half random, so retries spread out but
    never come sooner than half the nominal delay."""
    nominal = min(
        registration.retry_max_backoff, registration.retry_base * 2 ** min(attempts - 1, 60)
    )
    return nominal / 2 + random.uniform(0, nominal / 2)
