"""The console as one mountable piece: its app, its sessions, its sign-in routes."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Collection, Sequence
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from logsieve.api.bodies import cap_route

from .auth import COOKIE, LIFETIME_SECONDS, Session, Sessions
from .guard import PREFIX, ConsoleGuard
from .page import Page, form, protect
from .pages import PAGES
from .render import STATIC, render
from .services import ConsoleServices

#: The login form's own CSRF cookie (double submit): no session exists yet to hold a token.
LOGIN_COOKIE = "logsieve_console_login"
SPENT = (
    "This sign-in link was already used or is not this server's: sign in with an access key "
    "instead."
)


class Console:
    """The web console: ``mount`` goes into the server's routes, ``login_url`` is printed."""

    def __init__(
        self,
        found: ConsoleServices,
        secret_for: Callable[[str], str | None],
        allowed_hosts: Collection[str] = (),
        pages: Sequence[Page] = PAGES,
        sessions: Sessions | None = None,
    ) -> None:
        self.sessions = sessions or Sessions(secret_for)
        self.pages = sorted(pages, key=lambda p: p.order)
        routes: list[BaseRoute] = [
            Route("/login", self.login, methods=["GET", "POST"]),
            Route("/logout", protect(self.logout), methods=["POST"]),
            Route("/", self.home, methods=["GET"]),
            Route("/header", _header, methods=["GET"]),
        ]
        for page in self.pages:
            routes += [
                Route(r.path, protect(r.endpoint), methods=r.methods, name=r.name)
                for r in page.routes
            ]
        routes = [cap_route(route) for route in routes]
        routes.append(Mount("/static", StaticFiles(directory=STATIC), name="static"))
        self.app = Starlette(
            routes=routes,
            middleware=[Middleware(ConsoleGuard, self.sessions, allowed_hosts)],
        )
        self.app.state.services = found
        self.app.state.pages = self.pages
        self.app.state.stopping = asyncio.Event()  # open streams (live tails) end on it

    def stop(self) -> None:
        """The server is stopping: end the open streams now (uvicorn waits for them)."""
        self.app.state.stopping.set()

    @property
    def mount(self) -> Mount:
        return Mount(PREFIX, self.app, name="console")

    def routes(self) -> list[BaseRoute]:
        """The console's routes for the server: ``/console`` itself redirects inside."""
        return [Route(PREFIX, _to_console, methods=["GET", "HEAD"]), self.mount]

    def login_url(self, base: str) -> str | None:
        """The one-time sign-in URL under ``base`` (the server's URL); None once used."""
        token = self.sessions.login_token
        return None if token is None else f"{base}{PREFIX}/login?token={token}"

    async def home(self, request: Request) -> Response:
        first = next((p.nav for p in self.pages if p.nav is not None), None)
        if first is None:
            return await render(request, "home.html.j2")
        return RedirectResponse(f"{PREFIX}{first}", 303)

    async def login(self, request: Request) -> Response:
        """GET: exchange a token, or show the form. POST: check the key pair."""
        target = _local(request.query_params.get("next", ""))
        if request.method == "GET":
            token = request.query_params.get("token")
            if token:
                session = self.sessions.exchange(token)
                if session is not None:
                    return _signed_in(request, session, target)
                return await self._form(request, SPENT, 403)
            return await self._form(request)
        values = await form(request)
        cookie = request.cookies.get(LOGIN_COOKIE, "")
        if not cookie or values.get("login_token") != cookie:
            return await self._form(request, "The sign-in form expired: try again.", 403)
        session = self.sessions.sign_in(
            values.get("access_key_id", "").strip(), values.get("secret_access_key", "")
        )
        if session is None:
            return await self._form(request, "Wrong access key id or secret access key.", 401)
        return _signed_in(request, session, _local(values.get("next", "")))

    async def _form(self, request: Request, error: str = "", status: int = 200) -> Response:
        # One token per browser, kept across renders: several tabs (or a reload) still match.
        token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
        next_url = _local(request.query_params.get("next", ""))
        response = await render(request, "login.html.j2", status, error=error, login_token=token,
                          next_url=next_url)  # fmt: skip
        response.set_cookie(LOGIN_COOKIE, token, max_age=3600, path=f"{PREFIX}/login",
                            httponly=True, samesite="strict", secure=_secure(request))  # fmt: skip
        return response

    async def logout(self, request: Request) -> Response:
        session = request.scope["state"]["console_session"]
        self.sessions.end(session.id)
        response = RedirectResponse(f"{PREFIX}/login", 303)
        response.delete_cookie(COOKIE, path=PREFIX)
        return response


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _signed_in(request: Request, session: Session, target: str) -> Response:
    response = RedirectResponse(target or f"{PREFIX}/", 303)
    response.set_cookie(COOKIE, session.id, max_age=int(LIFETIME_SECONDS), path=PREFIX,
                        httponly=True, samesite="strict", secure=_secure(request))  # fmt: skip
    return response


def _local(target: str) -> str:
    """``target`` if it is a path inside the console (no open redirect), else empty."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith(f"{PREFIX}/"):
        return ""
    if target.startswith("//") or "\\" in target:
        return ""
    return target


async def _header(request: Request) -> Response:
    """The header's figures alone: the page refreshes them every few seconds."""
    return await render(request, "_header.html.j2")


async def _to_console(request: Request) -> Response:
    return RedirectResponse(f"{PREFIX}/", 307)
