"""Generic webhook channel: the notification's fields as a JSON POST, optionally signed.

With a secret, each request carries ``X-Logsieve-Signature: sha256=<hex>``, the HMAC-SHA256
of the exact body bytes (the same scheme as GitHub's ``X-Hub-Signature-256``), and
``X-Logsieve-Timestamp`` (Unix seconds when it was sent). A receiver verifies with
:func:`verify_signature` or its own few lines, comparing in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

from .codec import notification_to_json
from .httpjson import JsonPoster
from .message import Notification
from .policy import DEFAULT_POLICY, DeliveryPolicy

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookChannel",
    "sign",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Logsieve-Signature"
TIMESTAMP_HEADER = "X-Logsieve-Timestamp"
_RESERVED = {SIGNATURE_HEADER.lower(), TIMESTAMP_HEADER.lower(), "content-length", "host"}


def sign(secret: str, body: bytes) -> str:
    """The signature header value for ``body``: ``sha256=<hex>``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """True when ``header`` is the signature of ``body`` under ``secret``."""
    return header is not None and hmac.compare_digest(sign(secret, body), header.strip())


class WebhookChannel:
    """POSTs JSON to one URL with optional custom headers (e.g. an ``Authorization`` token)."""

    def __init__(
        self,
        name: str,
        url: str,
        secret: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        policy: DeliveryPolicy = DEFAULT_POLICY,
    ) -> None:
        bad = [h for h in (headers or {}) if h.lower() in _RESERVED]
        if bad:
            raise ValueError(f"webhook {name!r}: header {bad[0]!r} is set by logsieve itself")
        self.name = name
        self.policy = policy
        self.url = url
        self.secret = secret
        self.headers = dict(headers or {})
        self._poster = JsonPoster(f"webhook ({name})", timeout)

    def __repr__(self) -> str:
        return f"WebhookChannel(name={self.name!r})"

    def send(self, note: Notification) -> None:
        body = notification_to_json(note)
        headers = dict(self.headers)
        if self.secret:
            headers[TIMESTAMP_HEADER] = str(int(time.time()))
            headers[SIGNATURE_HEADER] = sign(self.secret, body)
        self._poster.post(self.url, body, headers)

    def close(self) -> None:
        self._poster.close()
