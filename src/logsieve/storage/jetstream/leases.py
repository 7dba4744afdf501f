"""``Leases`` on JetStream: one KV key per lease, every write a compare-and-set.

Key ``<hex(name)>``, value ``{"node", "expires_ms"}``; the token is the KV revision of the
write (the stream sequence: it only grows, across every node). Acquiring reads the key through
the stream's leader and writes expecting that revision, so of two nodes racing for a free or
expired lease exactly one wins (the other gets "wrong last sequence": not held). A renewal
expects the revision of the holder's last write, so it fails once anyone else wrote. A release
writes ``expires_ms`` 0 (the key stays, so the next token is still larger).

Expiry is in the value, not a per-key TTL: the server removes expired messages on a coarse
timer (up to a second late), and a takeover must come within 5 s of a node's death.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence

import orjson
from nats.js.errors import KeyWrongLastSequenceError

from ..leases import Lease
from .atomic import open_bucket
from .records import _last, name_key, scan

__all__ = ["JetStreamLeases"]

_BUCKET = "leases"


def _now_ms() -> int:
    return int(time.time() * 1000)


class JetStreamLeases:
    """``Leases`` in the bucket ``<namespace>_leases``, shared by every node."""

    shared = True

    def __init__(self, options: object) -> None:
        self._conn, self._kv = open_bucket(options, "leases", _BUCKET, atomic=False)  # type: ignore[arg-type]

    async def _current(self, name: str) -> tuple[Lease | None, int]:
        """The lease of ``name`` as stored, expired or not (None if never written), and the
        revision a write must expect."""
        found = await _last(self._conn, _BUCKET, name_key(name))
        if found is None:
            return None, 0
        value, rev = found
        if value is None:
            return None, rev
        record = orjson.loads(value)
        return Lease(name, record["node"], rev, record["expires_ms"]), rev

    async def _write(self, name: str, node: str, ttl_ms: int, expect: int) -> Lease | None:
        expires = _now_ms() + ttl_ms
        value = orjson.dumps({"node": node, "expires_ms": expires})
        try:
            token = await self._conn.retrying(self._kv.update, name_key(name), value, last=expect)
        except KeyWrongLastSequenceError:
            return None
        return Lease(name, node, token, expires)

    async def _acquire(self, name: str, node: str, ttl_ms: int) -> Lease | None:
        current, expect = await self._current(name)
        if current is not None and current.node != node and current.expires_ms > _now_ms():
            return None
        return await self._write(name, node, ttl_ms, expect)

    async def _renew(self, lease: Lease, ttl_ms: int) -> Lease | None:
        if lease.expires_ms <= _now_ms():
            return None
        return await self._write(lease.name, lease.node, ttl_ms, lease.token)

    def acquire(self, name: str, node: str, ttl_ms: int) -> Lease | None:
        return self._conn.run(self._acquire(name, node, ttl_ms))

    def renew(self, lease: Lease, ttl_ms: int) -> Lease | None:
        return self._conn.run(self._renew(lease, ttl_ms))

    def renew_many(self, leases: Sequence[Lease], ttl_ms: int) -> list[Lease | None]:
        async def renew_all() -> list[Lease | None]:
            return list(await asyncio.gather(*(self._renew(lease, ttl_ms) for lease in leases)))

        return self._conn.run(renew_all())

    def release(self, lease: Lease) -> None:
        async def release() -> None:
            value = orjson.dumps({"node": lease.node, "expires_ms": 0})
            with contextlib.suppress(KeyWrongLastSequenceError):  # no longer ours: nothing
                await self._conn.retrying(
                    self._kv.update, name_key(lease.name), value, last=lease.token
                )

        self._conn.run(release())

    def valid(self, lease: Lease) -> bool:
        current, _ = self._conn.run(self._current(lease.name))
        return current == lease and lease.expires_ms > _now_ms()

    def held(self, prefix: str = "") -> list[Lease]:
        async def held() -> list[Lease]:
            keys = await scan(self._conn, _BUCKET, ">")
            start = name_key(prefix) if prefix else ""
            names = [bytes.fromhex(key).decode() for key in keys if key.startswith(start)]
            found = await asyncio.gather(*(self._current(name) for name in names))
            now = _now_ms()
            return [lease for lease, _ in found if lease is not None and lease.expires_ms > now]

        return self._conn.run(held())

    def close(self) -> None:
        self._conn.close()
