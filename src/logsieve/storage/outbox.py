"""The storage interface of the notification outbox (``notify/outbox.py`` depends on this only).

The outbox's scheduler (token buckets, workers, retry policy) lives in ``notify/``; what it
keeps is here: the queued items, per kind and per destination counters, and the queries its
fair scheduling needs. ``outbox_sqlite.py`` is the embedded implementation (``outbox.db``); a
scale-out engine implements the same protocol.

Every write is durable on return and atomic (one transaction). A closed store raises
``RuntimeError("the outbox is closed")``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

PENDING, SENT, GIVEN_UP = "pending", "sent", "given_up"

# One item to add: (kind, payload, key, destination).
Entry = tuple[str, bytes, "str | None", str]


@dataclass(frozen=True)
class QueuedItem:
    """A pending item handed to a worker."""

    id: int
    dest: str
    payload: bytes
    attempts: int
    first_attempt: float | None
    next_attempt: float


@dataclass(frozen=True)
class FailingDestination:
    """A destination whose last attempt failed and that still has items waiting."""

    kind: str
    dest: str
    failed_attempts: int
    last_error: str | None
    last_error_time: float | None
    pending: int


@dataclass(frozen=True)
class KindCounters:
    kind: str
    sent: int
    failed_attempts: int
    last_error: str | None
    last_error_time: float | None


@dataclass(frozen=True)
class OutboxCounts:
    """What ``Outbox.status`` is built from, read in one go."""

    # (kind, state, count, oldest created) for every state but "sent"
    states: list[tuple[str, str, int, float]] = field(default_factory=list)
    kinds: list[KindCounters] = field(default_factory=list)
    last_sent: Mapping[str, float | None] = field(default_factory=dict)  # per kind
    failing: list[FailingDestination] = field(default_factory=list)  # newest error first


class OutboxStore(Protocol):
    """Items to send, kept until sent (then only an idempotency key) or given up (until
    redriven). Ids increase in enqueue order and are never reused; order within a
    destination is id order."""

    def enqueue(self, entries: Sequence[Entry], now: float) -> list[str]:
        """Add the items in one transaction, skipping those whose key is already enqueued
        for their kind; the kinds of the items added (one per item)."""
        ...

    def ready(
        self,
        kind: str,
        now: float,
        busy: Mapping[str, int],
        per_destination: int,
        inflight: Sequence[int],
        free: int,
    ) -> tuple[list[QueuedItem], float | None]:
        """Up to ``free`` due items of ``kind`` to start now, oldest first, never more than
        ``per_destination`` in flight for one destination (counting ``busy``), never behind
        an earlier item of the same destination that waits for its retry, never one of
        ``inflight``; and when the next waiting item is due (None if none waits)."""
        ...

    def mark_sent(self, kind: str, dest: str, item_id: int, now: float) -> None:
        """Sent: a keyless item is forgotten, a keyed one keeps only its key."""
        ...

    def mark_failed(
        self,
        kind: str,
        dest: str,
        item_id: int,
        first: float,
        next_attempt: float,
        message: str,
        now: float,
    ) -> None:
        """One failed attempt; the item is tried again at ``next_attempt``."""
        ...

    def mark_given_up(
        self,
        kind: str,
        dest: str,
        item_id: int,
        first: float,
        message: str,
        now: float,
        window: float | None,
    ) -> None:
        """Give the item up; with ``window``, also the same destination's pending items
        created at least ``window`` seconds before ``now`` (with the message, annotated)."""
        ...

    def pending_entries(self) -> list[tuple[int, Entry]]:
        """Every pending item as enqueued, (id, (kind, payload, key, dest)), in id order:
        what a copy to another store must still send."""
        ...

    def pending_kinds(self) -> list[str]:
        """The kinds that have pending items."""
        ...

    def prune(self, cutoff: float) -> None:
        """Forget sent items' keys finished before ``cutoff``, and the counters of
        destinations idle since then with nothing pending."""
        ...

    def change_marker(self) -> int:
        """A number that changes when another connection or process commits to the store."""
        ...

    def counts(self) -> OutboxCounts: ...

    def failures(self, limit: int) -> list[dict[str, Any]]:
        """Given-up items, newest first: id, kind, key, payload, attempts, error, created,
        first_attempt, given_up_at."""
        ...

    def redrive(self, ids: Iterable[int] | None, kind: str | None, now: float) -> int:
        """Put given-up items (all, these ids, or this kind's) back in the queue; how many."""
        ...

    def close(self) -> None:
        """Idempotent."""
        ...
