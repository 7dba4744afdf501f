"""The one place stores are opened: which engine, and (for SQLite) which file holds what.

Everything stateful in the server is reached through a protocol of this package and opened
here, so a second engine (NATS JetStream) is one more branch in :func:`open_stores`, not a
change in every component. Each store is opened when asked for and owned by whoever asked
(they close it in their own order: the event log last, after the workers that still write
to it).

On ``"jetstream"`` every store is one object with its own connection to the cluster
(storage/jetstream/); a store not yet implemented there raises ``NotOnJetStream`` naming it.

SQLite keeps each store in its own file so their writes never wait on one another (the
Kinesis streams never wait on log ingestion, a dead letter never waits on either).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .alarms import AlarmStore
from .alarms_sqlite import SqliteAlarmStore
from .alert_state import AlertStateStore
from .alert_state_sqlite import SqliteAlertStateStore
from .dead_letters_sqlite import SqliteDeadLetterStore
from .ec2 import Ec2Store
from .ec2_sqlite import SqliteEc2Store
from .jetstream.options import JetStreamOptions
from .leases import Leases
from .leases_sqlite import SqliteLeases
from .metrics import MetricStore
from .metrics_sqlite import SqliteMetricStore
from .outbox import OutboxStore
from .outbox_sqlite import SqliteOutboxStore
from .protocols import DeadLetters, LogsStore
from .signals import AppendSignals, LocalSignals
from .source_positions import SourcePositions
from .sqlite import SqliteStore
from .streams import StreamStore
from .streams_sqlite import SqliteStreamStore
from .topics import TopicStore
from .topics_sqlite import SqliteTopicStore
from .trails import TrailStore
from .trails_sqlite import SqliteTrailStore

__all__ = ["ENGINES", "FILES", "Stores", "open_alert_state", "open_outbox", "open_stores"]

ENGINES = ("sqlite", "jetstream")
T = TypeVar("T")

# The SQLite engine's files in the data directory, one per store.
FILES = {
    "logs": "logsieve.db",
    "streams": "kinesis.db",
    "topics": "sns.db",
    "dead_letters": "dead-letters.db",
    "outbox": "outbox.db",
    "alert_state": "alerts.db",
    "cloudtrail": "cloudtrail.db",
    "ec2": "ec2.db",
    "alarms": "alarms.db",
    "metrics": "metrics.db",
}

_MEMORY = ":memory:"
STOP_GRACE_SECONDS = 2.0  # how long a stopping server's in-flight cluster calls may still take


class Stores:
    """The stores of one data directory, each opened on demand by its method."""

    def __init__(
        self, data_dir: Path, engine: str = "sqlite", jetstream: JetStreamOptions | None = None
    ) -> None:
        if engine not in ENGINES:
            raise ValueError(f"unknown storage engine {engine!r}; known: {', '.join(ENGINES)}")
        self.data_dir = Path(data_dir)
        self.engine = engine
        self.jetstream = jetstream or JetStreamOptions()

    def _open(self, store: str, sqlite: Callable[[], T]) -> T:
        """``store`` on this engine: ``sqlite()`` on SQLite, else the JetStream one."""
        if self.engine == "sqlite":
            return sqlite()
        from .jetstream.stores import open_store

        opened: Any = open_store(store, self.jetstream)
        return opened

    def path(self, store: str) -> Path:
        """Where the SQLite engine keeps ``store`` (a key of ``FILES``)."""
        return self.data_dir / FILES[store]

    def logs(self) -> LogsStore:
        """Log groups, streams, filters and the event log."""
        return self._open("logs", lambda: SqliteStore(self.path("logs")))

    def source_positions(self, logs: LogsStore) -> SourcePositions:
        """The sources' positions, in the same database as ``logs`` (the store ``logs()``
        opened): a position commits in the transaction that appends its events."""
        if self.engine == "jetstream":  # in the JetStream logs store's own events stream
            return _same_database(logs)
        return self._open("source_positions", lambda: _same_database(logs))

    def streams(self) -> StreamStore:
        """The Kinesis-compatible streams."""
        return self._open("streams", lambda: SqliteStreamStore(self.path("streams")))

    def topics(self) -> TopicStore:
        """SNS-compatible topics and subscriptions."""
        return self._open("topics", lambda: SqliteTopicStore(self.path("topics")))

    def dead_letters(self) -> DeadLetters:
        return self._open("dead_letters", lambda: SqliteDeadLetterStore(self.path("dead_letters")))

    def outbox(self) -> OutboxStore:
        """The notification outbox's queue."""
        return self._open("outbox", lambda: SqliteOutboxStore(self.path("outbox")))

    def alert_state(self) -> AlertStateStore:
        return self._open("alert_state", lambda: SqliteAlertStateStore(self.path("alert_state")))

    def cloudtrail(self) -> TrailStore:
        """CloudTrail trails and the event history of recorded API calls."""
        return self._open("cloudtrail", lambda: SqliteTrailStore(self.path("cloudtrail")))

    def ec2(self) -> Ec2Store:
        """The EC2 subset's resources: VPCs, flow logs, Client VPN endpoints..."""
        return self._open("ec2", lambda: SqliteEc2Store(self.path("ec2")))

    def alarms(self) -> AlarmStore:
        """CloudWatch alarms and their history."""
        return self._open("alarms", lambda: SqliteAlarmStore(self.path("alarms")))

    def metrics(self) -> MetricStore:
        """CloudWatch metric observations (PutMetricData, metric filters, EMF)."""
        return self._open("metrics", lambda: SqliteMetricStore(self.path("metrics")))

    def leases(self) -> Leases:
        """Which node works which background job (no file: a SQLite server is one process,
        and its leases end with it)."""
        return self._open("leases", SqliteLeases)

    def signals(self) -> AppendSignals:
        """Appends told to the other nodes (none on SQLite: one process)."""
        return self._open("signals", LocalSignals)

    def stopping(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """The server is stopping: on JetStream, calls still waiting for the cluster after
        ``grace`` seconds give up (a healthy cluster answers well within it), so a node whose
        cluster is gone stops in seconds. Nothing on SQLite (its calls do not wait)."""
        if self.engine == "jetstream":
            from .jetstream.connection import cut_short_calls_after

            cut_short_calls_after(grace)


def _same_database(logs: LogsStore) -> SourcePositions:
    if not hasattr(logs, "append_at"):
        raise TypeError("source positions live in the event log's own store")
    return logs  # type: ignore[return-value]


def open_stores(
    data_dir: Path, engine: str = "sqlite", jetstream: JetStreamOptions | None = None
) -> Stores:
    """The stores of ``data_dir`` on ``engine`` (``[storage] engine``); ``jetstream``: how to
    reach the cluster when the engine is "jetstream" (``StorageSettings.jetstream``)."""
    return Stores(data_dir, engine, jetstream)


def open_outbox(path: Path) -> OutboxStore:
    """An outbox queue on one SQLite file (tools and tests that name the file)."""
    return SqliteOutboxStore(path)


def open_alert_state(path: Path | str) -> AlertStateStore:
    """Alert state in a data directory, in one SQLite file, or ``":memory:"`` (a dry run's
    private state, gone when closed)."""
    if str(path) == _MEMORY:
        return SqliteAlertStateStore(_MEMORY)
    path = Path(path)
    if path.is_dir():
        path = path / FILES["alert_state"]
    return SqliteAlertStateStore(path)
