"""Plain records the storage layer returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def event_id(timestamp: int, seq: int) -> str:
    """AWS's 56-digit event id: the timestamp in the top bits, a unique counter below (§3.4)."""
    return f"{(timestamp << 144) | seq:056d}"


def parse_event_id(text: str) -> tuple[int, int]:
    """The (timestamp, seq) position an event id or a token built from one stands for."""
    value = int(text)
    return value >> 144, value & ((1 << 144) - 1)


@dataclass(frozen=True, slots=True)
class LogGroup:
    id: int
    name: str
    creation_time: int
    retention_days: int | None
    stored_bytes: int
    kms_key_id: str | None
    log_group_class: str


@dataclass(frozen=True, slots=True)
class LogStream:
    id: int
    group_id: int
    name: str
    creation_time: int
    first_event_timestamp: int | None
    last_event_timestamp: int | None
    last_ingestion_time: int | None
    stored_bytes: int


StoredEvent = tuple[int, int, int, int, int, str]
"""One stored event: ``(timestamp, seq, group_id, stream_id, ingestion_time, message)``.

A plain tuple, built by ``zip`` in C: constructing objects was most of the cost of reading a
million events a second. Its order is the read order, (timestamp, seq) first; ``seq`` is the
event's position in the event log, unique and increasing in append order.
"""


@dataclass(frozen=True, slots=True)
class MetricFilter:
    group_name: str
    name: str
    pattern: str
    transformations: list[dict[str, Any]]
    creation_time: int


@dataclass(frozen=True, slots=True)
class SubscriptionFilter:
    """A subscription filter definition; ``options`` holds the newer optional members as sent."""

    group_id: int
    group_name: str
    name: str
    pattern: str
    destination_arn: str
    role_arn: str | None
    distribution: str
    creation_time: int
    options: dict[str, Any]

    @property
    def consumer(self) -> str:
        """The event-log consumer name its delivery cursor is committed under."""
        return subscription_consumer(self.group_id, self.name)


def subscription_consumer(group_id: int, name: str) -> str:
    return f"subscription/{group_id}/{name}"


@dataclass(frozen=True)
class DeadLetter:
    """A subscription payload that could not be delivered, kept for an operator to redrive."""

    id: int
    created: int  # ms since the epoch
    group_name: str
    filter_name: str
    destination_arn: str
    log_stream: str
    event_count: int
    first_timestamp: int
    last_timestamp: int
    attempts: int
    error: str
    data: bytes  # the gzip'd awslogs payload
    redriven: int | None  # when it was re-delivered (ms), None while pending
