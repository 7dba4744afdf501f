"""StartLiveTail: a session that streams a log group's new events as they are committed.

The operation validates the request on the request thread (AWS's errors arrive as plain JSON
errors) and returns the session as an async iterator of event-stream members, which the API
frames: one ``sessionStart``, then a ``sessionUpdate`` every second (empty when nothing new
matched), at most 500 results each (``sampled`` when more matched), until the 3-hour limit
ends it with ``SessionTimeoutException`` or the client goes away.

A session follows the event log from the position it started at. It reads only after a
commit to one of its log groups woke it (``appended``, called from request threads, as the
subscription pumps are woken), so an idle session costs a timer, not a query a second.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from logsieve.errors import ServiceError
from logsieve.storage import STORE_ERRORS, LogGroup, StoredEvent

from .context import GROUP_NOT_FOUND, LogsContext, invalid, not_found
from .reads import compile_filter

MAX_SESSION_SECONDS = 3 * 3600
UPDATE_SECONDS = 1.0
MAX_RESULTS = 500  # per sessionUpdate; beyond it AWS samples
READ_LIMIT = 10_000  # events read per log group per update; beyond it the rest is skipped
MAX_SESSIONS = 15  # AWS's default quota of concurrent Live Tail sessions per account

Member = tuple[str, dict[str, Any]]
log = logging.getLogger("logsieve.logs.live_tail")


@dataclass(eq=False)
class _Session:
    """One live tail: what it follows and where it is in the event log."""

    groups: list[tuple[LogGroup, str]]  # each with the identifier the request named it by
    wants_stream: Callable[[str], bool]
    matches: Callable[[str], bool]
    start: dict[str, Any]  # the sessionStart members
    cursors: dict[int, int]
    woken: asyncio.Event = field(default_factory=asyncio.Event)
    names: dict[int, dict[int, str]] = field(default_factory=dict)  # stream names per group


class LiveTail:
    """The sessions of one server, and the wake-ups the log's appends send them."""

    def __init__(
        self,
        ctx: LogsContext,
        max_seconds: float = MAX_SESSION_SECONDS,
        update_seconds: float = UPDATE_SECONDS,
        max_sessions: int = MAX_SESSIONS,
    ) -> None:
        self.ctx = ctx
        self.max_seconds = max_seconds
        self.update_seconds = update_seconds
        self.max_sessions = max_sessions
        self._lock = threading.Lock()
        self._sessions: set[_Session] = set()  # touched on the event loop only
        self._following: dict[int, list[_Session]] = {}  # group id -> sessions (copy-on-write)
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def active(self) -> int:
        """Sessions streaming now."""
        return len(self._sessions)

    # --- the operation (a request thread) -------------------------------------------------

    def start_live_tail(self, params: dict[str, Any]) -> dict[str, Any]:
        identifiers: list[str] = params["logGroupIdentifiers"]
        names, prefixes = params.get("logStreamNames"), params.get("logStreamNamePrefixes")
        if names is not None and prefixes is not None:
            raise invalid("Only one of logStreamNames or logStreamNamePrefixes can be provided.")
        if (names is not None or prefixes is not None) and len(identifiers) != 1:
            raise invalid(
                "logStreamNames and logStreamNamePrefixes can only be used with a single log group."
            )
        pattern = params.get("logEventFilterPattern")
        matches = compile_filter(pattern).matches
        groups = [(self._group(identifier), identifier) for identifier in identifiers]
        if len({group.id for group, _ in groups}) != len(groups):
            raise invalid("logGroupIdentifiers must not name a log group twice.")
        if self.active >= self.max_sessions:
            raise ServiceError(
                "LimitExceededException",
                f"You have reached the maximum number of concurrent Live Tail sessions "
                f"({self.max_sessions}).",
            )
        if names is not None:
            wanted = frozenset(names)
            wants_stream: Callable[[str], bool] = wanted.__contains__
        elif prefixes is not None:
            starts = tuple(prefixes)
            wants_stream = lambda name: name.startswith(starts)  # noqa: E731
        else:
            wants_stream = lambda name: True  # noqa: E731
        # The position is taken now: an event committed after this answer is in the session.
        store = self.ctx.store
        start: dict[str, Any] = {
            "requestId": str(uuid.uuid4()),
            "sessionId": str(uuid.uuid4()),
            "logGroupIdentifiers": identifiers,
            "logStreamNames": names,
            "logStreamNamePrefixes": prefixes,
            "logEventFilterPattern": pattern,
        }
        session = _Session(
            groups,
            wants_stream,
            matches,
            start,
            {group.id: store.last_seq(group.id) for group, _ in groups},
        )
        return {"responseStream": self._stream(session)}

    def _group(self, identifier: str) -> LogGroup:
        if identifier.startswith("arn:"):
            if identifier.endswith(":*"):
                raise invalid(f"Invalid log group identifier: {identifier}")
            name = self.ctx.group_name_from_arn(identifier)
            if name is None:
                raise invalid(f"Invalid log group identifier: {identifier}")
        else:
            name = identifier
        group = self.ctx.store.group(name)
        if group is None:
            raise not_found(GROUP_NOT_FOUND)
        return group

    # --- wake-ups (request threads) ---------------------------------------------------------

    def appended(self, group_id: int) -> None:
        """Events were committed to ``group_id``: wake the sessions following it."""
        loop = self._loop
        if loop is not None and group_id in self._following:
            loop.call_soon_threadsafe(self._wake, group_id)

    def _wake(self, group_id: int) -> None:
        for session in self._following.get(group_id, ()):
            session.woken.set()

    def _follow(self, session: _Session, on: bool) -> None:
        following = {gid: list(items) for gid, items in self._following.items()}
        for group, _ in session.groups:
            items = following.setdefault(group.id, [])
            if on:
                items.append(session)
            else:
                items.remove(session)
                if not items:
                    del following[group.id]
        self._following = following  # replaced whole: request threads read it unlocked

    # --- the stream (the event loop) --------------------------------------------------------

    async def _stream(self, session: _Session) -> AsyncIterator[Member]:
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._sessions.add(session)
        self._follow(session, True)
        session.woken.set()  # anything committed between the answer and now
        try:
            yield "sessionStart", session.start
            deadline = loop.time() + self.max_seconds
            tick = loop.time()
            while True:
                tick += self.update_seconds
                if tick >= deadline:
                    await asyncio.sleep(max(0.0, deadline - loop.time()))
                    yield "SessionTimeoutException", {"message": self._timeout_message()}
                    return
                await asyncio.sleep(max(0.0, tick - loop.time()))
                results, sampled = [], False
                if session.woken.is_set():
                    session.woken.clear()
                    try:
                        results, sampled = await loop.run_in_executor(None, self._read, session)
                    except STORE_ERRORS as error:
                        log.warning("live tail session ended by the store error=%s", error)
                        yield "SessionStreamingException", {"message": _INTERRUPTED}
                        return
                yield (
                    "sessionUpdate",
                    {
                        "sessionMetadata": {"sampled": sampled},
                        "sessionResults": results,
                    },
                )
        finally:
            self._follow(session, False)
            self._sessions.discard(session)

    def _read(self, session: _Session) -> tuple[list[dict[str, Any]], bool]:
        """The new matching events of the session's groups, oldest first (a worker thread)."""
        store = self.ctx.store
        results: list[dict[str, Any]] = []
        skipped = False
        for group, identifier in session.groups:
            events = store.read_after(session.cursors[group.id], READ_LIMIT, group.id)
            if not events:
                continue
            session.cursors[group.id] = events[-1][1]
            if len(events) >= READ_LIMIT:  # more than a session takes in a second: skip on
                session.cursors[group.id] = store.last_seq(group.id)
                skipped = True
            results += self._results(session, group, identifier, events)
        results.sort(key=lambda item: item["ingestionTime"])
        if len(results) > MAX_RESULTS:
            kept = sorted(random.sample(range(len(results)), MAX_RESULTS))
            results = [results[i] for i in kept]
            skipped = True
        return results, skipped

    def _results(
        self, session: _Session, group: LogGroup, identifier: str, events: list[StoredEvent]
    ) -> list[dict[str, Any]]:
        names = session.names.setdefault(group.id, {})
        out = []
        for ts, _, _, stream_id, ingested, message in events:
            name = names.get(stream_id)
            if name is None:  # a stream created since: look the names up again
                names.update(self.ctx.store.stream_ids(group.id, None, None))
                name = names.get(stream_id)
                if name is None:  # deleted meanwhile, with its events
                    continue
            if session.wants_stream(name) and session.matches(message):
                out.append(
                    {
                        "logStreamName": name,
                        "logGroupIdentifier": identifier,
                        "message": message,
                        "timestamp": ts,
                        "ingestionTime": ingested,
                    }
                )
        return out

    def _timeout_message(self) -> str:
        hours = self.max_seconds / 3600
        return f"Live Tail session has timed out after {hours:g} hours."


_INTERRUPTED = "The Live Tail session was interrupted; start a new one."
