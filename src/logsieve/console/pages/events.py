"""Events: one stream through GetLogEvents (older/newer through its real tokens), or a whole
group (or a stream) searched through FilterLogEvents with a filter pattern; absolute or
relative time ranges; JSON pretty-printed in an expandable row; what the pattern extracted
marked in each event; a permalink per event id.

Without JavaScript everything works: the forms are plain GETs, rows expand with
``<details>``. With it, times follow the UTC/local toggle and "Expand all" opens every row.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from logsieve.errors import ServiceError
from logsieve.storage.records import parse_event_id

from ..highlight import compile_or_error, show
from ..page import Page, logs_call, query
from ..render import render

PAGE_SIZE = 100
#: The relative ranges offered, as CloudWatch's console offers them.
RANGES = {"5m": 300, "15m": 900, "1h": 3600, "3h": 10_800, "12h": 43_200, "1d": 86_400,
          "1w": 604_800}  # fmt: skip


def parse_time(text: str) -> int | None:
    """ISO 8601 (UTC unless it names an offset) or milliseconds since the epoch, as ms."""
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use ISO 8601 such as 2026-01-31T12:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return int(moment.timestamp() * 1000)


def time_range(request: Request) -> tuple[int | None, int | None]:
    """(startTime, endTime) in ms from ``range`` (relative) or ``start``/``end``."""
    relative = query(request, "range")
    if relative in RANGES:
        now = int(time.time() * 1000)
        return now - RANGES[relative] * 1000, now
    return parse_time(query(request, "start")), parse_time(query(request, "end"))


async def _stream_page(request: Request, group: str, stream: str, start: Any, end: Any):
    """GetLogEvents for one stream, each event with its id (for the permalink).

    GetLogEvents gives no ids; its backward token names the page's first event, so one
    FilterLogEvents over the page's time span, from that event on, pairs them in order."""
    token = query(request, "next") or None
    found = await logs_call(
        request, "GetLogEvents", logGroupName=group, logStreamName=stream, startTime=start,
        endTime=end, nextToken=token, startFromHead=None if token else False, limit=PAGE_SIZE,
    )  # fmt: skip
    events = found.get("events", [])
    if events:
        first_id = found["nextBackwardToken"].split("/")[1]
        span = await logs_call(
            request, "FilterLogEvents", logGroupName=group, logStreamNames=[stream],
            startTime=events[0]["timestamp"], endTime=events[-1]["timestamp"] + 1,
        )  # fmt: skip
        ids = [e["eventId"] for e in span.get("events", [])]
        ids = ids[ids.index(first_id) :] if first_id in ids else []
        for event, event_id in zip(events, ids, strict=False):
            event["eventId"] = event_id
            event["logStreamName"] = stream
    return events, {"older": found.get("nextBackwardToken"), "newer": found.get("nextForwardToken")}


async def _one_event(request: Request, group: str, event_id: str) -> list[dict[str, Any]]:
    """The event a permalink names (FilterLogEvents at its timestamp)."""
    try:
        timestamp, _ = parse_event_id(event_id)
    except ValueError:
        return []
    found = await logs_call(
        request, "FilterLogEvents", logGroupName=group, startTime=timestamp,
        endTime=timestamp + 1,
    )  # fmt: skip
    return [e for e in found.get("events", []) if e["eventId"] == event_id]


async def events(request: Request) -> Response:
    group, stream = query(request, "group"), query(request, "stream")
    pattern_text = request.query_params.get("pattern", "")
    values: dict[str, Any] = {
        "active": "events", "group": group, "stream": stream, "pattern": pattern_text,
        "range": query(request, "range"), "start": query(request, "start"),
        "end": query(request, "end"), "ranges": list(RANGES), "events": [], "pages": {},
        "error": "", "permalink": query(request, "event"),
    }  # fmt: skip
    if not group:
        listed = await logs_call(request, "DescribeLogGroups", limit=50)
        return await render(request, "events.html.j2", groups=listed["logGroups"], **values)
    pattern, _ = compile_or_error(pattern_text)
    status = 200
    try:
        start, end = time_range(request)
        if values["permalink"]:
            found = await _one_event(request, group, values["permalink"])
            if not found:
                values["error"] = f"No event {values['permalink']} in {group}."
                status = 404
        elif stream and not pattern_text.strip():
            found, values["pages"] = await _stream_page(request, group, stream, start, end)
        else:
            result = await logs_call(
                request, "FilterLogEvents", logGroupName=group,
                logStreamNames=[stream] if stream else None, filterPattern=pattern_text or None,
                startTime=start, endTime=end, nextToken=query(request, "next") or None,
                limit=PAGE_SIZE,
            )  # fmt: skip
            found = result.get("events", [])
            values["pages"] = {"next": result.get("nextToken")}
    except ServiceError as failure:
        found, values["error"], status = [], f"{failure.code}: {failure.message}", 400
    except ValueError as bad:
        found, values["error"], status = [], str(bad), 400
    values["events"] = [{**e, "shown": show(e["message"], pattern)} for e in found]
    return await render(request, "events.html.j2", status, groups=[], **values)


PAGE = Page(
    name="events",
    title="Events",
    nav="/events",
    order=20,
    routes=[Route("/events", events, methods=["GET"])],
)
