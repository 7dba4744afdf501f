"""The storage interface of SNS-compatible topics and subscriptions (``sns/`` depends on this only).

Its own database file (``sns.db``), like the Kinesis streams: topic metadata is tiny and rarely
written, and must never wait behind log ingestion. ``topics_sqlite.py`` is the embedded
implementation; a scale-out engine implements the same protocol.

Rows carry a ``seq`` assigned by the store in creation order: listings page by it (AWS lists in
a stable order and hands out opaque ``NextToken`` strings), and it is never reused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class TopicRow:
    """One topic as stored: the attributes a caller set (not the computed ones) and tags."""

    arn: str
    name: str
    attributes: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)  # insertion order kept
    created_ms: int = 0
    subscriptions_deleted: int = 0  # GetTopicAttributes' SubscriptionsDeleted counter
    seq: int = 0


@dataclass(frozen=True)
class SubscriptionRow:
    """One subscription: where to deliver, and whether its owner has confirmed it yet."""

    arn: str
    topic_arn: str
    protocol: str
    endpoint: str
    owner: str
    attributes: dict[str, str] = field(default_factory=dict)  # as set (RawMessageDelivery...)
    pending: bool = False  # PendingConfirmation
    token: str = ""  # the confirmation token sent to the endpoint
    authenticated: bool = False  # ConfirmationWasAuthenticated (AuthenticateOnUnsubscribe)
    created_ms: int = 0
    seq: int = 0


class TopicStore(Protocol):
    """Durable topics and subscriptions. Every method is thread-safe and durable on return."""

    def create_topic(self, row: TopicRow) -> tuple[TopicRow, bool]:
        """Insert ``row`` unless a topic with its ARN exists: (the stored row, created?)."""
        ...

    def get_topic(self, arn: str) -> TopicRow | None: ...

    def list_topics(self, after_seq: int, limit: int) -> Sequence[TopicRow]:
        """Topics with ``seq > after_seq`` in creation order, at most ``limit``."""
        ...

    def update_topic(
        self,
        arn: str,
        attributes: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> TopicRow | None:
        """Replace the topic's attributes and/or tags; None when the topic does not exist."""
        ...

    def delete_topic(self, arn: str) -> bool:
        """Delete a topic and all its subscriptions; False when there was none."""
        ...

    def add_subscription(self, row: SubscriptionRow) -> tuple[SubscriptionRow, bool]:
        """Insert ``row`` unless its topic already has a subscription with the same protocol
        and endpoint: (the stored row, created?). The topic must exist (ValueError)."""
        ...

    def get_subscription(self, arn: str) -> SubscriptionRow | None: ...

    def subscription_by_token(self, token: str) -> SubscriptionRow | None: ...

    def confirm_subscription(self, arn: str, authenticated: bool) -> SubscriptionRow | None:
        """Mark a subscription confirmed (once confirmed, ``authenticated`` only turns on)."""
        ...

    def set_subscription_attributes(
        self, arn: str, attributes: Mapping[str, str]
    ) -> SubscriptionRow | None: ...

    def delete_subscription(self, arn: str) -> SubscriptionRow | None:
        """Delete a subscription (counted in its topic's SubscriptionsDeleted); the deleted row,
        or None when there was none."""
        ...

    def list_subscriptions(
        self, topic_arn: str | None, after_seq: int, limit: int
    ) -> Sequence[SubscriptionRow]:
        """Subscriptions (of one topic, or all) with ``seq > after_seq``, in creation order."""
        ...

    def topic_subscriptions(self, topic_arn: str) -> Sequence[SubscriptionRow]:
        """Every subscription of a topic (Publish fans out to the confirmed ones)."""
        ...

    def close(self) -> None: ...
