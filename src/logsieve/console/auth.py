"""Console sessions: browsers cannot sign SigV4, so they sign in once and hold a cookie.

Two ways in, as Jupyter offers: the one-time token of the URL ``logsieve serve`` prints, or
a form taking an access key id and its secret (checked against the server's credentials).
Either gives a session: a random id kept only in this process (a restart signs everyone
out), ended after ``idle`` seconds without a request or ``lifetime`` seconds in all. Each
session has its own CSRF token, required on every state-changing request.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

#: The session cookie: ``HttpOnly`` (no script reads it), ``SameSite=Strict`` (no other site's
#: page sends it), ``Path=/console`` (the AWS API never sees it).
COOKIE = "logsieve_console"
IDLE_SECONDS = 8 * 3600
LIFETIME_SECONDS = 24 * 3600
#: Sign-in failures allowed per minute before the form refuses every attempt for that minute.
MAX_FAILURES_PER_MINUTE = 10


@dataclass
class Session:
    id: str
    csrf: str
    user: str  # the access key id signed in with, or "token" for the printed URL
    started: float
    seen: float


class Sessions:
    """The live sessions, the unused one-time token, and the sign-in check."""

    def __init__(
        self,
        secret_for: Callable[[str], str | None],
        clock: Callable[[], float] = time.monotonic,
        idle: float = IDLE_SECONDS,
        lifetime: float = LIFETIME_SECONDS,
    ) -> None:
        self.secret_for = secret_for
        self.clock = clock
        self.idle = idle
        self.lifetime = lifetime
        self._token: str | None = secrets.token_urlsafe(32)
        self._sessions: dict[str, Session] = {}
        self._failures: list[float] = []
        self._lock = threading.Lock()

    @property
    def login_token(self) -> str | None:
        """The one-time token for the printed URL; None once it has been used."""
        return self._token

    def exchange(self, token: str) -> Session | None:
        """A new session for the one-time token, which is spent by the first exchange."""
        with self._lock:
            if self._token is None or not hmac.compare_digest(token, self._token):
                return None
            self._token = None
            return self._start("token")

    def sign_in(self, access_key_id: str, secret: str) -> Session | None:
        """A new session for a configured key pair; None for a wrong pair, or when the form
        has failed ``MAX_FAILURES_PER_MINUTE`` times in the last minute (guessing stops)."""
        now = self.clock()
        with self._lock:
            self._failures = [t for t in self._failures if now - t < 60]
            if len(self._failures) >= MAX_FAILURES_PER_MINUTE:
                return None
        expected = self.secret_for(access_key_id) if access_key_id else None
        # Compare against something even for an unknown key id: the time does not tell.
        matched = hmac.compare_digest(secret.encode(), (expected or "\0" * 40).encode())
        with self._lock:
            if expected is None or not matched:
                self._failures.append(now)
                return None
            return self._start(access_key_id)

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id (its idle time restarts), or None."""
        if not session_id:
            return None
        now = self.clock()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if now - session.seen > self.idle or now - session.started > self.lifetime:
                del self._sessions[session_id]
                return None
            session.seen = now
            return session

    def end(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def _start(self, user: str) -> Session:
        now = self.clock()
        self._sessions = {  # drop the expired ones while here: the dict stays small
            key: s
            for key, s in self._sessions.items()
            if now - s.seen <= self.idle and now - s.started <= self.lifetime
        }
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), user, now, now)
        self._sessions[session.id] = session
        return session


def csrf_matches(session: Session, offered: str | None) -> bool:
    return offered is not None and hmac.compare_digest(offered.encode(), session.csrf.encode())
