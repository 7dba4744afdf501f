"""KV helpers every JetStream store shares: JSON values, sorted keys, compare-and-set.

Keys of records with integer ids are zero-padded decimal, so the bucket's key order is id
order; names go into keys hex-encoded (scaleout-console.md §3.3: hex keeps byte order and
prefixes, and KV keys allow only ``[-/_=.A-Za-z0-9]``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from nats.js.errors import (
    KeyDeletedError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
    NotFoundError,
)
from nats.js.kv import KeyValue

from .connection import Connection

__all__ = ["id_key", "keys", "load", "modify", "name_key", "revision", "scan"]

_ID_DIGITS = 20  # a u64 in decimal


def id_key(item_id: int) -> str:
    return f"{item_id:0{_ID_DIGITS}d}"


def name_key(name: str) -> str:
    return name.encode("utf-8").hex() or "-"


async def load(conn: Connection, kv: KeyValue, key: str) -> tuple[dict[str, Any], int] | None:
    """The JSON record at ``key`` and its revision, or None if absent (or deleted)."""
    try:
        entry = await conn.retrying(kv.get, key)
    except (KeyNotFoundError, KeyDeletedError):
        return None
    if entry.value is None:
        return None
    return orjson.loads(entry.value), entry.revision or 0


async def keys(conn: Connection, bucket: str) -> list[str]:
    """Every key of ``bucket`` (deleted ones included: ``load`` gives None), sorted.

    One STREAM.INFO request with a subjects filter rather than nats-py's ``kv.keys()`` (a
    watch, which stalls for seconds while a killed node's streams elect leaders). The server
    lists at most 100,000 subjects per answer: only for small, rarely listed buckets.
    """
    stream = f"KV_{conn.name(bucket)}"
    prefix = f"$KV.{conn.name(bucket)}."
    info = await conn.retrying(conn.js.stream_info, stream, subjects_filter=prefix + ">")
    return sorted(subject.removeprefix(prefix) for subject in info.state.subjects or {})


async def modify(
    conn: Connection,
    kv: KeyValue,
    key: str,
    change: Callable[[dict[str, Any]], dict[str, Any] | None],
) -> bool:
    """Apply ``change`` to the record at ``key`` with compare-and-set, again on a lost race;
    False when the key is absent. ``change`` returning None leaves the record as it is."""
    while True:
        found = await load(conn, kv, key)
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
    deleted (what a write expecting the key absent must name). Read from the stream's leader."""
    name = conn.name(bucket)
    try:
        found = await conn.retrying(conn.js.get_last_msg, f"KV_{name}", f"$KV.{name}.{key}")
    except NotFoundError:
        return 0
    return found.seq or 0


async def scan(conn: Connection, kv: KeyValue, pattern: str) -> dict[str, dict[str, Any]]:
    """Every live record whose key matches ``pattern`` (``a.*.b``, ``a.>``), in one pass of
    an ordered consumer (a KV watch), keyed by key in key order."""
    watcher = await conn.retrying(kv.watch, pattern, ignore_deletes=True)
    found: dict[str, dict[str, Any]] = {}
    try:
        while True:
            entry = await watcher.updates(conn.options.timeout_seconds)
            if entry is None:  # the initial values are all delivered
                break
            if entry.value:
                found[entry.key] = orjson.loads(entry.value)
    finally:
        await watcher.stop()
    return dict(sorted(found.items()))
