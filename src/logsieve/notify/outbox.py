"""A durable outbox: what must reach a person is written down before anyone tries to send it.

Alerts and SNS deliveries are enqueued here (one SQLite file in the data directory, WAL,
``synchronous=FULL``), so an item accepted by :meth:`Outbox.enqueue` survives a crash and is
sent at least once. Each *kind* ("channel:ops-slack", "sns-http", ...) has its own sender,
rate limit, retry policy and worker task, so a slow or broken service never holds up another;
within a kind, items are scheduled fairly per *destination* (endpoint, recipient), so a dead or
hanging endpoint holds back only itself (see :class:`Outbox`).
Items that cannot be delivered are never dropped: they stay in the file as "given up", with the
error, until re-driven (:meth:`Outbox.redrive`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
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

__all__ = ["DeliveryFailed", "Entry", "Outbox"]

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
    finished REAL,                  -- when sent or given up
    dest TEXT NOT NULL DEFAULT ''   -- the destination (endpoint, address): scheduled fairly
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
CREATE TABLE IF NOT EXISTS outbox_destinations (
    kind TEXT NOT NULL,
    dest TEXT NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_error_time REAL,
    last_sent_time REAL,
    PRIMARY KEY (kind, dest)
);
"""
# After the migration of files written before destinations existed (no ``dest`` column).
_DEST_INDEXES = """
CREATE INDEX IF NOT EXISTS outbox_items_waiting ON outbox_items (kind, next_attempt)
    WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS outbox_items_dest ON outbox_items (kind, dest, id)
    WHERE state = 'pending';
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
    concurrency: int  # items in flight for the whole kind
    per_destination: int  # items in flight for one destination
    attempt_timeout: float | None  # an attempt without an answer by then has failed
    event: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(frozen=True)
class _Item:
    id: int
    dest: str
    payload: bytes
    attempts: int
    first_attempt: float | None
    next_attempt: float


# One item to add with :meth:`Outbox.enqueue_many`: (kind, payload, key, destination).
Entry = tuple[str, bytes, "str | None", str]


class Outbox:
    """Durable queue of things to send (SQLite file in the data dir, WAL, synchronous=FULL):
    an item enqueued survives a crash and is sent at least once; an idempotency key makes
    enqueue a no-op for an item already enqueued (so redelivered alerts never double-send).

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
        _migrate(self._db)
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
        rows = []
        now = self._clock()
        for kind, payload, key, dest in entries:
            if not isinstance(payload, bytes | bytearray | memoryview):
                raise TypeError(f"payload must be bytes, not {type(payload).__name__}")
            rows.append((kind, key, bytes(payload), PENDING, now, now, dest))
        if not rows:
            return 0
        with self._lock:
            self._check_open()
            with transaction(self._db):
                added = sum(
                    self._db.execute(
                        "INSERT OR IGNORE INTO outbox_items (kind, key, payload, state, created, "
                        "next_attempt, dest) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        row,
                    ).rowcount
                    for row in rows
                )
        if added:
            for kind in {row[0] for row in rows}:
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
                        ready, due = await self._io_call(
                            self._ready, kind, self._clock(), busy,
                            registration.per_destination, list(inflight), free,
                        )  # fmt: skip
                    except sqlite3.Error as exc:
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
        except sqlite3.Error as exc:  # the item stays pending and is tried again
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
            await self._io_call(self._mark_sent, kind, item.dest, item.id)
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
                self._mark_given_up, kind, item.dest, item.id, first, message, now, window
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
            self._mark_failed, kind, item.dest, item.id, first, next_attempt, message, now
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
        with self._lock:
            self._check_open()
            counts = self._db.execute(
                "SELECT kind, state, COUNT(*), MIN(created) FROM outbox_items "
                "WHERE state != 'sent' GROUP BY kind, state"
            ).fetchall()
            stats = self._db.execute(
                "SELECT kind, sent, failed_attempts, last_error, last_error_time FROM outbox_kinds"
            ).fetchall()
            recovered = dict(
                self._db.execute(
                    "SELECT kind, MAX(last_sent_time) FROM outbox_destinations GROUP BY kind"
                ).fetchall()
            )
            failing = self._db.execute(
                "SELECT d.kind, d.dest, d.failed_attempts, d.last_error, d.last_error_time, "
                "(SELECT COUNT(*) FROM outbox_items i WHERE i.kind = d.kind AND i.dest = d.dest "
                " AND i.state = 'pending') AS pending "
                "FROM outbox_destinations d WHERE d.last_error_time IS NOT NULL "
                "AND d.last_error_time > COALESCE(d.last_sent_time, 0) AND pending > 0 "
                "ORDER BY d.last_error_time DESC"
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
                    "past_error": None,
                    "past_error_time": None,
                    "recovered_time": None,
                    "failing_destinations": [],
                    "oldest_pending_age": None,
                },
            )

        for kind in self._kinds:
            row(kind)
        for kind, dest, failed, error, error_time, pending in failing:
            row(kind)["failing_destinations"].append(
                {
                    "destination": dest or kind,
                    "pending": pending,
                    "failed_attempts": failed,
                    "last_error": error,
                    "last_error_time": error_time,
                }
            )
        for kind, sent, failed, error, error_time in stats:
            entry = row(kind)
            entry.update(sent=sent, failed_attempts=failed)
            if entry["failing_destinations"]:
                newest = entry["failing_destinations"][0]
                entry.update(last_error=newest["last_error"], last_error_time=error_time)
            elif error is not None:
                entry.update(
                    past_error=error, past_error_time=error_time, recovered_time=recovered.get(kind)
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

    def _ready(
        self,
        kind: str,
        now: float,
        busy: dict[str, int],
        per_destination: int,
        inflight: list[int],
        free: int,
    ) -> tuple[list[_Item], float | None]:
        """Up to ``free`` items to start now, oldest first, never more than ``per_destination``
        in flight for one destination (counting ``busy``), never behind an earlier item of the
        same destination that waits for its retry; and when the next waiting item is due.

        A destination whose quota fills is left out of the next query, so a long queue for
        one destination costs one pass, never a stall of the others.
        """
        busy = dict(busy)
        chosen: list[_Item] = []
        with self._lock:
            while len(chosen) < free:
                full = [dest for dest, count in busy.items() if count >= per_destination]
                taken = inflight + [item.id for item in chosen]
                limit = free - len(chosen)
                found = self._db.execute(
                    "WITH waiting (dest, first) AS (SELECT dest, MIN(id) FROM outbox_items "
                    "  WHERE kind = ?1 AND state = 'pending' AND next_attempt > ?2 GROUP BY dest) "
                    "SELECT o.id, o.dest, o.payload, o.attempts, o.first_attempt, o.next_attempt "
                    "FROM outbox_items o LEFT JOIN waiting w ON w.dest = o.dest "
                    "WHERE o.kind = ?1 AND o.state = 'pending' AND o.next_attempt <= ?2 "
                    "AND (w.first IS NULL OR o.id < w.first) "
                    "AND o.dest NOT IN (SELECT value FROM json_each(?3)) "
                    "AND o.id NOT IN (SELECT value FROM json_each(?4)) "
                    "ORDER BY o.id LIMIT ?5",
                    (kind, now, json.dumps(full), json.dumps(taken), limit),
                ).fetchall()
                progress = False
                for entry in found:
                    item = _Item(*entry)
                    if busy.get(item.dest, 0) >= per_destination:
                        continue
                    busy[item.dest] = busy.get(item.dest, 0) + 1
                    chosen.append(item)
                    progress = True
                    if len(chosen) >= free:
                        break
                if len(found) < limit or not progress:  # no more candidates
                    break
            due = self._db.execute(
                "SELECT MIN(next_attempt) FROM outbox_items "
                "WHERE kind = ? AND state = 'pending' AND next_attempt > ?",
                (kind, now),
            ).fetchone()[0]
        return chosen, due

    def _write(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        """Run statements as one transaction (one fsync)."""
        with self._lock, transaction(self._db):
            for sql, params in statements:
                self._db.execute(sql, params)

    _ENSURE_KIND = "INSERT OR IGNORE INTO outbox_kinds (kind) VALUES (?)"
    _ENSURE_DEST = "INSERT OR IGNORE INTO outbox_destinations (kind, dest) VALUES (?, ?)"

    def _mark_sent(self, kind: str, dest: str, item_id: int) -> None:
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
                (self._ENSURE_DEST, (kind, dest)),
                (
                    "UPDATE outbox_destinations SET sent = sent + 1, last_sent_time = ? "
                    "WHERE kind = ? AND dest = ?",
                    (now, kind, dest),
                ),
            ]
        )

    def _failed_statements(
        self, kind: str, dest: str, message: str, now: float
    ) -> list[tuple[str, tuple[Any, ...]]]:
        return [
            (self._ENSURE_KIND, (kind,)),
            (
                "UPDATE outbox_kinds SET failed_attempts = failed_attempts + 1, last_error = ?, "
                "last_error_time = ? WHERE kind = ?",
                (message, now, kind),
            ),
            (self._ENSURE_DEST, (kind, dest)),
            (
                "UPDATE outbox_destinations SET failed_attempts = failed_attempts + 1, "
                "last_error = ?, last_error_time = ? WHERE kind = ? AND dest = ?",
                (message, now, kind, dest),
            ),
        ]

    def _mark_failed(
        self,
        kind: str,
        dest: str,
        item_id: int,
        first: float,
        next_attempt: float,
        message: str,
        now: float,
    ) -> None:
        self._write(
            [
                (
                    "UPDATE outbox_items SET attempts = attempts + 1, first_attempt = ?, "
                    "next_attempt = ?, last_error = ? WHERE id = ?",
                    (first, next_attempt, message, item_id),
                ),
                *self._failed_statements(kind, dest, message, now),
            ]
        )

    def _mark_given_up(
        self,
        kind: str,
        dest: str,
        item_id: int,
        first: float,
        message: str,
        now: float,
        window: float | None,
    ) -> None:
        """Give the item up; with ``window`` (its retry window ran out), also the items of the
        same destination queued at least that long ago, with the same error."""
        statements: list[tuple[str, tuple[Any, ...]]] = [
            (
                "UPDATE outbox_items SET state = 'given_up', attempts = attempts + 1, "
                "first_attempt = ?, last_error = ?, finished = ? WHERE id = ?",
                (first, message, now, item_id),
            ),
            *self._failed_statements(kind, dest, message, now),
        ]
        if window is not None:
            statements.append(
                (
                    "UPDATE outbox_items SET state = 'given_up', last_error = ?, finished = ? "
                    "WHERE kind = ? AND dest = ? AND state = 'pending' AND created <= ?",
                    (f"{message} (its destination failed for its whole retry window)", now,
                     kind, dest, now - window),
                )
            )  # fmt: skip
        self._write(statements)

    def _housekeeping(self) -> None:
        """Warn (once) about kinds nobody sends; forget old idempotency keys and idle
        destinations."""
        with self._lock:
            kinds = [
                kind
                for (kind,) in self._db.execute(
                    "SELECT DISTINCT kind FROM outbox_items WHERE state = 'pending'"
                )
            ]
            cutoff = self._clock() - self._keep_sent
            self._db.execute(
                "DELETE FROM outbox_items WHERE state = 'sent' AND finished < ?", (cutoff,)
            )
            # Destinations (endpoints, addresses) come and go: forget the idle ones' counters.
            self._db.execute(
                "DELETE FROM outbox_destinations WHERE MAX(COALESCE(last_sent_time, 0), "
                "COALESCE(last_error_time, 0)) < ? AND NOT EXISTS (SELECT 1 FROM outbox_items i "
                "WHERE i.kind = outbox_destinations.kind AND i.dest = outbox_destinations.dest "
                "AND i.state = 'pending')",
                (cutoff,),
            )
        for kind in kinds:
            if kind not in self._kinds and kind not in self._warned:
                self._warned.add(kind)
                log.warning(
                    "event=outbox_unregistered_kind kind=%s note='items are kept until a "
                    "sender for this kind is configured again'",
                    kind,
                )


def _migrate(db: sqlite3.Connection) -> None:
    """Files written before destinations existed: add the ``dest`` column ("" for old items,
    one destination per kind as before), then the indexes that need it."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(outbox_items)")}
    if "dest" not in columns:
        db.execute("ALTER TABLE outbox_items ADD COLUMN dest TEXT NOT NULL DEFAULT ''")
    db.executescript(_DEST_INDEXES)


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
