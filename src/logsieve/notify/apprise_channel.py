"""Any other service through an apprise URL (Teams, Discord, Telegram, ntfy, PagerDuty, ...).

apprise knows each service's API, so logsieve writes no client for them. apprise reports only
success or failure, so every failure is treated as retryable; the reason apprise logged is
captured and becomes the error shown by the outbox.
"""

from __future__ import annotations

import logging

import apprise

from .message import Notification
from .outbox import DeliveryFailed
from .policy import DEFAULT_POLICY, DeliveryPolicy

__all__ = ["AppriseChannel"]

_NOTIFY_TYPES = {
    "critical": apprise.NotifyType.FAILURE,
    "error": apprise.NotifyType.FAILURE,
    "warning": apprise.NotifyType.WARNING,
    "info": apprise.NotifyType.INFO,
}


class AppriseChannel:
    """Sends through one apprise URL (which often holds a token: it is never logged)."""

    def __init__(self, name: str, url: str, policy: DeliveryPolicy = DEFAULT_POLICY) -> None:
        self.name = name
        self.policy = policy
        self.url = url
        if not apprise.Apprise().add(url):
            raise ValueError(
                f"apprise does not recognise the URL of channel {name!r}; see apprise's "
                "list of supported services for the right form"
            )

    def __repr__(self) -> str:
        return f"AppriseChannel(name={self.name!r})"

    def send(self, note: Notification) -> None:
        # A fresh Apprise object per send: they are cheap, and not documented thread-safe.
        sender = apprise.Apprise()
        sender.add(self.url)
        with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
            ok = sender.notify(
                body=note.text or note.title,
                title=note.title,
                notify_type=_NOTIFY_TYPES.get(note.severity, apprise.NotifyType.INFO),
            )
        if not ok:
            logged = " ".join(captured.getvalue().split())[-300:]
            raise DeliveryFailed(
                f"apprise ({self.name}): notification failed" + (f": {logged}" if logged else "")
            )
