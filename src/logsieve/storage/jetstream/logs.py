"""``LogsStore`` and ``SourcePositions`` on JetStream: one object, four parts by job.

- logs_metadata.py: log groups, streams and tags (KV bucket ``<namespace>_logs``);
- logs_filters.py: metric and subscription filters, cursors and consumer values (same bucket);
- logs_partitions.py: the event log's P streams (``<namespace>_logs``, ``<namespace>_logs_<p>``),
  a group's events in partition ``group id % P``;
- logs_events.py: the event log; logs_positions.py: the sources' positions;
- logs_index.py: every node's index of each partition's chunks, which reads and the
  streams' figures come from.

What differs from the SQLite store (each for a reason given in its module):
- ``[storage] partitions`` events streams, each with its own RAFT leader; a cursor is a seq
  in its group's partition (``last_seq(group_id)``), see logs_partitions.py;
- a stream's figures (first/last event time, stored bytes) and a group's stored bytes are
  read-your-writes on the node that wrote, eventually consistent on the others (within the
  time their index takes to apply a message; AWS documents them as eventually consistent);
  an expiry leaves first/last event times as they were, as SQLite does, but a node started
  after it computes them from the chunks left;
- an append checks its stream in KV (then trusts it until a deletion marker or 60 s), then
  publishes: a chunk racing a delete on another node is stored but never read, and goes with
  the next ``expire``; SQLite refuses it inside one transaction. The append then waits for its
  chunk in this node's index and is refused (``Deleted``) if a marker before the chunk named
  its group or stream, so a put made after a delete returned on any node is refused;
- ``group(name)`` and ``stream(group_id, name)`` are cached per node (logs_lookups.py): a
  delete reaches them with the deletion marker, a group's retention set on another node
  within 1 s; for the index's lag after a group is deleted and made again under its name on
  another node, this node still names the old one (its writes answer not-found);
- every node indexes every retained chunk in memory (about 200 bytes each) and replays the
  stream's headers when it starts (1,000 chunks of 1,000 events: 0.2-0.5 s);
- a chunk is one message: the server's ``max_payload`` must hold a 1 MB PutLogEvents batch
  as JSON (``logsieve cluster up`` sets 8 MB; the NATS default of 1 MB can refuse batches
  of escaped or short messages).
"""

from __future__ import annotations

import contextlib

from .atomic import open_bucket
from .logs_filters import FiltersPart
from .logs_lookups import Lookups
from .logs_metadata import BUCKET, MetadataPart
from .logs_partitions import open_partitions
from .logs_positions import PositionsPart
from .options import JetStreamOptions

__all__ = ["JetStreamLogsStore"]


class JetStreamLogsStore(PositionsPart, FiltersPart, MetadataPart):
    """``LogsStore`` and ``SourcePositions`` on one cluster connection."""

    def __init__(self, options: JetStreamOptions) -> None:
        self._conn, self._kv = conn, kv = open_bucket(options, "logs", BUCKET)
        self._known_streams = {}
        self._clean = set()
        self._parts = []
        try:
            self._parts = conn.setup(open_partitions(conn, kv, options.partitions))
            self._lookups = Lookups(self._index_of)
        except BaseException:
            self._stop_indexes()
            conn.close()
            raise

    def _stop_indexes(self) -> None:
        for part in self._parts:
            with contextlib.suppress(Exception):  # closing the connection drops it anyway
                self._conn.run(part.index.stop(), self._conn.options.timeout_seconds)

    def close(self) -> None:
        self._stop_indexes()
        self._conn.close()
