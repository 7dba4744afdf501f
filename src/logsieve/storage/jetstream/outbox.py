"""``OutboxStore`` (the notification outbox's queue) on JetStream: one KV bucket.

Keys (kinds, keys and destinations hex-encoded): ``i.<kind>.<id>`` an item, ``k.<kind>.<key>``
an idempotency key (pointing at its item, kept while the item is kept), ``c.<kind>`` a kind's
counters, ``d.<kind>.<dest>`` a destination's. Every write is one atomic batch conditional on
the revisions it read, retried on a lost race: two nodes enqueueing one key add it once, and
counters never lose an increment. Ids come from a cluster-wide counter (increasing, never
reused).

The fair-scheduling query runs in Python over the kind's items, read with ``records.scan`` per
call: linear in the queue's length, fine for a notification queue. scaleout-console.md §3.5's
WorkQueue stream (one pull consumer per channel, ``Nats-Msg-Id`` = key) is the shape once
several nodes send from one queue; it needs the scheduler (``notify/``) to pull instead of
query.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import orjson
from nats.js.errors import KeyWrongLastSequenceError

from ..outbox import (
    GIVEN_UP,
    PENDING,
    SENT,
    Entry,
    FailingDestination,
    KindCounters,
    OutboxCounts,
    QueuedItem,
)
from .atomic import MAX_BATCH, Write, commit, open_bucket
from .options import JetStreamOptions
from .records import absent, id_key, load, name_key, revision, scan

__all__ = ["JetStreamOutboxStore"]

_BUCKET = "outbox"
Record = dict[str, Any]


def _item_key(kind: str, item_id: int) -> str:
    return f"i.{name_key(kind)}.{id_key(item_id)}"


def _queued(item: Record) -> QueuedItem:
    return QueuedItem(
        item["id"], item["dest"], _payload(item) or b"", item["attempts"],
        item["first_attempt"], item["next_attempt"],
    )  # fmt: skip


def _payload(item: Record) -> bytes | None:
    return None if item["payload"] is None else base64.b64decode(item["payload"])


class JetStreamOutboxStore:
    """``OutboxStore`` in the bucket ``<namespace>_outbox``."""

    def __init__(self, options: JetStreamOptions) -> None:
        self._conn, self._kv = open_bucket(options, "outbox", _BUCKET)
        self._closed = False

    # -- plumbing ----------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the outbox is closed")

    def _load(self, key: str) -> tuple[Record, int] | None:
        return self._conn.run(load(self._conn, _BUCKET, key))

    def _absent(self, key: str) -> int | None:
        return self._conn.run(absent(self._conn, _BUCKET, key))

    def _scan(self, pattern: str) -> dict[str, Record]:
        self._check_open()
        return self._conn.run(scan(self._conn, _BUCKET, pattern))

    def _items(self, kind: str | None = None) -> list[Record]:
        pattern = "i.>" if kind is None else f"i.{name_key(kind)}.>"
        return sorted(self._scan(pattern).values(), key=lambda item: item["id"])

    def _commit(self, writes: Sequence[Write]) -> None:
        for start in range(0, len(writes), MAX_BATCH):
            self._conn.run(commit(self._conn, _BUCKET, writes[start : start + MAX_BATCH]))

    def _retry(self, attempt: Callable[[], list[Write]]) -> None:
        """Build writes from what is stored now and commit them; again on a lost race."""
        self._check_open()
        while True:
            try:
                self._commit(attempt())
                return
            except KeyWrongLastSequenceError:
                continue

    def _counter(self, key: str, change: Callable[[Record], Record], blank: Record) -> Write:
        """The write applying ``change`` to the counters at ``key``, conditional on them."""
        found = self._load(key)
        if found is None:
            expect = self._conn.run(revision(self._conn, _BUCKET, key))
            return Write(key, orjson.dumps(change(dict(blank))), expect)
        return Write(key, orjson.dumps(change(found[0])), found[1])

    def _counted(self, kind: str, dest: str, change: Callable[[Record], Record]) -> list[Write]:
        kind_blank = {"sent": 0, "failed_attempts": 0, "last_error": None, "last_error_time": None}
        dest_blank = {**kind_blank, "last_sent_time": None}
        return [
            self._counter(f"c.{name_key(kind)}", change, {"kind": kind, **kind_blank}),
            self._counter(
                f"d.{name_key(kind)}.{name_key(dest)}", change, {"kind": kind, "dest": dest,
                                                                 **dest_blank}
            ),
        ]  # fmt: skip

    # -- the protocol ------------------------------------------------------------------------

    def enqueue(self, entries: Sequence[Entry], now: float) -> list[str]:
        added: list[str] = []

        def attempt() -> list[Write]:
            added.clear()
            writes: list[Write] = []
            claimed: set[str] = set()
            for kind, payload, key, dest in entries:
                item_id = self._conn.run(self._conn.next_id(_BUCKET))
                if key is not None:
                    marker = f"k.{name_key(kind)}.{name_key(key)}"
                    expect = None if marker in claimed else self._absent(marker)
                    if expect is None:
                        continue
                    claimed.add(marker)
                    writes.append(Write(marker, orjson.dumps({"id": item_id}), expect))
                item = {
                    "id": item_id, "kind": kind, "key": key, "dest": dest, "state": PENDING,
                    "payload": base64.b64encode(payload).decode("ascii"), "created": now,
                    "attempts": 0, "first_attempt": None, "next_attempt": now,
                    "last_error": None, "finished": None,
                }  # fmt: skip
                writes.append(Write(_item_key(kind, item_id), orjson.dumps(item), 0))
                added.append(kind)
            return writes

        self._retry(attempt)
        return list(added)

    def ready(
        self,
        kind: str,
        now: float,
        busy: Mapping[str, int],
        per_destination: int,
        inflight: Sequence[int],
        free: int,
    ) -> tuple[list[QueuedItem], float | None]:
        pending = [item for item in self._items(kind) if item["state"] == PENDING]
        waiting: dict[str, int] = {}  # dest -> first item waiting for its retry
        for item in pending:
            if item["next_attempt"] > now:
                waiting.setdefault(item["dest"], item["id"])
        counts, taken = dict(busy), set(inflight)
        chosen: list[QueuedItem] = []
        for item in pending:
            if len(chosen) >= free:
                break
            dest = item["dest"]
            if item["next_attempt"] > now or item["id"] in taken:
                continue
            if dest in waiting and item["id"] > waiting[dest]:
                continue
            if counts.get(dest, 0) >= per_destination:
                continue
            counts[dest] = counts.get(dest, 0) + 1
            chosen.append(_queued(item))
        due = min((i["next_attempt"] for i in pending if i["next_attempt"] > now), default=None)
        return chosen, due

    def _item_writes(self, kind: str, item_id: int, change: Callable[[Record], Record | None]):
        key = _item_key(kind, item_id)
        found = self._load(key)
        if found is None:
            return []
        item, rev = found
        new = change(item)
        if new is None:  # forgotten
            writes = [Write(key, None, rev)]
            if item["key"] is not None:
                writes.append(Write(f"k.{name_key(kind)}.{name_key(item['key'])}", None))
            return writes
        return [Write(key, orjson.dumps(new), rev)]

    def mark_sent(self, kind: str, dest: str, item_id: int, now: float) -> None:
        def sent(item: Record) -> Record | None:
            if item["key"] is None:
                return None
            return {**item, "state": SENT, "payload": None, "finished": now,
                    "attempts": item["attempts"] + 1}  # fmt: skip

        def count(record: Record) -> Record:
            record = {**record, "sent": record["sent"] + 1}
            if "dest" in record:
                record["last_sent_time"] = now
            return record

        self._retry(
            lambda: self._item_writes(kind, item_id, sent) + self._counted(kind, dest, count)
        )

    def _failed(self, kind: str, dest: str, message: str, now: float) -> list[Write]:
        def count(record: Record) -> Record:
            return {**record, "failed_attempts": record["failed_attempts"] + 1,
                    "last_error": message, "last_error_time": now}  # fmt: skip

        return self._counted(kind, dest, count)

    def mark_failed(
        self,
        kind: str,
        dest: str,
        item_id: int,
        first: float,
        next_attempt: float,
        message: str,
        now: float,
    ) -> None:
        def failed(item: Record) -> Record:
            return {**item, "attempts": item["attempts"] + 1, "first_attempt": first,
                    "next_attempt": next_attempt, "last_error": message}  # fmt: skip

        self._retry(
            lambda: (
                self._item_writes(kind, item_id, failed) + self._failed(kind, dest, message, now)
            )
        )

    def mark_given_up(
        self,
        kind: str,
        dest: str,
        item_id: int,
        first: float,
        message: str,
        now: float,
        window: float | None,
    ) -> None:
        def given_up(item: Record) -> Record:
            return {**item, "state": GIVEN_UP, "attempts": item["attempts"] + 1,
                    "first_attempt": first, "last_error": message, "finished": now}  # fmt: skip

        def attempt() -> list[Write]:
            writes = self._item_writes(kind, item_id, given_up)
            writes += self._failed(kind, dest, message, now)
            if window is not None:
                note = f"{message} (its destination failed for its whole retry window)"
                for item in self._items(kind):
                    if (item["id"] != item_id and item["dest"] == dest and item["state"] == PENDING
                            and item["created"] <= now - window):  # fmt: skip
                        old = {**item, "state": GIVEN_UP, "last_error": note, "finished": now}
                        writes.append(self._rewrite(kind, item, old))
            return writes

        self._retry(attempt)

    def _rewrite(self, kind: str, item: Record, new: Record) -> Write:
        key = _item_key(kind, item["id"])
        found = self._load(key)
        return Write(key, orjson.dumps(new), found[1] if found else 0)

    def pending_entries(self) -> list[tuple[int, Entry]]:
        return [
            (item["id"], (item["kind"], _payload(item) or b"", item["key"], item["dest"]))
            for item in self._items()
            if item["state"] == PENDING
        ]

    def pending_kinds(self) -> list[str]:
        return sorted({item["kind"] for item in self._items() if item["state"] == PENDING})

    def prune(self, cutoff: float) -> None:
        items = self._items()
        writes = []
        for item in items:
            if item["state"] == SENT and item["finished"] < cutoff:
                writes.append(Write(_item_key(item["kind"], item["id"]), None))
                if item["key"] is not None:
                    marker = f"k.{name_key(item['kind'])}.{name_key(item['key'])}"
                    writes.append(Write(marker, None))
        pending = {(i["kind"], i["dest"]) for i in items if i["state"] == PENDING}
        for key, dest in self._scan("d.>").items():
            idle = max(dest["last_sent_time"] or 0, dest["last_error_time"] or 0) < cutoff
            if idle and (dest["kind"], dest["dest"]) not in pending:
                writes.append(Write(key, None))
        self._check_open()
        self._commit(writes)  # unconditional deletes: each batch atomic, the whole need not be

    def change_marker(self) -> int:
        self._check_open()
        info = self._conn.run(self._conn.js.stream_info(f"KV_{self._conn.name(_BUCKET)}"))
        return int(info.state.last_seq)

    def counts(self) -> OutboxCounts:
        items = self._items()
        states: dict[tuple[str, str], list[Any]] = {}
        for item in items:
            if item["state"] != SENT:
                row = states.setdefault((item["kind"], item["state"]), [0, item["created"]])
                row[0] += 1
                row[1] = min(row[1], item["created"])
        kinds = [
            KindCounters(r["kind"], r["sent"], r["failed_attempts"], r["last_error"],
                         r["last_error_time"])
            for r in self._scan("c.>").values()
        ]  # fmt: skip
        dests = list(self._scan("d.>").values())
        last_sent: dict[str, float | None] = {}
        for dest in dests:
            times = [last_sent.get(dest["kind"]), dest["last_sent_time"]]
            last_sent[dest["kind"]] = max((t for t in times if t is not None), default=None)
        failing = []
        for dest in dests:
            error_time = dest["last_error_time"]
            waiting = sum(
                1 for i in items
                if (i["kind"], i["dest"], i["state"]) == (dest["kind"], dest["dest"], PENDING)
            )  # fmt: skip
            if error_time is not None and error_time > (dest["last_sent_time"] or 0) and waiting:
                failing.append(
                    FailingDestination(dest["kind"], dest["dest"], dest["failed_attempts"],
                                       dest["last_error"], error_time, waiting)
                )  # fmt: skip
        failing.sort(key=lambda row: row.last_error_time or 0, reverse=True)
        return OutboxCounts(
            states=[(kind, state, n, oldest) for (kind, state), (n, oldest) in states.items()],
            kinds=kinds,
            last_sent=last_sent,
            failing=failing,
        )

    def failures(self, limit: int) -> list[dict[str, Any]]:
        given_up = [item for item in self._items() if item["state"] == GIVEN_UP]
        given_up.sort(key=lambda item: (item["finished"], item["id"]), reverse=True)
        return [
            {"id": i["id"], "kind": i["kind"], "key": i["key"], "payload": _payload(i),
             "attempts": i["attempts"], "error": i["last_error"], "created": i["created"],
             "first_attempt": i["first_attempt"], "given_up_at": i["finished"]}
            for i in given_up[:limit]
        ]  # fmt: skip

    def redrive(self, ids: Iterable[int] | None, kind: str | None, now: float) -> int:
        wanted = None if ids is None else set(ids)
        count = 0

        def attempt() -> list[Write]:
            nonlocal count
            writes = []
            for item in self._items(kind):
                if item["state"] != GIVEN_UP or (wanted is not None and item["id"] not in wanted):
                    continue
                again = {**item, "state": PENDING, "attempts": 0, "first_attempt": None,
                         "next_attempt": now, "finished": None}  # fmt: skip
                writes.append(self._rewrite(item["kind"], item, again))
            count = len(writes)
            return writes

        self._retry(attempt)
        return count

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._conn.close()
