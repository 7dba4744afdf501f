"""What a console page declares, and the helpers every page handler uses.

A page is one module under ``console/pages/`` with a module-level ``PAGE = Page(...)``: its
routes (Starlette ``Route``s, paths relative to ``/console``) and its nav entry. The console
wraps every route (``protect``): the body is capped, and a state-changing request must carry
the session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from .auth import Session, csrf_matches
from .guard import SAFE_METHODS
from .services import ConsoleServices

Endpoint = Callable[[Request], Awaitable[Response]]
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class Page:
    """A console page: ``routes`` relative to ``/console``; ``nav`` is the path the nav
    entry links to (None: no nav entry), shown as ``title``, in ``order``."""

    name: str
    title: str
    routes: Sequence[Route] = field(default_factory=tuple)
    nav: str | None = None
    order: int = 100


def services(request: Request) -> ConsoleServices:
    """What the server has to show (the console app's state)."""
    return request.app.state.services


def session(request: Request) -> Session:
    """The signed-in session (the guard lets no request without one reach a page)."""
    found = request.scope.get("state", {}).get("console_session")
    assert found is not None, "a page route reached without a session"
    return found


async def form(request: Request) -> dict[str, str]:
    """The urlencoded form of a POST (what browsers and htmx send); the last of a repeated
    field wins. Parsed once per request and kept, so ``protect`` and the page share it."""
    cached = request.scope.get("console_form")
    if cached is None:
        body = (await request.body()).decode("utf-8", "replace")
        cached = dict(parse_qsl(body, keep_blank_values=True))
        request.scope["console_form"] = cached
    return cached


def protect(endpoint: Endpoint) -> Endpoint:
    """``endpoint``, refusing a state-changing request without the session's CSRF token."""

    async def run(request: Request) -> Response:
        if request.method not in SAFE_METHODS:
            offered = request.headers.get(CSRF_HEADER) or (await form(request)).get(CSRF_FIELD)
            if not csrf_matches(session(request), offered):
                return PlainTextResponse(
                    "The form's CSRF token is missing or stale: reload the page and try again.",
                    status_code=403,
                )
        return await endpoint(request)

    return run


def query(request: Request, name: str, default: str = "") -> str:
    return request.query_params.get(name, default).strip()


async def logs_call(request: Request, operation: str, **params: Any) -> dict[str, Any]:
    """A CloudWatch Logs operation by its AWS name, in a worker thread (SQLite blocks), with
    AWS's rules: a mistake raises ``ServiceError`` with AWS's code and message."""
    run = services(request).logs.operations[operation]
    kept = {k: v for k, v in params.items() if v is not None}
    return await run_in_threadpool(run, kept) or {}
