"""A durable outbox: what must reach a person is written down before anyone tries to send it.

Alerts and SNS deliveries are enqueued here (one SQLite file in the data directory, WAL,
``synchronous=FULL``), so an item accepted by :meth:`Outbox.enqueue` survives a crash and is
sent at least once. Each *kind* ("channel:ops-slack", "sns-http", ...) has its own sender,
rate limit, retry policy and worker task, so a slow or broken service never holds up another.
Items that cannot be delivered are never dropped: they stay in the file as "given up", with the
error, until re-driven (:meth:`Outbox.redrive`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from logsieve.storage.database import connect, transaction

__all__ = ["DeliveryFailed", "Outbox"]

log = logging.getLogger(__name__)

T = TypeVar("T")

PENDING, SENT, GIVEN_UP = "pending", "sent", "given_up"
# A kind's worker re-reads its queue at least this often even when nothing woke it, so a
# clock that jumps (tests) or a lost wake-up can only delay an item, never strand it.
_MAX_IDLE = 1.0
# Other connections' commits (another process or Outbox on the same file) are noticed by
# polling ``PRAGMA data_version`` this often: that is the "within ~50 ms" promise.
_POLL = 0.05
_HOUSEKEEPING = 5.0  # seconds between unregistered-kind checks and pruning
_KEEP_SENT = 30 * 86_400.0  # idempotency keys of sent items are remembered this long

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    key TEXT,
    payload BLOB,                   -- NULL once sent (only the key is kept, for idempotency)
    state TEXT NOT NULL,            -- pending | sent | given_up
    created REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    first_attempt REAL,             -- the give-up window starts here, not at enqueue
    next_attempt REAL NOT NULL,
    last_error TEXT,
    finished REAL                   -- when sent or given up
);
CREATE UNIQUE INDEX IF NOT EXISTS outbox_items_key ON outbox_items (kind, key)
    WHERE key IS NOT NULL;
CREATE INDEX IF NOT EXISTS outbox_items_pending ON outbox_items (kind, id)
    WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS outbox_items_finished ON outbox_items (state, finished);
CREATE TABLE IF NOT EXISTS outbox_kinds (
    kind TEXT PRIMARY KEY,
    sent INTEGER NOT NULL DEFAULT 0,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_error_time REAL
);
"""


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
    concurrency: int
    event: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(frozen=True)
class _Item:
    id: int
    payload: bytes
    attempts: int
    first_attempt: float | None
    next_attempt: float


class Outbox:
    """Durable queue of things to send (SQLite file in the data dir, WAL, synchronous=FULL):
    an item enqueued survives a crash and is sent at least once; an idempotency key makes
    enqueue a no-op for an item already enqueued (so redelivered alerts never double-send).

    Order is kept per kind: with ``concurrency=1`` (the default) a kind is a strict FIFO -- an
    item waiting for its retry holds back the ones behind it. With ``concurrency=N`` the oldest
    N pending items are in play at once.
    """

    def __init__(
        self,
        path: Path,
        clock: Callable[[], float] = time.time,
        *,
        keep_sent: float = _KEEP_SENT,
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._keep_sent = keep_sent
        # One connection shared by enqueue (any thread) and the run loop's database thread.
        self._db = connect(self.path, schema=_SCHEMA)
        self._lock = threading.Lock()
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
    ) -> None:
        """Say how items of ``kind`` are sent. ``send`` blocks and raises DeliveryFailed.

        Registering a kind again replaces its sender and policy (pending items are kept).
        """
        if rate_per_second is not None and rate_per_second <= 0:
            raise ValueError(f"rate_per_second must be > 0 or None (got {rate_per_second})")
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1 (got {concurrency})")
        if retry_base <= 0 or retry_max_backoff <= 0 or give_up_after < 0:
            raise ValueError("retry_base and retry_max_backoff must be > 0, give_up_after >= 0")
        old = self._kinds.get(kind)
        self._kinds[kind] = _Kind(
            send=send,
            bucket=_TokenBucket(rate_per_second) if rate_per_second else None,
            retry_base=retry_base,
            retry_max_backoff=retry_max_backoff,
            give_up_after=give_up_after,
            concurrency=concurrency,
            event=old.event if old else asyncio.Event(),
        )
        self._warned.discard(kind)
        self._notify_changed()

    # --- producers (any thread) ------------------------------------------------------------

    def enqueue(self, kind: str, payload: bytes, key: str | None = None) -> bool:
        """Add an item; True if new, False if ``key`` was already enqueued for ``kind``.

        Durable on return (the commit is fsync'd). Blocks for that fsync: async callers
        should call it through ``asyncio.to_thread``. Thread-safe.
        """
        if not isinstance(payload, bytes | bytearray | memoryview):
            raise TypeError(f"payload must be bytes, not {type(payload).__name__}")
        now = self._clock()
        with self._lock:
            self._check_open()
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO outbox_items (kind, key, payload, state, created, "
                "next_attempt) VALUES (?, ?, ?, ?, ?, ?)",
                (kind, key, bytes(payload), PENDING, now, now),
            )
            added = cursor.rowcount == 1
        if added:
            self.wake(kind)
        return added

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
                    seen = await self._io_call(self._data_version)
                    if seen != version:  # another connection committed: maybe new items
                        version = seen
                        self._wake_in_loop(None)
                except sqlite3.Error as exc:  # a full disk, a locked file: try again soon
                    log.error("event=outbox_poll_failed error=%r", str(exc))
                await _wait(self._changed, _POLL)
        finally:
            for task in workers.values():
                task.cancel()
            await asyncio.gather(*workers.values(), return_exceptions=True)
            self._loop = None
            self._changed = None

    async def _serve(self, kind: str) -> None:
        """One kind's worker: keep up to ``concurrency`` of its oldest items in flight."""
        inflight: dict[int, asyncio.Task[None]] = {}
        try:
            while True:
                registration = self._kinds[kind]  # re-read: register() may replace it
                registration.event.clear()
                wait = _MAX_IDLE
                try:
                    heads = await self._io_call(self._heads, kind, registration.concurrency)
                except sqlite3.Error as exc:
                    log.error("event=outbox_read_failed kind=%s error=%r", kind, str(exc))
                    heads = []
                now = self._clock()
                for item in heads:
                    if item.id in inflight:
                        continue
                    if len(inflight) >= registration.concurrency:
                        break
                    if item.next_attempt > now:
                        wait = min(wait, item.next_attempt - now)
                        continue
                    if registration.bucket is not None:
                        delay = registration.bucket.take()
                        if delay > 0:
                            wait = min(wait, delay)
                            break
                    inflight[item.id] = asyncio.create_task(
                        self._attempt(kind, registration, item, inflight)
                    )
                await _wait(registration.event, max(wait, 0.001))
        finally:
            for task in inflight.values():
                task.cancel()
            await asyncio.gather(*inflight.values(), return_exceptions=True)

    async def _attempt(
        self, kind: str, registration: _Kind, item: _Item, inflight: dict[int, Any]
    ) -> None:
        try:
            await self._deliver(kind, registration, item)
        except sqlite3.Error as exc:  # the item stays pending and is tried again
            log.error("event=outbox_write_failed kind=%s id=%s error=%r", kind, item.id, str(exc))
        finally:
            inflight.pop(item.id, None)
            registration.event.set()

    async def _deliver(self, kind: str, registration: _Kind, item: _Item) -> None:
        """One attempt at one item, and its outcome written down."""
        started = self._clock()
        error = await self._send_on_thread(kind, registration.send, item.payload)
        if error is None:
            await self._io_call(self._mark_sent, kind, item.id)
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
            await self._io_call(self._mark_given_up, kind, item.id, first, message, now)
            return
        delay = _backoff(registration, attempts)
        if retry_after is not None:
            delay = max(delay, retry_after)
        next_attempt = min(now + delay, deadline)
        log.info(
            "event=outbox_retry kind=%s id=%s attempts=%d in=%.2fs error=%r",
            kind, item.id, attempts, next_attempt - now, message,
        )  # fmt: skip
        await self._io_call(self._mark_failed, kind, item.id, first, next_attempt, message, now)

    async def _send_on_thread(
        self, kind: str, send: Callable[[bytes], None], payload: bytes
    ) -> BaseException | None:
        """Run ``send`` on a daemon thread: a send that never returns ties up only its kind,
        and cannot keep the process from exiting."""
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
        return await done

    # --- inspection ------------------------------------------------------------------------

    def status(self) -> list[dict[str, Any]]:
        """Per kind: pending, sent, failed_attempts, given_up, last_error, last_error_time,
        oldest_pending_age (seconds), registered."""
        now = self._clock()
        with self._lock:
            self._check_open()
            counts = self._db.execute(
                "SELECT kind, state, COUNT(*), MIN(created) FROM outbox_items "
                "WHERE state != 'sent' GROUP BY kind, state"
            ).fetchall()
            stats = self._db.execute(
                "SELECT kind, sent, failed_attempts, last_error, last_error_time FROM outbox_kinds"
            ).fetchall()
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
                    "oldest_pending_age": None,
                },
            )

        for kind in self._kinds:
            row(kind)
        for kind, sent, failed, error, error_time in stats:
            entry = row(kind)
            entry.update(
                sent=sent, failed_attempts=failed, last_error=error, last_error_time=error_time
            )
        for kind, state, count, oldest in counts:
            entry = row(kind)
            if state == PENDING:
                entry["pending"] = count
                entry["oldest_pending_age"] = max(0.0, now - oldest)
            elif state == GIVEN_UP:
                entry["given_up"] = count
        return [rows[kind] for kind in sorted(rows)]

    def failures(self, limit: int = 100) -> list[dict[str, Any]]:
        """Items given up on, newest first, with their error (they stay until re-driven)."""
        with self._lock:
            self._check_open()
            found = self._db.execute(
                "SELECT id, kind, key, payload, attempts, last_error, created, first_attempt, "
                "finished FROM outbox_items WHERE state = 'given_up' "
                "ORDER BY finished DESC, id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        names = (
            "id", "kind", "key", "payload", "attempts", "error", "created", "first_attempt",
            "given_up_at",
        )  # fmt: skip
        return [dict(zip(names, entry, strict=True)) for entry in found]

    def redrive(self, ids: Iterable[int] | None = None, kind: str | None = None) -> int:
        """Put given-up items back in the queue (all, or these ids, or this kind's)."""
        now = self._clock()
        sql = (
            "UPDATE outbox_items SET state = 'pending', attempts = 0, first_attempt = NULL, "
            "next_attempt = ?, finished = NULL WHERE state = 'given_up'"
        )
        params: list[Any] = [now]
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        with self._lock:
            self._check_open()
            if ids is None:
                count = self._db.execute(sql, params).rowcount
            else:
                with transaction(self._db):
                    count = sum(
                        self._db.execute(sql + " AND id = ?", [*params, item_id]).rowcount
                        for item_id in ids
                    )
        if count:
            self.wake(kind)
        return count

    def close(self) -> None:
        """Close the file. Stop :meth:`run` first (cancel its task)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._db.close()
        self._io.shutdown(wait=True)

    # --- database (called with nothing held; each takes the lock) ---------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the outbox is closed")

    async def _io_call(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._io, function, *args)

    def _data_version(self) -> int:
        with self._lock:
            return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def _heads(self, kind: str, limit: int) -> list[_Item]:
        with self._lock:
            found = self._db.execute(
                "SELECT id, payload, attempts, first_attempt, next_attempt FROM outbox_items "
                "WHERE kind = ? AND state = 'pending' ORDER BY id LIMIT ?",
                (kind, limit),
            ).fetchall()
        return [_Item(*entry) for entry in found]

    def _write(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        """Run statements as one transaction (one fsync)."""
        with self._lock, transaction(self._db):
            for sql, params in statements:
                self._db.execute(sql, params)

    _ENSURE_KIND = "INSERT OR IGNORE INTO outbox_kinds (kind) VALUES (?)"

    def _mark_sent(self, kind: str, item_id: int) -> None:
        now = self._clock()
        self._write(
            [
                # Keyless items are forgotten at once; keyed ones keep their key (not payload).
                ("DELETE FROM outbox_items WHERE id = ? AND key IS NULL", (item_id,)),
                (
                    "UPDATE outbox_items SET state = 'sent', payload = NULL, finished = ?, "
                    "attempts = attempts + 1 WHERE id = ?",
                    (now, item_id),
                ),
                (self._ENSURE_KIND, (kind,)),
                ("UPDATE outbox_kinds SET sent = sent + 1 WHERE kind = ?", (kind,)),
            ]
        )

    def _failed_statements(
        self, kind: str, message: str, now: float
    ) -> list[tuple[str, tuple[Any, ...]]]:
        return [
            (self._ENSURE_KIND, (kind,)),
            (
                "UPDATE outbox_kinds SET failed_attempts = failed_attempts + 1, last_error = ?, "
                "last_error_time = ? WHERE kind = ?",
                (message, now, kind),
            ),
        ]

    def _mark_failed(
        self, kind: str, item_id: int, first: float, next_attempt: float, message: str, now: float
    ) -> None:
        self._write(
            [
                (
                    "UPDATE outbox_items SET attempts = attempts + 1, first_attempt = ?, "
                    "next_attempt = ?, last_error = ? WHERE id = ?",
                    (first, next_attempt, message, item_id),
                ),
                *self._failed_statements(kind, message, now),
            ]
        )

    def _mark_given_up(
        self, kind: str, item_id: int, first: float, message: str, now: float
    ) -> None:
        self._write(
            [
                (
                    "UPDATE outbox_items SET state = 'given_up', attempts = attempts + 1, "
                    "first_attempt = ?, last_error = ?, finished = ? WHERE id = ?",
                    (first, message, now, item_id),
                ),
                *self._failed_statements(kind, message, now),
            ]
        )

    def _housekeeping(self) -> None:
        """Warn (once) about kinds nobody sends; forget old idempotency keys."""
        with self._lock:
            kinds = [
                kind
                for (kind,) in self._db.execute(
                    "SELECT DISTINCT kind FROM outbox_items WHERE state = 'pending'"
                )
            ]
            self._db.execute(
                "DELETE FROM outbox_items WHERE state = 'sent' AND finished < ?",
                (self._clock() - self._keep_sent,),
            )
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
