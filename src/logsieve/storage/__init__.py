"""Everything stateful, each kind behind a protocol services depend on.

``protocols.py`` (event log, log metadata, dead letters), ``streams.py``, ``topics.py``,
``outbox.py`` and ``alert_state.py`` are the protocols; ``sqlite.py`` and ``*_sqlite.py`` the
embedded implementations; ``factory.py`` (``open_stores``) the one place that picks the engine
and opens them. A scale-out engine (NATS JetStream) implements the same protocols.
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
from .source_positions import Chunk, SourcePositions
from .sqlite import SqliteStore

__all__ = [
    "STORE_ERRORS",
    "Chunk",
    "DeadLetter",
    "DeadLetters",
    "Deleted",
    "EventLog",
    "LogGroup",
    "LogStream",
    "LogsStore",
    "MetricFilter",
    "SourcePositions",
    "SqliteStore",
    "StoredEvent",
    "SubscriptionFilter",
    "event_id",
]
