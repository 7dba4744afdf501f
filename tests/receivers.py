"""Real local servers that deliveries go to: an SMTP server and an HTTP receiver.

Both run in the test process on loopback and record what arrives exactly as it came over the
wire (the mail's envelope and raw bytes; an HTTP request's path, headers and body), so tests
check the wire and not our internals. The ``wait_*`` methods poll, because deliveries come from
other threads or processes; they fail with what did arrive once a generous deadline passes (a
wait, never a timing assertion).
"""

from __future__ import annotations

import email
import email.policy
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.server import free_port

T = TypeVar("T")
WAIT_SECONDS = 60.0  # generous: only a broken delivery takes this long


def _wait_for(what: str, found: Callable[[], list[T]], count: int, timeout: float) -> list[T]:
    """Poll ``found`` until it holds ``count`` items; returns them all."""
    deadline = time.monotonic() + timeout
    while len(items := found()) < count:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"gave up after {timeout}s waiting for {count} {what}; got {len(items)}"
            )
        time.sleep(0.05)
    return items


# -- SMTP ------------------------------------------------------------------------------------


@dataclass
class Mail:
    """One accepted mail: the SMTP envelope and the message bytes as they arrived."""

    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        """The parsed message (modern email API), for headers and body parts."""
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]


class _MailSink:
    """The aiosmtpd handler: refuses recipients listed in ``refuse``, keeps every mail.

    It outlives the server's controller, so mail received before a restart is kept.
    """

    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self.refuse: dict[str, str] = {}  # address -> SMTP reply, e.g. "550 5.1.1 No such user"
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = Mail(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
        with self.lock:
            self.mails.append(mail)
        return "250 Message accepted for delivery"


class SmtpServer:
    """A real SMTP server (aiosmtpd) on ``port`` (default: a free one).

    With ``user``, AUTH with that user and ``password`` is required. It can be stopped and
    started again on the same port, to play a mail server that is down for a while.
    """

    def __init__(
        self, port: int | None = None, user: str | None = None, password: str | None = None
    ) -> None:
        self.port = port or free_port()
        self.user, self.password = user, password
        self._sink = _MailSink()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def refuse(self) -> dict[str, str]:
        """Recipient address -> the SMTP reply that refuses it (4xx or 5xx)."""
        return self._sink.refuse

    def start(self) -> SmtpServer:
        options: dict[str, Any] = {}
        if self.user is not None:
            # Plain-text AUTH is fine on loopback in a test (no certificate to set up).
            options.update(
                authenticator=self._authenticate, auth_require_tls=False, auth_required=True
            )
        self._controller = Controller(self._sink, hostname="127.0.0.1", port=self.port, **options)
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop if running (a test may have stopped it already)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.user
            and auth_data.password.decode() == self.password
        )
        return AuthResult(success=ok, handled=False)

    def mails(self) -> list[Mail]:
        """Every accepted mail so far, in arrival order."""
        with self._sink.lock:
            return list(self._sink.mails)

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        """The parsed messages received so far; with ``to``, only those for that recipient."""
        return [m.message for m in self.mails() if to is None or to in m.recipients]

    def wait_messages(
        self, to: str | None = None, count: int = 1, timeout: float = WAIT_SECONDS
    ) -> list[EmailMessage]:
        """Wait until ``count`` messages (for ``to``, if given) arrived; returns them all."""
        what = f"email(s) to {to}" if to else "email(s)"
        return _wait_for(what, lambda: self.messages(to), count, timeout)

    def subjects(self) -> list[str]:
        """Each message's Subject, for tests that tell alerts apart by it."""
        return [str(m["Subject"]) for m in self.messages()]


# -- HTTP ------------------------------------------------------------------------------------


@dataclass
class Request:
    """One POST as it arrived; header names are lower-case."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    """What the receiver answers to one request."""

    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)


class HttpReceiver:
    """An HTTP server that records every POST and answers the scripted replies, then ``default``.

    Replies scripted for a path go to requests for that path only, so tests sharing one
    receiver (each on its own path) cannot take each other's replies.
    """

    def __init__(self, default: Reply | None = None) -> None:
        self._default = default or Reply()
        self._requests: list[Request] = []
        self._script: dict[str | None, list[Reply]] = {}  # path (None: any path) -> replies
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                reply = receiver._record(Request(self.path, headers, body))
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        # A short poll interval: stop() waits for one, and many tests stop a receiver.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> HttpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HttpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _record(self, request: Request) -> Reply:
        with self._lock:
            self._requests.append(request)
            queued = self._script.get(request.path) or self._script.get(None)
            return queued.pop(0) if queued else self._default

    def script(self, *replies: Reply, path: str | None = None) -> None:
        """Answer the next requests (to ``path``, if given) with ``replies``, in turn."""
        with self._lock:
            self._script.setdefault(path, []).extend(replies)

    def requests(self, path: str | None = None) -> list[Request]:
        """The requests received so far; with ``path``, only those for that path."""
        with self._lock:
            return [r for r in self._requests if path is None or r.path == path]

    def wait_requests(
        self, path: str | None = None, count: int = 1, timeout: float = WAIT_SECONDS
    ) -> list[Request]:
        """Wait until ``count`` requests (to ``path``, if given) arrived; returns them all."""
        what = f"POST(s) to {path}" if path else "POST(s)"
        return _wait_for(what, lambda: self.requests(path), count, timeout)
