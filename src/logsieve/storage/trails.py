"""The storage interface of CloudTrail: trails and the event history (``cloudtrail/`` depends
on this only).

Its own database file (``cloudtrail.db``): recorded API calls arrive in batches from the
recorder's thread and must never wait behind log ingestion. ``trails_sqlite.py`` is the
embedded implementation; a scale-out engine implements the same protocol.

Events are listed newest first, as LookupEvents answers, and page by ``(time_ms, seq)``:
``seq`` is assigned by the store in append order and never reused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class TrailRow:
    """One trail: its settings as CloudTrail describes them (``S3BucketName``,
    ``CloudWatchLogsLogGroupArn``...), logging state, event selectors and delivery state."""

    arn: str
    name: str
    region: str
    settings: dict[str, Any] = field(default_factory=dict)
    #: Tag values may be None: CloudTrail keeps a tag added without a value as null.
    tags: dict[str, str | None] = field(default_factory=dict)
    logging: bool = False
    started_ms: int | None = None
    stopped_ms: int | None = None
    #: PutEventSelectors' selectors as sent; None until a caller sets them.
    event_selectors: list[dict[str, Any]] | None = None
    #: The last delivery to CloudWatch Logs: when it succeeded, and its error (None if none).
    delivered_ms: int | None = None
    delivery_error: str | None = None
    created_ms: int = 0


@dataclass(frozen=True)
class EventRow:
    """One recorded management event: the LookupEvents attributes, and the record itself."""

    event_id: str
    time_ms: int
    name: str
    source: str
    username: str | None
    access_key_id: str | None
    read_only: bool
    #: (type, name) of the resources the event names (LookupEvents' ResourceType/Name).
    resources: tuple[tuple[str, str], ...]
    #: The CloudTrail record as JSON text (LookupEvents' ``CloudTrailEvent``).
    record: str
    seq: int = 0


#: LookupEvents' attribute keys this store filters on (``ReadOnly`` takes "true"/"false").
LOOKUP_KEYS = (
    "EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName",
    "EventSource", "AccessKeyId",
)  # fmt: skip


class TrailStore(Protocol):
    """Durable trails and event history. Every method is thread-safe and durable on return."""

    def create_trail(self, row: TrailRow) -> bool:
        """Insert ``row`` unless a trail with its ARN exists; whether it was inserted."""
        ...

    def get_trail(self, arn: str) -> TrailRow | None: ...

    def list_trails(self) -> Sequence[TrailRow]:
        """Every trail, in creation order."""
        ...

    def put_trail(self, row: TrailRow) -> bool:
        """Replace the stored trail with ``row`` (same ARN); False when it does not exist."""
        ...

    def delete_trail(self, arn: str) -> bool: ...

    def append_events(self, events: Sequence[EventRow]) -> None:
        """Add recorded events to the history, all at once."""
        ...

    def lookup_events(
        self,
        start_ms: int,
        end_ms: int,
        attribute: tuple[str, str] | None,
        before: tuple[int, int] | None,
        limit: int,
    ) -> Sequence[EventRow]:
        """Events with ``start_ms <= time_ms <= end_ms`` matching ``attribute`` (a key of
        ``LOOKUP_KEYS`` and its value), newest first, strictly after the ``(time_ms, seq)``
        position ``before`` in that order; at most ``limit``."""
        ...

    def expire_events(self, before_ms: int) -> int:
        """Forget events older than ``before_ms`` (the history keeps 90 days); how many."""
        ...

    def close(self) -> None: ...
