"""The console's gate: every request under ``/console`` passes here first.

- **Host** (DNS rebinding): a page another site serves from a name that resolves to
  127.0.0.1 sends that name as ``Host``. Only names that cannot be rebound are accepted: IP
  literals, ``localhost``, and the names configured as allowed.
- **Origin**: a request that names an origin must name this one; a state-changing request
  that a browser marks as cross-site (``Sec-Fetch-Site``) is refused even without one.
- **Session**: nothing but the sign-in page and its stylesheet answers without a session
  cookie; a page asked for without one redirects to the sign-in form.
- **Headers**: a strict Content-Security-Policy (every asset is served from here; no inline
  script or style, no eval), no framing, no
  caching of pages. The referrer goes to this origin only (the sign-in URL carries a token;
  with ``no-referrer`` browsers would send ``Origin: null`` on our own forms).

The CSRF token is checked per route (it may sit in the form body): see ``page.protect``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection
from urllib.parse import quote

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import COOKIE, Sessions

PREFIX = "/console"
#: Reachable without a session: the sign-in form (GET shows it, POST signs in, a token URL
#: exchanges) and the one stylesheet it uses.
PUBLIC = frozenset({f"{PREFIX}/login", f"{PREFIX}/static/console.css"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def _cache_control(scope: Scope) -> bytes:
    """Static files named by digest (``render.url`` adds ``?v=``) may be kept; nothing else."""
    if scope["path"].startswith(f"{PREFIX}/static/") and scope["query_string"].startswith(b"v="):
        return b"private, max-age=31536000, immutable"
    return b"no-store"


def host_allowed(host: str, allowed: Collection[str]) -> bool:
    """Whether a ``Host`` header names this server in a way DNS rebinding cannot forge."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]").lower()
    if not name:
        return False
    if name == "localhost" or name in allowed:
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class ConsoleGuard:
    """ASGI middleware around the console's app (see the module docstring)."""

    def __init__(self, app: ASGIApp, sessions: Sessions, allowed_hosts: Collection[str]) -> None:
        self.app = app
        self.sessions = sessions
        self.allowed_hosts = frozenset(h.lower() for h in allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name for name, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                if b"cache-control" not in names:
                    headers.append((b"cache-control", _cache_control(scope)))
                message = {**message, "headers": headers}
            await send(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    def _refusal(self, scope: Scope) -> Response | None:
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if not host_allowed(host, self.allowed_hosts):
            return PlainTextResponse(
                f"Host {host!r} is not allowed: open the console through an IP address, "
                "localhost, or a name listed in the server's console allowed hosts.",
                status_code=403,
            )
        method = scope["method"]
        origin = headers.get("origin")
        scheme = scope.get("scheme", "http")
        if origin is not None and origin != f"{scheme}://{host}":
            return PlainTextResponse("Cross-origin request refused.", status_code=403)
        if method not in SAFE_METHODS and headers.get("sec-fetch-site") not in (
            None,
            "same-origin",
            "none",
        ):
            return PlainTextResponse("Cross-site request refused.", status_code=403)
        path = scope["path"]
        session = self.sessions.get(_cookie(headers, COOKIE))
        scope.setdefault("state", {})["console_session"] = session
        if session is not None or path in PUBLIC:
            return None
        page = not path.startswith(f"{PREFIX}/static/") and "hx-request" not in headers
        if method in ("GET", "HEAD") and page:
            target = path + (f"?{scope['query_string'].decode()}" if scope["query_string"] else "")
            return RedirectResponse(f"{PREFIX}/login?next={quote(target, safe='')}", 303)
        return PlainTextResponse("Sign in to the console first.", status_code=401)


def _cookie(headers: Headers, name: str) -> str | None:
    for part in headers.get("cookie", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None
