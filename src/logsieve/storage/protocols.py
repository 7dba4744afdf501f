"""The storage interfaces services depend on (``*_sqlite.py`` and ``sqlite.py`` implement them)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from .records import DeadLetter, LogGroup, LogStream, MetricFilter, StoredEvent, SubscriptionFilter

Position = tuple[int, int]  # (timestamp, seq): the order events are read in

# What a store raises when its engine fails (a full disk, a locked file, a cluster that does
# not answer), for callers that log and try again later: SQLite's ``sqlite3.Error`` (``DiskFull``
# among them), JetStream's ``ClusterUnavailable`` (a ``ConnectionError``).
STORE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, ConnectionError)


class Deleted(LookupError):
    """A write named a log group or stream that was deleted after the caller looked it up.

    Checked inside the write's own transaction, so nothing was stored: a request racing a
    delete fails as if the lookup had come after it. ``kind`` is ``"group"`` or ``"stream"``.
    """

    def __init__(self, kind: str) -> None:
        super().__init__(f"the log {kind} no longer exists")
        self.kind = kind


class EventLog(Protocol):
    """The ordered, durable record of every accepted event, read forward by consumers.

    Besides the events: each consumer's cursor, and a little state per consumer
    (``consumer_value``), kept with the cursors so one engine holds a consumer's position and
    what decides it.
    """

    def append(
        self,
        group_id: int,
        stream_id: int,
        timestamps: Sequence[int],
        messages: Sequence[str],
        size: int,
        now: int,
    ) -> int:
        """Store one batch (sorted, spanning <= 24 h; ``size`` = UTF-8 bytes of the messages).

        Returns the first sequence number.

        Durable on return: the events survive a crash the instant after. Raises ``Deleted``
        (nothing stored) when the stream no longer exists.
        """
        ...

    def read_after(self, seq: int, limit: int, group_id: int | None = None) -> list[StoredEvent]:
        """Events with a sequence number greater than ``seq``, in append order.

        With ``group_id``, only that log group's events (the others are skipped unread).
        """
        ...

    def last_seq(self, group_id: int | None = None) -> int:
        """A sequence number no event appended so far exceeds: "the end of the log now".

        A cursor for one group starts from ``last_seq(group_id)``: on a partitioned engine
        (JetStream) seqs are ordered within the group's partition only."""
        ...

    def cursor(self, consumer: str) -> int:
        """The last sequence number ``consumer`` committed (0 if none)."""
        ...

    def commit_cursor(self, consumer: str, seq: int) -> None: ...

    def consumer_value(self, consumer: str, key: str) -> int | None:
        """A value ``consumer`` stored under ``key`` (None if none), e.g. when it started."""
        ...

    def set_consumer_value(self, consumer: str, key: str, value: int) -> None: ...

    def backlog(self, group_id: int, seq: int) -> tuple[int, int | None]:
        """A group's events after ``seq``: how many, and the oldest one's ingestion time."""
        ...

    def stream_events(
        self,
        stream_id: int,
        start: int | None,
        end: int | None,
        after: Position | None,
        before: Position | None,
        limit: int,
    ) -> list[StoredEvent]:
        """A stream's events in [start, end), ascending; with ``before`` the last ``limit`` ones."""
        ...

    def group_windows(
        self,
        group_id: int,
        stream_ids: Sequence[int] | None,
        start: int | None,
        end: int | None,
        after: Position | None,
        newest_first: bool = False,
    ) -> Iterator[list[StoredEvent]]:
        """A group's events in [start, end] in (timestamp, seq) order (or reversed), streamed
        as consecutive non-empty lists; close the iterator when stopping early."""
        ...

    def expire(self, now: int) -> int:
        """Delete events older than their group's retention; returns how many were deleted."""
        ...

    def close(self) -> None: ...


class LogsMetadata(Protocol):
    """Log groups and streams with their settings (retention, tags).

    Ids of groups and streams are never handed out again after a delete, and every write
    that names a group or stream checks in its own transaction that it still exists (else
    ``Deleted``): events or settings meant for a deleted resource never surface elsewhere.
    """

    def create_group(
        self, name: str, now: int, kms_key_id: str | None, log_group_class: str
    ) -> LogGroup | None:
        """The new group, or None if the name is taken."""
        ...

    def delete_group(self, group_id: int) -> None:
        """Delete the group with everything in it (events, filters, their cursors);
        ``Deleted`` if it is already gone, so of concurrent deletes exactly one succeeds."""
        ...

    def group(self, name: str) -> LogGroup | None: ...
    def groups(
        self,
        prefix: str | None,
        contains: str | None,
        log_group_class: str | None,
        after: str | None,
        limit: int,
    ) -> list[LogGroup]: ...
    def count_groups(self) -> int: ...
    def set_retention(self, group_id: int, days: int | None) -> None: ...

    def create_stream(self, group_id: int, name: str, now: int) -> LogStream | None:
        """The new stream, or None if the name is taken; ``Deleted`` if the group is gone."""
        ...

    def delete_stream(self, stream_id: int) -> None:
        """Delete the stream and its events; ``Deleted`` if it is already gone."""
        ...

    def stream(self, group_id: int, name: str) -> LogStream | None: ...
    def streams(
        self,
        group_id: int,
        prefix: str | None,
        by_last_event: bool,
        descending: bool,
        after: tuple[Any, ...] | None,
        limit: int,
    ) -> list[LogStream]: ...
    def stream_ids(
        self, group_id: int, names: Sequence[str] | None, prefix: str | None
    ) -> dict[int, str]: ...

    def tags(self, group_id: int) -> dict[str, str]: ...
    def set_tags(self, group_id: int, tags: dict[str, str]) -> None: ...
    def remove_tags(self, group_id: int, keys: Sequence[str]) -> None: ...

    def close(self) -> None: ...


class LogFilters(Protocol):
    """A log group's subscription filters (each a consumer of the event log) and metric filters.

    Writes naming a deleted group raise ``Deleted`` and store nothing.
    """

    def put_metric_filter(self, group_id: int, item: MetricFilter) -> None: ...
    def delete_metric_filter(self, group_id: int, name: str) -> bool: ...
    def count_metric_filters(self, group_id: int) -> int: ...
    def metric_filters(
        self,
        group_name: str | None,
        prefix: str | None,
        metric: tuple[str, str] | None,
        after: tuple[str, str] | list[str] | None,
        limit: int,
    ) -> list[MetricFilter]: ...

    def put_subscription_filter(self, item: SubscriptionFilter) -> None:
        """Create or replace; a new filter's cursor starts at the end of the event log."""
        ...

    def delete_subscription_filter(self, group_id: int, name: str) -> bool: ...
    def subscription_filters(
        self, group_id: int | None, prefix: str | None = None, after: str | None = None,
        limit: int = -1,
    ) -> list[SubscriptionFilter]: ...  # fmt: skip

    def close(self) -> None: ...


class LogsStore(EventLog, LogsMetadata, LogFilters, Protocol):
    """All three parts of CloudWatch Logs' state, for the callers that need them together
    (the Logs service, the subscription pumps).

    One engine keeps them together because writes span them: deleting a group deletes its
    events, filters and their cursors in one transaction, and a new subscription filter's
    cursor starts at the end of the log as it is when the filter is stored.
    """


class DeadLetters(Protocol):
    """Subscription payloads that could not be delivered, kept until an operator redrives them.

    Ids are never handed out again. A letter stays listed (as pending) until ``mark_redriven``.
    """

    def add(self, letter: DeadLetter) -> int:
        """Store ``letter`` durably (its ``id`` and ``redriven`` are ignored); its new id."""
        ...

    def get(self, letter_id: int) -> DeadLetter | None: ...

    def list(self, include_redriven: bool = False, limit: int = 1000) -> list[DeadLetter]:
        """Letters in id order; only the pending ones unless ``include_redriven``."""
        ...

    def pending_events(self, group_name: str, filter_name: str) -> int:
        """Events of a subscription still waiting here (not redriven)."""
        ...

    def mark_redriven(self, letter_id: int, now: int) -> None: ...

    def record_failure(self, letter_id: int, error: str) -> None:
        """One more failed attempt (a redrive that failed again), with its error."""
        ...

    def close(self) -> None: ...
