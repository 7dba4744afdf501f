"""The console's live tail: server-sent events of a few log groups' new events.

A :class:`TailHub` (one per console) is told every committed batch's log group by the logs
service (``LogsContext.followers``, from request threads: it only raises a flag). Each open
tail (:func:`TailHub.frames`) wakes every ``TICK`` seconds, reads its groups' events after their
cursors when flagged, and yields one ``event: logs`` frame whose ``id:`` is the position (one
cursor per group, written once when all are equal, as on SQLite's single log; a partitioned
JetStream log orders seqs within a group's partition only), so a browser's ``EventSource``
resumes with ``Last-Event-ID`` after a reconnect. Ids are text throughout (the ``id:`` line,
each event's ``"id"``): partitioned seqs pass 2**53, beyond a JavaScript number. More than
``MAX_RATE`` matching events a second are sampled uniformly, with the real rate in the frame.

A tail ends when the client goes away (Starlette cancels the generator, or a send fails),
after ``MAX_SECONDS`` (as AWS's Live Tail sessions do), or when the server stops
(``stopping``, set by ``logsieve serve`` before uvicorn waits for open responses).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool

from logsieve.logs import LogsService
from logsieve.storage import LogGroup, LogsStore

TICK = 0.25  # seconds between reads: events appear well within a second
MAX_RATE = 500  # matching events/s a page draws (AWS's Live Tail samples at 500/s too)
READ_LIMIT = 10_000  # events read per group per tick; beyond it the tail skips to the end
PING_SECONDS = 15.0
MAX_SECONDS = 3 * 3600
MAX_HIGHLIGHTS = 5


@dataclass(eq=False)
class _Tail:
    groups: Sequence[LogGroup]
    prefixes: tuple[str, ...]
    matches: Callable[[str], bool]
    cursors: dict[int, int]  # by group id
    woken: bool = True  # read once at the start: events since Last-Event-ID
    names: dict[int, dict[int, str]] = field(default_factory=dict)


class TailHub:
    """The open tails of one server and the wake-ups the event log's commits send them."""

    def __init__(self, logs: LogsService, stopping: asyncio.Event) -> None:
        self.logs = logs
        self.stopping = stopping
        self._following: dict[int, list[_Tail]] = {}  # replaced whole: threads read it unlocked
        logs.ctx.followers.append(self.appended)

    @property
    def store(self) -> LogsStore:
        return self.logs.ctx.store

    def appended(self, group_id: int) -> None:
        """A request thread committed events to ``group_id``: flag the tails following it."""
        for tail in self._following.get(group_id, ()):
            tail.woken = True

    def _follow(self, tail: _Tail, on: bool) -> None:
        following = {gid: list(items) for gid, items in self._following.items()}
        for group in tail.groups:
            items = following.setdefault(group.id, [])
            items.append(tail) if on else items.remove(tail)
            if not items:
                del following[group.id]
        self._following = following

    async def frames(
        self,
        groups: Sequence[LogGroup],
        prefixes: Sequence[str],
        matches: Callable[[str], bool],
        after: Sequence[int] | None,
        max_seconds: float = MAX_SECONDS,
    ) -> AsyncIterator[str]:
        """The SSE text of one tail: events after ``after`` (a position: one cursor for
        every group, or one per group; None: from now on)."""
        if after is not None and len(after) in (1, len(groups)):
            cursors = {g.id: after[n % len(after)] for n, g in enumerate(groups)}
        else:
            cursors = {g.id: self.store.last_seq(g.id) for g in groups}
        tail = _Tail(groups, tuple(p for p in prefixes if p), matches, cursors)
        self._follow(tail, True)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_seconds
        last_sent = loop.time()
        try:
            yield f"retry: 1000\nid: {_position(tail)}\nevent: ready\ndata: {{}}\n\n"
            while not self.stopping.is_set() and loop.time() < deadline:
                started = loop.time()
                if tail.woken:
                    tail.woken = False
                    events, skipped = await run_in_threadpool(self._read, tail)
                    if events or skipped:
                        yield _frame(_position(tail), events, skipped, loop.time() - last_sent)
                        last_sent = loop.time()
                if loop.time() - last_sent > PING_SECONDS:
                    yield ": ping\n\n"
                    last_sent = loop.time()
                await _wait(self.stopping, TICK - (loop.time() - started))
            yield "event: end\ndata: {}\n\n"
        finally:
            self._follow(tail, False)

    def _read(self, tail: _Tail) -> tuple[list[dict], int]:
        """New matching events of the tail's groups, in append order, and how many were
        skipped unread (a group writing faster than the tail reads)."""
        store = self.store
        found: list[tuple[tuple[int, int], dict]] = []
        skipped = 0
        for group in tail.groups:
            end = store.last_seq(group.id)
            events = store.read_after(tail.cursors[group.id], READ_LIMIT, group.id)
            if len(events) >= READ_LIMIT:
                skipped += max(0, end - events[-1][1])
            names = tail.names.setdefault(group.id, {})
            for ts, seq, _, stream_id, ingested, message in events:
                if seq > end:
                    break
                name = names.get(stream_id)
                if name is None:  # a stream created since: look the names up again
                    names.update(store.stream_ids(group.id, None, None))
                    name = names.get(stream_id, "")
                if tail.prefixes and not name.startswith(tail.prefixes):
                    continue
                if tail.matches(message):
                    event = _event(seq, group.name, name, ts, ingested, message)
                    found.append(((ingested, seq), event))
            tail.cursors[group.id] = end
        found.sort(key=lambda item: item[0])  # ingestion order (seqs: within a partition)
        return [event for _, event in found], skipped


def _event(seq: int, group: str, stream: str, ts: int, ingested: int, message: str) -> dict:
    """One event of a ``logs`` frame. Its id is a string: a partitioned JetStream log's event
    ids pass 2**53, past which a JavaScript number loses digits."""
    return {"id": str(seq), "group": group, "stream": stream, "timestamp": ts,
            "ingestionTime": ingested, "message": message}  # fmt: skip


def _position(tail: _Tail) -> str:
    """The ``id:`` of a tail's frames: its cursors, one number when they are all equal."""
    cursors = [tail.cursors[g.id] for g in tail.groups]
    return str(cursors[0]) if len(set(cursors)) == 1 else ".".join(map(str, cursors))


def _frame(cursor: str, events: list[dict], skipped: int, seconds: float) -> str:
    """One ``logs`` frame: at most ``MAX_RATE`` events a second, uniformly sampled."""
    matched = len(events)
    cap = max(1, int(MAX_RATE * max(seconds, TICK)))
    sampled = matched > cap or skipped > 0
    if matched > cap:
        kept = sorted(random.sample(range(matched), cap))
        events = [events[i] for i in kept]
    rate = (matched + skipped) / max(seconds, TICK)
    body = {"events": events, "sampled": sampled, "rate": round(rate, 1), "cap": MAX_RATE,
            "sentAt": int(time.time() * 1000)}  # fmt: skip
    return f"id: {cursor}\nevent: logs\ndata: {json.dumps(body, separators=(',', ':'))}\n\n"


async def _wait(event: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds`` or until ``event`` is set, whichever comes first."""
    if seconds <= 0:
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


def parse_highlights(text: str) -> list[str]:
    """The comma-separated highlight terms, blanks and repeats dropped."""
    terms: list[str] = []
    for term in (part.strip() for part in text.split(",")):
        if term and term not in terms:
            terms.append(term)
    return terms


def last_event_id(header: str | None) -> list[int] | None:
    """The position a reconnecting ``EventSource`` sent back (None: absent or not ours)."""
    parts = (header or "").split(".")
    if header and len(parts) <= 1000 and all(p.isdigit() and len(p) < 20 for p in parts):
        return [int(p) for p in parts]
    return None
