"""Email channel: a notification as a text + HTML message through the configured SMTP server."""

from __future__ import annotations

from collections.abc import Sequence

from .message import Notification
from .policy import DEFAULT_POLICY, DeliveryPolicy
from .render import html_from_text, iso_time
from .smtp import SmtpSettings, send_email

__all__ = ["EmailChannel"]


class EmailChannel:
    """Sends to a fixed list of addresses. Subject = title; the severity, source and tags go
    in ``X-Logsieve-*`` headers so mail filters can sort alerts without parsing bodies."""

    def __init__(
        self,
        name: str,
        smtp: SmtpSettings,
        sender: str,
        to: Sequence[str],
        policy: DeliveryPolicy = DEFAULT_POLICY,
    ) -> None:
        if not to:
            raise ValueError(f"email channel {name!r} needs at least one recipient")
        self.name = name
        self.policy = policy
        self.smtp = smtp
        self.sender = sender
        self.to = list(to)

    def render(self, note: Notification) -> tuple[str, str, str, dict[str, str]]:
        """(subject, text, html, headers) for ``note``."""
        details = [("Severity", note.severity)]
        if note.source:
            details.append(("Source", note.source))
        if note.timestamp:
            details.append(("Time", iso_time(note.timestamp)))
        if note.tags:
            details.append(("Tags", ", ".join(note.tags)))
        footer = "\n".join(f"{label}: {value}" for label, value in details)
        text = f"{note.text.rstrip()}\n\n-- \n{footer}\n"
        body_html = (
            note.html if note.html is not None else html_from_text(note.title, note.text, details)
        )
        headers = {"X-Logsieve-Severity": note.severity}
        if note.source:
            headers["X-Logsieve-Source"] = note.source
        if note.tags:
            headers["X-Logsieve-Tags"] = ", ".join(note.tags)
        return note.title, text, body_html, headers

    def send(self, note: Notification) -> None:
        subject, text, body_html, headers = self.render(note)
        send_email(self.smtp, self.sender, self.to, subject, text, body_html, headers)
