"""Everything stateful: the durable event log and the metadata of log groups and streams.

The protocols in ``protocols.py`` are what services depend on; ``sqlite.py`` is the embedded
implementation. A scale-out engine (NATS JetStream) implements the same protocols.
"""

from .protocols import STORE_ERRORS, DeadLetters, Deleted, EventLog, LogsStore
from .records import (
    DeadLetter,
    LogGroup,
    LogStream,
    MetricFilter,
    StoredEvent,
    SubscriptionFilter,
    event_id,
)
from .sqlite import SqliteStore

__all__ = [
    "STORE_ERRORS",
    "DeadLetter",
    "DeadLetters",
    "Deleted",
    "EventLog",
    "LogGroup",
    "LogStream",
    "LogsStore",
    "MetricFilter",
    "SqliteStore",
    "StoredEvent",
    "SubscriptionFilter",
    "event_id",
]
