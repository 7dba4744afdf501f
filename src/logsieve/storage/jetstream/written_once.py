"""Records written once and never changed (event history, alarm history) in a KV bucket, read
through a per-store cache: each read lists the keys from the stream's leader (so it sees every
committed write) and fetches only the keys it has not read before. Forgetting purges a key's
subject, which leaves no marker behind, so the key leaves the list.

Seqs for such records come from a counter increased once per batch (``reserve``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from .connection import Connection
from .records import load

__all__ = ["WrittenOnce", "reserve"]


async def reserve(conn: Connection, counter: str, count: int) -> int:
    """The first of ``count`` consecutive new values of ``counter`` (one request)."""
    ack = await conn.retrying(
        conn.js.publish, conn.subject("counter", counter), b"", headers={"Nats-Incr": f"+{count}"}
    )
    return int(ack.val) - count + 1


class WrittenOnce:
    """The records under ``<prefix>.*`` of ``bucket``; use from the connection's loop only."""

    def __init__(self, conn: Connection, bucket: str, prefix: str) -> None:
        self._conn = conn
        self._bucket = bucket
        self._prefix = prefix
        self._seen: dict[str, dict[str, Any]] = {}

    def _subject(self, key: str = "*") -> str:
        return f"$KV.{self._conn.name(self._bucket)}.{key}"

    def _stream(self) -> str:
        return f"KV_{self._conn.name(self._bucket)}"

    async def all(self) -> dict[str, dict[str, Any]]:
        """Every live record by key (a copy, in no particular order)."""
        pattern = self._subject(f"{self._prefix}.*")
        info = await self._conn.retrying(
            self._conn.js.stream_info, self._stream(), subjects_filter=pattern
        )
        start = len(self._subject(""))
        keys = {subject[start:] for subject in info.state.subjects or {}}
        for gone in self._seen.keys() - keys:
            del self._seen[gone]
        missing = sorted(keys - self._seen.keys())
        found = await asyncio.gather(*(load(self._conn, self._bucket, k) for k in missing))
        for key, loaded in zip(missing, found, strict=True):
            if loaded is not None:
                self._seen[key] = loaded[0]
        return dict(self._seen)

    async def forget(self, keys: list[str]) -> None:
        """Purge ``keys`` (a purge by subject: nothing left of them)."""
        for key in keys:
            await self._conn.retrying(
                self._conn.js.purge_stream, self._stream(), subject=self._subject(key)
            )
            self._seen.pop(key, None)
