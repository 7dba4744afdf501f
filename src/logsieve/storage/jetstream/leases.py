"""``Leases`` on JetStream: one KV key per lease, every write a compare-and-set.

Key ``<hex(name)>``, value ``{"node", "expires_ms"}``; the token is the KV revision of the
write (the stream sequence: it only grows, across every node). Acquiring reads the key through
the stream's leader and writes expecting that revision, so of two nodes racing for a free or
expired lease exactly one wins (the other gets "wrong last sequence": not held). A renewal
expects the revision of the holder's last write, so it fails once anyone else wrote. A release
writes ``expires_ms`` 0.

``sweep`` purges the keys of leases expired long ago, each only up to the revision it saw
expired: an acquisition written meanwhile stays, and one that read the old revision fails its
compare-and-set (not held: the next round tries again). The stream sequence never goes back
on a purge, so a swept name's next token is still larger than any before.

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
from .records import _last, keys, name_key, purge_before

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

    async def _stored(self, prefix: str) -> list[Lease]:
        """Every stored lease whose name starts with ``prefix``, expired or not, by name."""
        start = name_key(prefix) if prefix else ""
        found = await keys(self._conn, _BUCKET, ">")
        names = [bytes.fromhex(key).decode() for key in found if key.startswith(start)]
        current = await asyncio.gather(*(self._current(name) for name in names))
        return [lease for lease, _ in current if lease is not None]

    def held(self, prefix: str = "") -> list[Lease]:
        stored = self._conn.run(self._stored(prefix))
        now = _now_ms()
        return [lease for lease in stored if lease.expires_ms > now]

    async def _purge(self, lease: Lease) -> bool:
        """Remove ``lease`` unless its name was written since (then that write stays)."""
        key = name_key(lease.name)
        return await purge_before(self._conn, _BUCKET, key, lease.token + 1) > 0

    def sweep(self, older_than_ms: int) -> int:
        async def sweep() -> int:
            cutoff = _now_ms() - older_than_ms
            old = [lease for lease in await self._stored("") if lease.expires_ms < cutoff]
            return sum(await asyncio.gather(*(self._purge(lease) for lease in old)))

        return self._conn.run(sweep())

    def close(self) -> None:
        self._conn.close()
