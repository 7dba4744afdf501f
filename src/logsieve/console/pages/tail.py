"""Live tail: pick log groups, stream prefixes, a filter pattern and up to five highlight
terms; the page then follows new events over server-sent events (``/tail/stream``).

The form works without JavaScript (it reloads the page with the choice in its URL); the
stream needs ``EventSource`` (``static/tail.js`` draws the rows, pauses, samples, resumes).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from logsieve.errors import ServiceError
from logsieve.logs.context import GROUP_NOT_FOUND
from logsieve.logs.reads import compile_filter
from logsieve.storage import LogGroup

from ..page import Page, query, services
from ..render import render, url
from ..tail import MAX_HIGHLIGHTS, MAX_RATE, TailHub, last_event_id, parse_highlights

MAX_GROUPS = 10  # as StartLiveTail's logGroupIdentifiers
PICKER_GROUPS = 500


@dataclass
class TailChoice:
    """What the form asked for, checked: the groups found, or the error to show."""

    groups: list[LogGroup]
    names: list[str]
    prefixes: list[str]
    pattern: str
    highlights: list[str]
    error: str = ""
    matches: object = None


def hub(request: Request) -> TailHub:
    """The console's tail hub, made on first use (it registers with the logs service)."""
    extra = services(request).extra
    if "tail" not in extra:
        extra["tail"] = TailHub(services(request).logs, request.app.state.stopping)
    return extra["tail"]


def _choice(request: Request) -> TailChoice:
    names = [n.strip() for n in request.query_params.getlist("group") if n.strip()]
    names = list(dict.fromkeys(names))
    prefixes = [p.strip() for p in query(request, "stream_prefix").split(",") if p.strip()]
    choice = TailChoice([], names, prefixes, query(request, "pattern"),
                        parse_highlights(query(request, "highlight")))  # fmt: skip
    if len(names) > MAX_GROUPS:
        choice.error = f"A live tail follows at most {MAX_GROUPS} log groups."
    elif len(choice.highlights) > MAX_HIGHLIGHTS:
        choice.error = f"At most {MAX_HIGHLIGHTS} highlight terms."
    if choice.error:
        return choice
    try:
        choice.matches = compile_filter(choice.pattern).matches
    except ServiceError as failure:
        choice.error = f"{failure.code}: {failure.message}"
        return choice
    store = services(request).logs.ctx.store
    for name in names:
        group = store.group(name)
        if group is None:
            choice.error = f"ResourceNotFoundException: {GROUP_NOT_FOUND} ({name})"
            return choice
        choice.groups.append(group)
    return choice


async def tail_page(request: Request) -> Response:
    choice = await run_in_threadpool(_choice, request)
    store = services(request).logs.ctx.store
    known = await run_in_threadpool(store.groups, None, None, None, None, PICKER_GROUPS)
    stream_url = ""
    if choice.groups and not choice.error:
        stream_url = url("/tail/stream") + "?" + request.url.query
    return await render(
        request, "tail.html.j2", 400 if choice.error else 200, active="tail", choice=choice,
        known=[g.name for g in known], stream_url=stream_url, error=choice.error,
        notice="", max_rate=MAX_RATE, max_highlights=MAX_HIGHLIGHTS,
    )  # fmt: skip


async def tail_stream(request: Request) -> Response:
    choice = await run_in_threadpool(_choice, request)
    if choice.error or not choice.groups:
        return PlainTextResponse(choice.error or "Choose at least one log group.", 400)
    after = last_event_id(request.headers.get("last-event-id"))
    frames = hub(request).frames(choice.groups, choice.prefixes, choice.matches, after)  # type: ignore[arg-type]
    return StreamingResponse(
        frames, media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )  # fmt: skip


PAGE = Page(
    name="tail",
    title="Live tail",
    nav="/tail",
    order=30,
    routes=[
        Route("/tail", tail_page, methods=["GET"]),
        Route("/tail/stream", tail_stream, methods=["GET"]),
    ],
)
