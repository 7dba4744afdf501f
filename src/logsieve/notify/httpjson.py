"""JSON over HTTP for the channels, with one rule for what is worth retrying.

Retryable: connection errors, timeouts, 408, 425, 429 (honouring ``Retry-After``) and 5xx.
Not retryable: other 4xx -- the request itself is wrong (bad payload, revoked webhook, bad
key), and sending it again would fail the same way.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Mapping

import httpx

from .outbox import DeliveryFailed

__all__ = ["JsonPoster", "retry_after_seconds"]

_RETRYABLE_4XX = (408, 425, 429)
_MAX_RETRY_AFTER = 3600.0


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), _MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    seconds = when.timestamp() - (time.time() if now is None else now)
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER)


class JsonPoster:
    """POSTs bodies to one service with a kept-alive client (made on first use, per thread
    safety of httpx.Client)."""

    def __init__(self, service: str, timeout: float = 10.0) -> None:
        self.service = service  # for messages: "Slack", "Datadog", "webhook"
        self.timeout = timeout
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def _get_client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    timeout=self.timeout,
                    follow_redirects=False,
                    headers={"User-Agent": "logsieve-notify/1"},
                )
            return self._client

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> httpx.Response:
        """POST ``body``; return the 2xx response or raise DeliveryFailed."""
        merged = {"Content-Type": "application/json; charset=utf-8", **headers}
        try:
            response = self._get_client().post(url, content=body, headers=merged)
        except httpx.TimeoutException:
            raise DeliveryFailed(f"{self.service}: timed out after {self.timeout:g}s") from None
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{self.service}: {type(exc).__name__}: {exc}") from None
        if response.is_success:
            return response
        raise self.failure(response)

    def failure(self, response: httpx.Response) -> DeliveryFailed:
        """The DeliveryFailed for a non-2xx response, with the start of its body."""
        status = response.status_code
        detail = " ".join(response.text[:300].split())
        message = f"{self.service}: HTTP {status}" + (f": {detail}" if detail else "")
        retryable = status >= 500 or status in _RETRYABLE_4XX
        if not retryable and 300 <= status < 400:
            message += " (redirects are not followed; use the final URL)"
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        return DeliveryFailed(message, retryable=retryable, retry_after=retry_after)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
