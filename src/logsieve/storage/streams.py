"""The storage interface of Kinesis-compatible data streams (``kinesis/`` depends on this only).

Kept apart from the log store on purpose: records live in their own database file, so a busy
stream never waits behind log ingestion's writer (and the reverse). ``streams_sqlite.py`` is the
embedded implementation; a scale-out engine implements the same protocol.

Record positions are plain integers (``seq``) assigned by the store, unique across every stream
the store has ever held and increasing in commit order: the service turns them into AWS's 56-digit
sequence numbers, and an iterator position on a deleted-then-recreated stream never skips the new
stream's records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol


@dataclass(frozen=True)
class StreamRow:
    """One stream's metadata as stored."""

    id: int
    name: str
    shard_count: int
    mode: str  # PROVISIONED | ON_DEMAND
    status: str  # CREATING | DELETING | ACTIVE | UPDATING
    created_ms: int
    retention_hours: int
    max_record_kib: int


class NewRecord(NamedTuple):
    """A record to append: the shard it was routed to, its partition key and its bytes."""

    shard: int
    partition_key: str
    data: bytes


class StoredRecord(NamedTuple):
    seq: int
    shard: int
    arrival_ms: int
    partition_key: str
    data: bytes


class StreamStore(Protocol):
    """Streams, their records and tags. Every write is durable (fsynced) when it returns."""

    def create_stream(
        self,
        name: str,
        shard_count: int,
        mode: str,
        now: int,
        retention_hours: int,
        max_record_kib: int,
        tags: Mapping[str, str],
    ) -> StreamRow | None:
        """The new stream (status ACTIVE), or None if the name is taken."""
        ...

    def delete_stream(self, stream_id: int) -> bool:
        """Remove the stream at once; its records become unreachable and are purged later.

        False when it was already gone: of concurrent deletes exactly one gets True."""
        ...

    def stream(self, name: str) -> StreamRow | None: ...
    def streams(self, after: str | None, limit: int) -> list[StreamRow]:
        """Streams by name (ascending), strictly after ``after``."""
        ...

    def total_shards(self) -> int: ...
    def set_retention(self, stream_id: int, hours: int) -> None: ...

    def append(self, stream_id: int, records: Sequence[NewRecord], now: int) -> list[int] | None:
        """Store the records in one transaction, stamped ``now`` (ms); their ``seq`` in order.

        None when the stream no longer exists (deleted concurrently): nothing was stored.
        """
        ...

    def read(
        self,
        stream_id: int,
        shard: int,
        start: int,
        not_before: int,
        limit: int,
        max_bytes: int,
    ) -> list[StoredRecord]:
        """A shard's records with ``seq >= start`` and ``arrival_ms >= not_before``, in order.

        At most ``limit`` records; stops before the record that would take the data over
        ``max_bytes`` (but always returns at least one record if there is one).
        """
        ...

    def first(self, stream_id: int, shard: int, start: int, not_before: int) -> StoredRecord | None:
        """The first record ``read`` would return (None if the shard has none yet)."""
        ...

    def first_arrived(self, stream_id: int, shard: int, at: int) -> StoredRecord | None:
        """The shard's first record that arrived at or after ``at`` (ms), if any."""
        ...

    def last_seq(self, stream_id: int, shard: int) -> int:
        """The newest ``seq`` in the shard (0 if it is empty)."""
        ...

    def tags(self, stream_id: int) -> dict[str, str]: ...
    def set_tags(self, stream_id: int, tags: Mapping[str, str]) -> None: ...
    def remove_tags(self, stream_id: int, keys: Sequence[str]) -> None: ...

    def signing_key(self) -> bytes:
        """A random secret created with the store: shard iterators signed with it stay valid
        across restarts (for their five minutes)."""
        ...

    def expire(self, now: int) -> int:
        """Delete records past their stream's retention, and those of deleted streams.

        Returns how many were deleted.
        """
        ...

    def close(self) -> None: ...
