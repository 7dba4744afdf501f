"""An SMTP server on 127.0.0.1 that files every message it receives into a Maildir.

The demo's email alerts go through the real path -- the email channel speaks SMTP to a server
-- and land in a mailbox format every mail reader opens (``mutt -f DIR``) and Python's
``mailbox.Maildir`` reads, so the user can read them after the demo as they would read mail.
Each message is stored as received, with the trace headers a delivering MTA adds
(``Return-Path``, ``Delivered-To``, ``Received``); the file's modification time is the moment
it arrived, which is what ``MaildirMessage.get_date()`` reports and the demo measures latency
against.
"""

from __future__ import annotations

import mailbox
import socket
import threading
from email.utils import formatdate
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

__all__ = ["MailCatcher"]

_MAX_MESSAGE_BYTES = 10 * 1024 * 1024  # an alert is a few KB; refuse anything absurd


def _free_port() -> int:
    """aiosmtpd's Controller checks readiness by connecting to its port, so it needs a real
    port number up front rather than 0."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _MaildirHandler:
    """aiosmtpd handler: one Maildir file per accepted message."""

    def __init__(self, maildir: mailbox.Maildir) -> None:
        self.maildir = maildir
        self.lock = threading.Lock()
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        peer = session.peer[0] if session.peer else "unknown"
        helo = session.host_name or peer
        trace = (
            f"Return-Path: <{envelope.mail_from}>\n"
            f"Delivered-To: {', '.join(envelope.rcpt_tos)}\n"
            f"Received: from {helo} ([{peer}])\n\tby logsieve-demo with SMTP; "
            f"{formatdate(localtime=True)}\n"
        ).encode()
        # Maildir files use the local line ending; SMTP delivers CRLF.
        body = content.replace(b"\r\n", b"\n")
        with self.lock:
            self.maildir.add(trace + body)  # written to tmp/, then renamed into new/
            self.received += 1
        return "250 Message accepted for delivery"


class MailCatcher:
    """``with MailCatcher(path) as smtp:`` -- an SMTP server on ``smtp.port`` filing into
    the Maildir at ``path`` (created with its ``cur``/``new``/``tmp`` folders)."""

    def __init__(self, path: Path, port: int | None = None) -> None:
        self.path = Path(path)
        self.maildir = mailbox.Maildir(self.path, factory=None, create=True)
        self.handler = _MaildirHandler(self.maildir)
        self.port = port or _free_port()
        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            data_size_limit=_MAX_MESSAGE_BYTES,
            ready_timeout=10.0,
        )

    @property
    def url(self) -> str:
        """The ``[smtp] url`` that points the email channel here."""
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def received(self) -> int:
        return self.handler.received

    def start(self) -> MailCatcher:
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller.loop.is_running():
            self.controller.stop()

    def __enter__(self) -> MailCatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
