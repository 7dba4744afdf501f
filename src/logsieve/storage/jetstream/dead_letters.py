"""``DeadLetters`` on JetStream: one KV record per letter, ids from a cluster-wide counter.

Letters are rare (a subscription giving up) and few, so listing scans the bucket's keys and
``pending_events`` sums the pending ones; updates are compare-and-set, so two nodes recording
failures of one letter never lose an attempt.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import orjson

from ..records import DeadLetter
from .atomic import open_bucket
from .options import JetStreamOptions
from .records import id_key, load, modify, scan

__all__ = ["JetStreamDeadLetterStore"]

_COUNTER = _BUCKET = "dead_letters"


def _encode(letter: DeadLetter) -> bytes:
    record = dataclasses.asdict(letter)
    record["data"] = base64.b64encode(letter.data).decode("ascii")
    return orjson.dumps(record)


def _decode(record: dict[str, Any]) -> DeadLetter:
    return DeadLetter(**{**record, "data": base64.b64decode(record["data"])})


class JetStreamDeadLetterStore:
    """``DeadLetters`` in the bucket ``<namespace>_dead_letters``."""

    def __init__(self, options: JetStreamOptions) -> None:
        self._conn, self._kv = open_bucket(options, "dead-letters", _BUCKET, atomic=False)

    def add(self, letter: DeadLetter) -> int:
        async def add() -> int:
            letter_id = await self._conn.next_id(_COUNTER)
            stored = dataclasses.replace(letter, id=letter_id, redriven=None)
            await self._conn.retrying(self._kv.create, id_key(letter_id), _encode(stored))
            return letter_id

        return self._conn.run(add())

    def get(self, letter_id: int) -> DeadLetter | None:
        found = self._conn.run(load(self._conn, _BUCKET, id_key(letter_id)))
        return _decode(found[0]) if found else None

    def _all(self) -> list[DeadLetter]:
        found = self._conn.run(scan(self._conn, _BUCKET, ">"))
        return [_decode(record) for record in found.values()]  # zero-padded ids: id order

    def list(self, include_redriven: bool = False, limit: int = 1000) -> list[DeadLetter]:
        letters = [x for x in self._all() if include_redriven or x.redriven is None]
        return letters[:limit]

    def pending_events(self, group_name: str, filter_name: str) -> int:
        return sum(
            letter.event_count
            for letter in self._all()
            if letter.redriven is None
            and (letter.group_name, letter.filter_name) == (group_name, filter_name)
        )

    def mark_redriven(self, letter_id: int, now: int) -> None:
        self._conn.run(
            modify(
                self._conn, self._kv, _BUCKET, id_key(letter_id), lambda r: {**r, "redriven": now}
            )
        )

    def record_failure(self, letter_id: int, error: str) -> None:
        def failed(record: dict[str, Any]) -> dict[str, Any]:
            return {**record, "attempts": record["attempts"] + 1, "error": error}

        self._conn.run(modify(self._conn, self._kv, _BUCKET, id_key(letter_id), failed))

    def close(self) -> None:
        self._conn.close()
