"""The event log's partitions: P streams, a log group's events all in partition ``id % P``.

Each partition is a stream with its own RAFT leader (so P leaders share the writes), its own
chunk index (logs_index.py), deletion markers and source positions. Partition 0 is the stream
``<ns>_logs`` on the subjects ``<ns>.logs.>``, as before partitions existed, so a namespace
made with one partition keeps its events, ids and cursors; partition p > 0 is
``<ns>_logs_<p>`` on ``<ns>.logs_<p>.>``. A chunk's subject stays
``<root>.e.<p>.<group id>.<stream id>``.

An event's seq is ``p << PART_SHIFT | stream seq << SEQ_BITS | index``: partition 0's seqs
are the unpartitioned ones, seqs (so event ids, tokens, dead letters, alert dedup keys) never
collide across partitions, they fit 63 bits (stream seqs below 2**43), and within a partition
(so within a group) they grow with the stream. A cursor is a seq inside its group's
partition: "the end of the log" is asked per group (``last_seq(group_id)``).

P is fixed when the namespace is made (``PARTITIONS_KEY`` in the logs bucket): moving a
group to another partition would change its event ids. A node without ``partitions`` in its
configuration follows the stored count (``DEFAULT_PARTITIONS`` for a new namespace, 1 for one
whose events predate partitions), so upgrading nodes needs no change; a node configured with
another count refuses to start (``PartitionsMismatch``) rather than follow the stored value: an
explicit setting that silently did nothing would hide nodes configured differently.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from nats.js import api
from nats.js.errors import KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from logsieve.errors import ConfigError

from ..sqlite import _INDEX_MASK, SEQ_BITS
from .connection import Connection
from .logs_index import ChunkIndex
from .options import DEFAULT_PARTITIONS

__all__ = [
    "MAX_PARTITIONS",
    "PARTITIONS_KEY",
    "PART_SHIFT",
    "Partition",
    "PartitionsMismatch",
    "join",
    "open_partitions",
    "split",
    "stored_partitions",
]  # fmt: skip

MAX_PARTITIONS = 64
PART_SHIFT = 57  # 6 partition bits above 43 bits of stream seq and 14 of index
_MSG_MASK = (1 << (PART_SHIFT - SEQ_BITS)) - 1
PARTITIONS_KEY = "cfg.partitions"


class PartitionsMismatch(ConfigError):
    """This node's ``[storage] partitions`` differs from the namespace's stored count."""


def join(partition: int, msg_seq: int, index: int = 0) -> int:
    """An event seq from its partition, its chunk's stream seq and its index in the chunk."""
    return (partition << PART_SHIFT) | (msg_seq << SEQ_BITS) | index


def split(seq: int) -> tuple[int, int, int]:
    """(partition, chunk stream seq, index) of an event seq (or a cursor)."""
    return seq >> PART_SHIFT, (seq >> SEQ_BITS) & _MSG_MASK, seq & _INDEX_MASK


def root(partition: int) -> str:
    """The partition's subject token and stream name part."""
    return "logs" if partition == 0 else f"logs_{partition}"


@dataclass
class Partition:
    """One events stream and what this node knows of it."""

    number: int
    stream: str
    index: ChunkIndex
    root: str
    written: int = 0  # the last seq this node appended (read-your-writes)
    last_marker: int = 0  # the seq of the last deletion marker this node published
    marker_floor: int = 0  # ... as of the previous ``expire``, which purges the older ones

    def wrote(self, seq: int) -> None:
        self.written = max(self.written, seq)


async def stored_partitions(conn: Connection, kv: KeyValue, wanted: int) -> int:
    """The namespace's partition count, stored as ``wanted`` on first use; a namespace whose
    events stream predates partitions counts 1."""
    while True:
        try:
            entry = await kv.get(PARTITIONS_KEY)
        except Exception:  # KeyNotFoundError (absent or deleted)
            entry = None
        if entry is not None and entry.value:
            return int(orjson.loads(entry.value)["partitions"])
        first = wanted
        info = await conn.stream_if_any(conn.name(root(0)))
        if info is not None and (info.state.last_seq or 0) > 0:
            first = 1  # events written before partitions existed: one partition
        try:
            await conn.retrying(kv.create, PARTITIONS_KEY, orjson.dumps({"partitions": first}))
            return first
        except KeyWrongLastSequenceError:
            continue  # another node stored it first: read theirs


async def open_partitions(conn: Connection, kv: KeyValue, wanted: int | None) -> list[Partition]:
    """This namespace's partitions (streams made if missing, indexes following them);
    ``PartitionsMismatch`` if ``wanted`` is set and the namespace was made with another
    count."""
    stored = await stored_partitions(conn, kv, wanted or DEFAULT_PARTITIONS)
    if wanted is not None and stored != wanted:
        raise PartitionsMismatch(
            f"[storage] partitions = {wanted}, but namespace {conn.options.namespace!r} was "
            f"made with partitions = {stored} (fixed at creation: set partitions = {stored})"
        )
    parts = []
    for number in range(stored):
        token = root(number)
        stream = conn.name(token)
        config = api.StreamConfig(
            name=stream,
            subjects=[conn.subject(token, ">")],
            allow_direct=True,
            allow_atomic=True,
        )
        await conn.ensure_stream(config)
        index = ChunkIndex(conn, stream, conn.subject(token, "e") + ".")
        parts.append(Partition(number, stream, index, token))
    for part in parts:
        await part.index.start(conn.subject(part.root, ">"))
    return parts
