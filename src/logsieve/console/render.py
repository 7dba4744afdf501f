"""Templates: Jinja2 with autoescaping, and what every page's template can use.

Globals each template gets from :func:`render`: ``nav`` (the registered pages' entries),
``header`` (ingest rate, errors, version), ``csrf_field()`` (the hidden input every
state-changing form needs), ``csrf_token``, ``url(path)`` (a console URL), ``fmt_time`` and
``fmt_bytes``, and ``request``.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse

from .guard import PREFIX
from .page import CSRF_FIELD, Page, services

STATIC = Path(__file__).parent / "static"

ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("logsieve.console", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@functools.cache
def _digest(name: str) -> str:
    """The first 12 hex digits of a static file's SHA-256 ("" if there is no such file)."""
    try:
        return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    except OSError:
        return ""


def url(path: str = "/", **params: Any) -> str:
    """A console URL: ``url("/events", group="a")`` -> ``/console/events?group=a``. A static
    file's gets ``?v=<digest>``: a new version is a new URL, so browsers may keep each."""
    if path.startswith("/static/") and not params:
        params = {"v": _digest(path.removeprefix("/static/"))}
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{PREFIX}{path}" + (f"?{urlencode(kept)}" if kept else "")


def fmt_time(ms: int | None) -> str:
    """Milliseconds since the epoch as UTC ISO 8601 (pages convert to local time in JS)."""
    if ms is None:
        return ""
    moment = datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def fmt_bytes(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


ENV.globals.update(url=url, fmt_time=fmt_time, fmt_bytes=fmt_bytes)


def header(request: Request) -> dict[str, Any]:
    """The header's figures: ingest rate, what needs attention, version."""
    found = services(request)
    rate = found.meter.rate() if found.meter else None
    failing = dead = 0
    if found.dispatcher is not None:
        for status in found.dispatcher.status():
            failing += status["health"] == "ERROR"
            dead += status["deadLetteredEvents"]
    return {
        "rate": None if rate is None else round(rate, 1),
        "failing_subscriptions": failing,
        "dead_lettered_events": dead,
        "errors": failing + dead,
        "version": found.version,
    }


async def render(
    request: Request, template: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """``template`` rendered for ``request`` with the globals above. The header's figures
    read the stores, so they are gathered on a worker thread, off the event loop."""
    session = request.scope.get("state", {}).get("console_session")
    token = session.csrf if session else ""
    pages: Sequence[Page] = request.app.state.pages
    values = {
        "request": request,
        "nav": [(p.title, url(p.nav), p.name) for p in pages if p.nav is not None],
        "header": await run_in_threadpool(header, request) if session else None,
        "csrf_token": token,
        "csrf_field": lambda: Markup(
            f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">'
        ),
        **context,
    }
    return HTMLResponse(ENV.get_template(template).render(values), status_code=status_code)
