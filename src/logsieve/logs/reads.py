"""GetLogEvents and FilterLogEvents: bounds, ordering, page limits and tokens."""

from __future__ import annotations

import itertools
import re
from operator import itemgetter
from typing import Any

from logsieve import tokens
from logsieve.patterns import PatternError
from logsieve.patterns import compile as compile_pattern
from logsieve.storage import StoredEvent, event_id
from logsieve.storage.records import parse_event_id

from .context import LogsContext, decode_token, invalid

MAX_PAGE_EVENTS = 10_000
MAX_PAGE_BYTES = 1_048_576
EVENT_OVERHEAD = 26
SCAN_BUDGET = 250_000  # events one FilterLogEvents call examines before handing out a token
NEWEST_FIRST_FLOOR = 1_704_067_200_000  # 2024-01-01: startFromHead=false needs startTime >= it
_MESSAGE = itemgetter(5)  # of a StoredEvent
_STREAM_TOKEN = re.compile(r"([fb])/([0-9]{56})/s\Z")  # exactly what get_log_events writes
# FilterLogEvents tokens may carry "d": 1 (the newest-first direction), nothing else
_NEWEST_FIRST = {"d": lambda value: type(value) is int and value == 1}


def _size(message: str) -> int:
    return len(message.encode("utf-8", "surrogatepass")) + EVENT_OVERHEAD


def _page_size(events: list[StoredEvent]) -> int:
    return sum(_size(e[5]) for e in events)


def _trim_to_bytes(events: list[StoredEvent], from_end: bool) -> list[StoredEvent]:
    """Keep as many events as fit in one 1 MB page (the newest ones when ``from_end``)."""
    if _page_size(events) <= MAX_PAGE_BYTES:
        return events
    ordered = reversed(events) if from_end else iter(events)
    kept, used = [], 0
    for event in ordered:
        used += _size(event[5])
        if used > MAX_PAGE_BYTES and kept:
            break
        kept.append(event)
    return kept[::-1] if from_end else kept


def compile_filter(text: str | None):
    try:
        return compile_pattern(text or "")
    except PatternError as exc:
        raise invalid(f"Invalid filter pattern: {exc.message}") from exc


class Reads:
    def __init__(self, ctx: LogsContext) -> None:
        self.ctx = ctx

    def get_log_events(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self.ctx.group(params)
        stream = self.ctx.stream(group, params["logStreamName"])
        start, end = params.get("startTime"), params.get("endTime")
        limit = min(params.get("limit") or MAX_PAGE_EVENTS, MAX_PAGE_EVENTS)
        token = params.get("nextToken")
        store = self.ctx.store
        if token:
            m = _STREAM_TOKEN.match(token) if isinstance(token, str) else None
            position = parse_event_id(m.group(2)) if m else (-1, -1)
            if not (m and all(0 <= part < 1 << 63 for part in position)):  # fits SQLite
                raise invalid("The specified nextToken is invalid.")
            direction = m.group(1)
            if direction == "f":
                events = store.stream_events(stream.id, start, end, position, None, limit)
                events = _trim_to_bytes(events, from_end=False)
            else:
                events = store.stream_events(stream.id, start, end, None, position, limit)
                events = _trim_to_bytes(events, from_end=True)
            if not events:
                other = "b" if direction == "f" else "f"
                return {
                    "events": [],
                    "nextForwardToken": token if direction == "f" else f"{other}/{m.group(2)}/s",
                    "nextBackwardToken": token if direction == "b" else f"{other}/{m.group(2)}/s",
                }
        elif params.get("startFromHead"):
            events = _trim_to_bytes(
                store.stream_events(stream.id, start, end, None, None, limit), from_end=False
            )
        else:
            events = _trim_to_bytes(
                store.stream_events(stream.id, start, end, None, None, -limit), from_end=True
            )
        if events:
            forward = event_id(*events[-1][:2])
            backward = event_id(*events[0][:2])
        else:
            forward = backward = event_id(0, 0)
        return {
            "events": [
                {"timestamp": ts, "message": message, "ingestionTime": ingested}
                for ts, _, _, _, ingested, message in events
            ],
            "nextForwardToken": f"f/{forward}/s",
            "nextBackwardToken": f"b/{backward}/s",
        }

    def filter_log_events(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self.ctx.group(params)
        names, prefix = params.get("logStreamNames"), params.get("logStreamNamePrefix")
        if names is not None and prefix is not None:
            raise invalid(
                "logStreamNames and logStreamNamePrefix are mutually exclusive parameters."
            )
        pattern = compile_filter(params.get("filterPattern"))
        start, end = params.get("startTime"), params.get("endTime")
        if params.get("startFromHead") is False and (start is None or start < NEWEST_FIRST_FLOOR):
            raise invalid(
                "startFromHead=false requires a startTime on or after 2024-01-01T00:00:00Z."
            )
        limit = min(params.get("limit") or MAX_PAGE_EVENTS, MAX_PAGE_EVENTS)
        after = None
        newest_first = params.get("startFromHead") is False
        if params.get("nextToken"):
            number = tokens.is_int
            state = decode_token(params["nextToken"], _NEWEST_FIRST, g=number, t=number, s=number)
            if state["g"] != group.id:  # a position in another group's events (or a deleted one)
                raise invalid("The specified nextToken is invalid.")
            after = (state["t"], state["s"])
            newest_first = bool(state.get("d"))  # the token's direction wins
        streams = None
        if names is not None or prefix is not None:
            streams = self.ctx.store.stream_ids(group.id, names, prefix)
            if not streams:
                return {"events": [], "searchedLogStreams": []}
        stream_names = streams if streams is not None else {}
        matches = pattern.matches
        found: list[dict[str, Any]] = []
        used = 0
        budget = SCAN_BUDGET
        resume: tuple[int, int] | None = None  # where the next page starts, if there is one
        windows = self.ctx.store.group_windows(
            group.id, None if streams is None else list(streams), start, end, after, newest_first
        )
        try:
            for window in windows:
                if len(window) >= budget:  # scan as far as one call may, then hand out a token
                    window = window[:budget]
                    resume = window[-1][:2]
                budget -= len(window)
                # One C-level pass over the window; only matches cost Python work below.
                for event in itertools.compress(window, map(matches, map(_MESSAGE, window))):
                    ts, seq, _, stream_id, ingested, message = event
                    size = _size(message)
                    if found and used + size > MAX_PAGE_BYTES:
                        # this event starts the next page: resume just before it
                        resume = parse_event_id(found[-1]["eventId"])
                        break
                    used += size
                    name = stream_names.get(stream_id)
                    if name is None:
                        name = self._stream_name(group.id, stream_id, stream_names)
                    found.append(
                        {
                            "logStreamName": name,
                            "timestamp": ts,
                            "message": message,
                            "ingestionTime": ingested,
                            "eventId": event_id(ts, seq),
                        }
                    )
                    if len(found) >= limit:
                        resume = (ts, seq)
                        break
                if resume is not None:
                    break  # the page is full, or the budget is spent (the window was cut)
        finally:
            windows.close()  # type: ignore[attr-defined]
        result: dict[str, Any] = {"events": found, "searchedLogStreams": []}
        if resume is not None:
            state = {"g": group.id, "t": resume[0], "s": resume[1]}
            state |= {"d": 1} if newest_first else {}
            result["nextToken"] = tokens.encode(state)
        return result

    def _stream_name(self, group_id: int, stream_id: int, cache: dict[int, str]) -> str:
        """Stream names for FilterLogEvents over a whole group, looked up once per stream."""
        if not cache:
            cache.update(self.ctx.store.stream_ids(group_id, None, None))
        return cache.get(stream_id, "")
