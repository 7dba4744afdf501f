"""KV helpers every JetStream store shares: JSON values, sorted keys, compare-and-set.

Keys of records with integer ids are zero-padded decimal, so the bucket's key order is id
order; names go into keys hex-encoded (scaleout-console.md §3.3: hex keeps byte order and
prefixes, and KV keys allow only ``[-/_=.A-Za-z0-9]``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson
from nats.errors import NoRespondersError
from nats.js.errors import (
    APIError,
    KeyWrongLastSequenceError,
    NotFoundError,
    ServiceUnavailableError,
)
from nats.js.kv import KeyValue

from .connection import Connection

__all__ = [
    "absent",
    "id_key",
    "keys",
    "load",
    "modify",
    "name_key",
    "purge_before",
    "revision",
    "scan",
]

_ID_DIGITS = 20  # a u64 in decimal


def id_key(item_id: int) -> str:
    return f"{item_id:0{_ID_DIGITS}d}"


def name_key(name: str) -> str:
    return name.encode("utf-8").hex() or "-"


async def _last(conn: Connection, bucket: str, key: str) -> tuple[bytes | None, int] | None:
    """The last message of ``key`` read through the stream's leader: (value, revision), value
    None for a delete marker; None if the key was never written.

    Not ``kv.get``: KV buckets allow direct gets, which any replica answers, so a node could
    miss the write it just made (scaleout-console.md §3.6: no read-your-writes).
    """
    name = conn.name(bucket)
    try:
        msg = await conn.retrying(conn.js.get_last_msg, f"KV_{name}", f"$KV.{name}.{key}")
    except NotFoundError:
        return None
    headers = msg.headers or {}
    deleted = headers.get("KV-Operation") in ("DEL", "PURGE") or "Nats-Marker-Reason" in headers
    return (None if deleted else msg.data or b""), msg.seq or 0


async def load(conn: Connection, bucket: str, key: str) -> tuple[dict[str, Any], int] | None:
    """The JSON record at ``key`` and its revision, or None if absent (or deleted)."""
    found = await _last(conn, bucket, key)
    if found is None or found[0] is None:
        return None
    return orjson.loads(found[0]), found[1]


async def modify(
    conn: Connection,
    kv: KeyValue,
    bucket: str,
    key: str,
    change: Callable[[dict[str, Any]], dict[str, Any] | None],
) -> bool:
    """Apply ``change`` to the record at ``key`` with compare-and-set, again on a lost race;
    False when the key is absent. ``change`` returning None leaves the record as it is."""
    while True:
        found = await load(conn, bucket, key)
        if found is None:
            return False
        record, revision = found
        new = change(record)
        if new is None:
            return True
        try:
            await conn.retrying(kv.update, key, orjson.dumps(new), last=revision)
            return True
        except KeyWrongLastSequenceError:
            continue


async def revision(conn: Connection, bucket: str, key: str) -> int:
    """The last revision of ``key`` in ``bucket``: 0 if never written, its tombstone's if
    deleted (what a write expecting the key absent must name)."""
    found = await _last(conn, bucket, key)
    return 0 if found is None else found[1]


async def absent(conn: Connection, bucket: str, key: str) -> int | None:
    """The revision a write creating ``key`` must expect (0, or its tombstone's), or None when
    the key exists: one read for "insert if absent"."""
    found = await _last(conn, bucket, key)
    if found is None:
        return 0
    return found[1] if found[0] is None else None


async def scan(conn: Connection, bucket: str, pattern: str) -> dict[str, dict[str, Any]]:
    """Every live record whose key matches ``pattern`` (``a.*.b``, ``a.>``), in key order.

    The keys from one STREAM.INFO, then each key's last message, all through the stream's
    leader (a KV watch is an ordered consumer that a lagging replica may serve, missing the
    newest writes). One request per key: for small buckets; a mirror kept by a watch, made
    consistent by waiting for the leader's last sequence, is the way for big ones.
    """
    subjects = await keys(conn, bucket, pattern)
    values = await asyncio.gather(*(_last(conn, bucket, key) for key in subjects))
    return {
        key: orjson.loads(found[0])
        for key, found in zip(subjects, values, strict=True)
        if found is not None and found[0] is not None
    }


async def keys(conn: Connection, bucket: str, pattern: str) -> list[str]:
    """The keys matching ``pattern`` that have a message (live or a delete marker), sorted:
    from one STREAM.INFO, answered by the stream's leader."""
    name = conn.name(bucket)
    prefix = f"$KV.{name}."
    info = await conn.retrying(conn.js.stream_info, f"KV_{name}", subjects_filter=prefix + pattern)
    return sorted(subject.removeprefix(prefix) for subject in info.state.subjects or {})


async def purge_before(conn: Connection, bucket: str, key: str, seq: int) -> int:
    """Remove ``key``'s messages older than stream sequence ``seq``, leaving no marker: how
    many were removed. A write of the key made meanwhile (a later sequence) stays, and the
    stream's sequence does not go back, so later revisions are still larger than any before.
    nats-py's ``purge_stream`` does not say how many it removed."""
    name = conn.name(bucket)
    request = orjson.dumps({"filter": f"$KV.{name}.{key}", "seq": seq})
    timeout = conn.options.timeout_seconds

    async def purge() -> int:
        try:
            reply = await conn.nc.request(f"$JS.API.STREAM.PURGE.KV_{name}", request, timeout)
        except NoRespondersError:
            raise ServiceUnavailableError from None  # a leader being elected: retried
        answer = orjson.loads(reply.data)
        if "error" in answer:
            APIError.from_error(answer["error"])  # raises
        return int(answer.get("purged", 0))

    return int(await conn.retrying(purge))
