"""Atomic batch publish (ADR-50, server 2.12+): several KV writes that commit together or not
at all, each optionally conditional on its key's last revision. nats-py 2.16 has the header
names but no helper.

The first message is a request (the server answers at once if the stream refuses batches),
the middle ones plain publishes, the last a request carrying the commit; a failed condition
fails the whole batch with err_code 10071 and stores nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from nats.js.errors import KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from .connection import Connection
from .options import JetStreamOptions

__all__ = ["MAX_BATCH", "Write", "allow_atomic", "commit", "publish_batch"]

MAX_BATCH = 1000  # the server's limit of messages per batch
_WRONG_LAST = 10071
# "wrong last sequence" without a sequence: the condition's key has a write of a concurrent
# batch not yet applied (seen racing two nodes' inserts): the same lost race
_WRONG_LAST_IN_FLIGHT = 10164


@dataclass(frozen=True)
class Write:
    """Put ``value`` at ``key`` (None: delete it); with ``expect``, only if the key's last
    revision is that (0: never written)."""

    key: str
    value: bytes | None
    expect: int | None = None


async def allow_atomic(conn: Connection, kv: KeyValue, bucket: str) -> None:
    """Turn on atomic batches for a bucket's stream (KeyValueConfig cannot say it)."""
    stream = f"KV_{conn.name(bucket)}"
    info = await conn.retrying(conn.js.stream_info, stream)
    if not info.config.allow_atomic:
        info.config.allow_atomic = True
        await conn.retrying(conn.js.update_stream, info.config)


def open_bucket(
    options: JetStreamOptions, client: str, bucket: str, atomic: bool = True
) -> tuple[Connection, KeyValue]:
    """A store's connection (named ``client``) and its KV bucket, with the id counters and,
    when ``atomic``, atomic batches allowed; the connection is closed if any step fails."""
    conn = Connection(options, client)
    try:
        conn.setup(conn.ensure_counters())
        kv: KeyValue = conn.setup(conn.ensure_kv(bucket))
        if atomic:
            conn.setup(allow_atomic(conn, kv, bucket))
    except BaseException:
        conn.close()
        raise
    return conn, kv


async def commit(conn: Connection, bucket: str, writes: Sequence[Write]) -> None:
    """Publish ``writes`` as one atomic batch; ``KeyWrongLastSequenceError`` when a condition
    failed (nothing stored)."""
    prefix = f"$KV.{conn.name(bucket)}."
    messages = []
    for write in writes:
        headers = {"KV-Operation": "DEL"} if write.value is None else {}
        if write.expect is not None:
            headers["Nats-Expected-Last-Subject-Sequence"] = str(write.expect)
        messages.append((prefix + write.key, write.value or b"", headers))
    await publish_batch(conn, messages)


async def publish_batch(
    conn: Connection, messages: Sequence[tuple[str, bytes, dict[str, str]]]
) -> int:
    """Publish (subject, payload, headers) ``messages`` to one stream as an atomic batch; the
    last one's stream sequence (they get consecutive ones), 0 when there are none.
    ``KeyWrongLastSequenceError`` when an expected-last-sequence header failed (nothing
    stored)."""
    if not messages:
        return 0
    if len(messages) > MAX_BATCH:
        raise ValueError(f"an atomic batch holds at most {MAX_BATCH} messages")
    batch = uuid.uuid4().hex
    timeout = conn.options.timeout_seconds
    last_seq = 0
    for number, (subject, payload, extra) in enumerate(messages, start=1):
        headers = {**extra, "Nats-Batch-Id": batch, "Nats-Batch-Sequence": str(number)}
        last = number == len(messages)
        if last:
            headers["Nats-Batch-Commit"] = "1"
        if last or number == 1:
            reply = await conn.retrying(
                conn.nc.request, subject, payload, timeout=timeout, headers=headers
            )
            last_seq = _check(reply.data, last)
        else:
            await conn.nc.publish(subject, payload, headers=headers)
    return last_seq


def _check(data: bytes, last: bool) -> int:
    """A batch reply's stream sequence (0 for the first message's empty reply)."""
    if not data and not last:
        return 0
    answer = orjson.loads(data)
    error = answer.get("error")
    if error is None:
        return int(answer.get("seq", 0))
    if error.get("err_code") in (_WRONG_LAST, _WRONG_LAST_IN_FLIGHT):
        raise KeyWrongLastSequenceError(description=error.get("description"))
    raise RuntimeError(f"atomic batch failed: {error.get('description')} ({error})")
