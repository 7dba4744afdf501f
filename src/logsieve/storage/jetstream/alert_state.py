"""``AlertStateStore`` on JetStream: one KV bucket, every transaction one atomic batch.

Keys (names hex-encoded, see ``records.name_key``): ``s.<rule>.<event>`` seen inputs,
``d.<rule>.<key>`` dedup keys, ``w.<rule>.<kind>.<group>`` windows, ``o.<seq>`` decided
notifications with ``k.<key>`` holding their idempotency key while they wait.

Inside ``transaction()`` writes are buffered (and read back from the buffer) and published at
the end as one ADR-50 atomic batch, so a state change and its notifications commit together or
not at all, as SQLite's transaction does. "Insert if absent" writes (``mark_seen``, the
outbox's key) carry the revision they saw: if another node wrote the key meanwhile the whole
batch fails with ``KeyWrongLastSequenceError`` and nothing is stored, so two nodes never both
decide on one input. Outside a transaction each call commits on its own.

Scans (due windows, pending notifications, counts, prune) read the matching keys with
``records.scan`` each (one read per key, through the leader): fine for the engine's timer,
linear in the bucket's live keys.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import orjson

from ..alert_state import PendingNotification
from .atomic import MAX_BATCH, Write, commit, open_bucket
from .options import JetStreamOptions
from .records import absent, id_key, load, name_key, scan

__all__ = ["JetStreamAlertStateStore"]

_BUCKET = "alert_state"
_COUNTER = "alert_outbox"
_KINDS = {"seen": "s", "dedup": "d", "windows": "w", "outbox": "o"}


def _key(kind: str, *names: str) -> str:
    return ".".join((kind, *map(name_key, names)))


def _names(key: str) -> list[str]:
    return [
        bytes.fromhex(part).decode("utf-8") if part != "-" else "" for part in key.split(".")[1:]
    ]


class JetStreamAlertStateStore:
    """``AlertStateStore`` in the bucket ``<namespace>_alert_state``."""

    def __init__(self, options: JetStreamOptions) -> None:
        self._conn, self._kv = open_bucket(options, "alert-state", _BUCKET)
        self._buffer: dict[str, Write] | None = None

    # -- writes: buffered in a transaction, else committed at once ----------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[object]:
        if self._buffer is not None:  # joins the open one
            yield self
            return
        self._buffer = {}
        try:
            yield self
            writes = list(self._buffer.values())
        finally:
            self._buffer = None
        self._conn.run(commit(self._conn, _BUCKET, writes))

    def _write(self, *writes: Write) -> None:
        if self._buffer is None:
            self._conn.run(commit(self._conn, _BUCKET, writes))
            return
        for write in writes:
            earlier = self._buffer.get(write.key)
            expect = earlier.expect if earlier is not None else write.expect
            self._buffer[write.key] = Write(write.key, write.value, expect)

    def _read(self, key: str) -> dict[str, Any] | None:
        if self._buffer is not None and key in self._buffer:
            value = self._buffer[key].value
            return None if value is None else orjson.loads(value)
        found = self._conn.run(load(self._conn, _BUCKET, key))
        return found[0] if found else None

    def _absent(self, key: str) -> int | None:
        """The revision to expect for creating ``key``; None if it exists."""
        if self._buffer is not None and key in self._buffer:
            return None if self._buffer[key].value is not None else self._buffer[key].expect
        return self._conn.run(absent(self._conn, _BUCKET, key))

    def _scan(self, kind: str) -> dict[str, dict[str, Any]]:
        found = self._conn.run(scan(self._conn, _BUCKET, f"{kind}.>"))
        if self._buffer is not None:
            for key, write in self._buffer.items():
                if key.startswith(kind + "."):
                    if write.value is None:
                        found.pop(key, None)
                    else:
                        found[key] = orjson.loads(write.value)
        return dict(sorted(found.items()))

    # -- the protocol -----------------------------------------------------------------------

    def mark_seen(self, rule: str, event_id: str, wall: int) -> bool:
        key = _key("s", rule, event_id)
        expect = self._absent(key)
        if expect is None:
            return False
        self._write(Write(key, orjson.dumps({"wall": wall}), expect))
        return True

    def dedup_get(self, rule: str, key: str) -> int | None:
        found = self._read(_key("d", rule, key))
        return None if found is None else int(found["event_ms"])

    def dedup_put(self, rule: str, key: str, event_ms: int, expires: int) -> None:
        record = {"event_ms": event_ms, "expires": expires}
        self._write(Write(_key("d", rule, key), orjson.dumps(record)))

    def window_get(self, rule: str, kind: str, group: str) -> dict[str, Any] | None:
        found = self._read(_key("w", rule, kind, group))
        return None if found is None else found["state"]

    def window_put(
        self,
        rule: str,
        kind: str,
        group: str,
        state: dict[str, Any],
        due: int | None,
        expires: int,
    ) -> None:
        record = {"state": state, "due": due, "expires": expires}
        self._write(Write(_key("w", rule, kind, group), orjson.dumps(record)))

    def dedup_entries(self) -> list[tuple[str, str, int, int]]:
        found = [
            (rule, key, int(record["event_ms"]), int(record["expires"]))
            for name, record in self._scan("d").items()
            for rule, key in [_names(name)]
        ]
        return sorted(found)

    def windows(self) -> list[tuple[str, str, str, dict[str, Any], int | None, int]]:
        found = [
            (rule, kind, group, record["state"], record["due"], int(record["expires"]))
            for name, record in self._scan("w").items()
            for rule, kind, group in [_names(name)]
        ]
        return sorted(found, key=lambda row: row[:3])

    def window_delete(self, rule: str, kind: str, group: str) -> None:
        self._write(Write(_key("w", rule, kind, group), None))

    def windows_due(self, now: int | None) -> list[tuple[str, str, str, dict[str, Any]]]:
        due = [
            (record["due"], *_names(key), record["state"])
            for key, record in self._scan("w").items()
            if record["due"] is not None and (now is None or record["due"] <= now)
        ]
        due.sort(key=lambda row: row[:4])
        return [(rule, kind, group, state) for _, rule, kind, group, state in due]

    def outbox_add(self, key: str, channel: str, notification: dict[str, Any], wall: int) -> None:
        marker = _key("k", key)
        expect = self._absent(marker)
        if expect is None:
            return
        seq = self._conn.run(self._conn.next_id(_COUNTER))
        record = {"key": key, "channel": channel, "notification": notification, "wall": wall}
        self._write(
            Write(marker, orjson.dumps({"seq": seq}), expect),
            Write(f"o.{id_key(seq)}", orjson.dumps(record), 0),
        )

    def outbox_pending(self, limit: int = 1000) -> list[PendingNotification]:
        waiting = list(self._scan("o").items())[:limit]
        return [(int(key[2:]), r["key"], r["channel"], r["notification"]) for key, r in waiting]

    def outbox_done(self, seq: int) -> None:
        key = f"o.{id_key(seq)}"
        found = self._read(key)
        if found is not None:
            self._write(Write(key, None), Write(_key("k", found["key"]), None))

    def prune(self, now: int, seen_before: int) -> None:
        gone = [key for key, r in self._scan("s").items() if r["wall"] < seen_before]
        gone += [key for key, r in self._scan("d").items() if r["expires"] < now]
        gone += [
            key for key, r in self._scan("w").items() if r["due"] is None and r["expires"] < now
        ]
        for start in range(0, len(gone), MAX_BATCH):  # each batch atomic, the whole need not be
            self._write(*(Write(key, None) for key in gone[start : start + MAX_BATCH]))

    def counts(self) -> dict[str, int]:
        return {name: len(self._scan(kind)) for name, kind in _KINDS.items()}

    def close(self) -> None:
        self._conn.close()
