"""Send batches with PutLogEvents: retry what is transient, explain what is not.

One Sender wraps one botocore client (one per thread). Transient failures -- the server is down
or restarting, throttling, 5xx -- are retried with exponential backoff and full jitter, for a
bounded number of attempts (``put``, ``simulate``) or for ever (``ship``: a log shipper keeps
its lines until the server is back). Everything else ends the run with one line that says what
to do. Events the server accepted the request for but refused (too old, too new, expired) come
back in the result, counted by reason, so callers report them instead of losing them silently.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from .batching import Batch
from .errors import Interrupted, ShippingError

__all__ = ["Rejected", "RetryPolicy", "SendResult", "Sender"]

log = logging.getLogger(__name__)

_AUTH_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "IncompleteSignature",
        "IncompleteSignatureException",
        "MissingAuthenticationToken",
        "SignatureDoesNotMatch",
        "AccessDeniedException",
        "AccessDenied",
        "ExpiredTokenException",
        "InvalidClientTokenId",
    }
)
_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ServiceUnavailableException",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalServerError",
        "RequestTimeout",
        "RequestTimeoutException",
        "SlowDown",
    }
)


@dataclass(frozen=True, slots=True)
class Rejected:
    """Events of one request the server refused, by reason (``rejectedLogEventsInfo``)."""

    too_old: int = 0  # older than 14 days
    expired: int = 0  # older than the log group's retention (beyond the too-old ones)
    too_new: int = 0  # more than 2 hours in the future

    @property
    def total(self) -> int:
        return self.too_old + self.expired + self.too_new

    def __bool__(self) -> bool:
        return self.total > 0

    def __add__(self, other: Rejected) -> Rejected:
        return Rejected(
            self.too_old + other.too_old,
            self.expired + other.expired,
            self.too_new + other.too_new,
        )

    @classmethod
    def from_info(cls, info: dict[str, Any] | None, count: int) -> Rejected:
        """Counts from the response's index fields (ends exclusive, start inclusive)."""
        if not info:
            return cls()
        too_old = int(info.get("tooOldLogEventEndIndex") or 0)
        expired = max(0, int(info.get("expiredLogEventEndIndex") or 0) - too_old)
        start = info.get("tooNewLogEventStartIndex")
        too_new = count - int(start) if start is not None else 0
        return cls(too_old, expired, max(0, too_new))

    def describe(self) -> str:
        """``3 too old (over 14 days), 1 too new (over 2 h ahead)``; empty when none."""
        parts = []
        if self.too_old:
            parts.append(f"{self.too_old:,} too old (over 14 days)")
        if self.expired:
            parts.append(f"{self.expired:,} expired (older than the group's retention)")
        if self.too_new:
            parts.append(f"{self.too_new:,} too new (over 2 h ahead of the server's clock)")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class SendResult:
    """What one PutLogEvents call did: events stored, events refused (and which)."""

    accepted: int
    rejected: Rejected
    rejected_messages: tuple[str, ...] = ()  # the first few refused messages, for reports


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter; ``max_attempts`` None retries for ever."""

    max_attempts: int | None = 6
    base_delay: float = 0.2
    max_delay: float = 10.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


class _GroupMissing(ShippingError):
    """CreateLogStream found no log group (the caller creates it, then the stream)."""


def _error_code(exc: Exception) -> tuple[str, str, int]:
    response = getattr(exc, "response", None) or {}
    error = response.get("Error", {})
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return str(error.get("Code", "")), str(error.get("Message", "")), int(status or 0)


class Sender:
    """PutLogEvents (and the create calls an agent makes) through one client."""

    def __init__(
        self,
        client: Any,
        *,
        endpoint: str = "",
        create: bool = False,
        retry: RetryPolicy | None = None,
        on_retry: Callable[[str, float], None] | None = None,
        stop: threading.Event | None = None,
        seed: int | None = None,
    ) -> None:
        import botocore.exceptions as bce

        self.client = client
        self.endpoint = endpoint or getattr(getattr(client, "meta", None), "endpoint_url", "")
        self.create = create
        self.retry = retry or RetryPolicy()
        self.on_retry = on_retry
        self.stop = stop or threading.Event()
        self._rng = random.Random(seed)
        self._client_error = bce.ClientError
        self._network_errors: tuple[type[BaseException], ...] = (
            bce.ConnectionError,
            bce.HTTPClientError,
        )
        self._body: bytes | None = None
        events = getattr(getattr(client, "meta", None), "events", None)
        if events is not None:
            events.register(
                "before-call.cloudwatch-logs.PutLogEvents",
                self._swap_body,
                unique_id=f"logsieve-body-{id(self)}",
            )

    # -- the agent's create calls -----------------------------------------------------------
    def ensure_group(self, group: str) -> None:
        """CreateLogGroup, fine if it exists (what a delivering agent with the permission
        does)."""
        self._call_create("create_log_group", logGroupName=group)

    def ensure_stream(self, group: str, stream: str) -> None:
        """CreateLogStream (after the group, when it is missing), fine if it exists."""
        try:
            self._call_create("create_log_stream", logGroupName=group, logStreamName=stream)
        except _GroupMissing:
            self.ensure_group(group)
            self._call_create("create_log_stream", logGroupName=group, logStreamName=stream)

    def check_stream(self, group: str, stream: str) -> None:
        """Fail before any input is read when the group or the stream is missing."""
        hint = "pass --create to create it"
        try:
            found = self._with_retries(
                lambda: self.client.describe_log_streams(
                    logGroupName=group, logStreamNamePrefix=stream, limit=1
                )
            )
        except self._client_error as exc:
            code, _, _ = _error_code(exc)
            if code == "ResourceNotFoundException":
                raise ShippingError(
                    f"{group}: the log group does not exist on {self.endpoint}; {hint}"
                ) from None
            raise self._fatal(exc) from None
        names = [s.get("logStreamName") for s in found.get("logStreams", [])]
        if stream not in names:
            raise ShippingError(
                f"{group} / {stream}: the log stream does not exist on {self.endpoint}; {hint}"
            )

    def _call_create(self, method: str, **params: Any) -> None:
        try:
            self._with_retries(lambda: getattr(self.client, method)(**params))
        except self._client_error as exc:
            code, message, _ = _error_code(exc)
            if code == "ResourceAlreadyExistsException":
                return
            if code == "ResourceNotFoundException":
                raise _GroupMissing(
                    f"{params.get('logGroupName')}: the log group does not exist on "
                    f"{self.endpoint} ({message})"
                ) from None
            raise self._fatal(exc) from None

    # -- sending ----------------------------------------------------------------------------
    def send(self, group: str, batch: Batch) -> SendResult:
        """PutLogEvents for ``batch`` into ``group``; returns once the server answered 200.

        Raises ShippingError when the request cannot succeed (missing group or stream without
        ``create``, refused credentials, a request the server calls invalid, retries used up)
        and Interrupted when ``stop`` is set while waiting to retry.
        """
        events = batch.events
        body = _encode(group, batch.stream, events)
        created = False
        while True:
            try:
                response = self._with_retries(lambda: self._put(group, batch.stream, events, body))
            except self._client_error as exc:
                code, message, _ = _error_code(exc)
                if code != "ResourceNotFoundException":
                    raise self._fatal(exc) from None
                what = "log group" if "group" in message.lower() else "log stream"
                if self.create and not created:
                    self.ensure_stream(group, batch.stream)
                    created = True
                    continue
                name = group if what == "log group" else f"{group} / {batch.stream}"
                raise ShippingError(
                    f"{name}: the {what} does not exist on {self.endpoint}; pass --create to "
                    f"create it, or create it with `aws logs create-log-"
                    f"{'group' if what == 'log group' else 'stream'}`"
                ) from None
            rejected = Rejected.from_info(response.get("rejectedLogEventsInfo"), len(events))
            messages: tuple[str, ...] = ()
            if rejected:
                messages = tuple(_rejected_messages(response["rejectedLogEventsInfo"], events))
            return SendResult(len(events) - rejected.total, rejected, messages)

    def _put(
        self, group: str, stream: str, events: list[dict[str, Any]], body: bytes | None
    ) -> Any:
        """PutLogEvents through the client. With ``body`` (the request already encoded by
        orjson), botocore serializes an empty event list and ``_swap_body`` puts the real
        body in before signing: botocore's own JSON encoding of 10,000 events costs more
        CPU than everything else the client does, and this is the whole lean path."""
        if body is None:
            return self.client.put_log_events(
                logGroupName=group, logStreamName=stream, logEvents=events
            )
        self._body = body
        try:
            return self.client.put_log_events(
                logGroupName=group, logStreamName=stream, logEvents=[]
            )
        finally:
            self._body = None

    def _swap_body(self, params: dict[str, Any], **_kwargs: Any) -> None:
        if self._body is not None:
            params["body"] = self._body

    def _with_retries(self, call: Callable[[], Any]) -> Any:
        attempt = 0
        while True:
            attempt += 1
            try:
                return call()
            except self._network_errors as exc:
                problem = f"cannot reach {self.endpoint} ({type(exc).__name__})"
                last: Exception = exc
            except self._client_error as exc:
                code, message, status = _error_code(exc)
                if code not in _TRANSIENT_CODES and status < 500:
                    raise
                problem = f"{code or status}: {message}".rstrip(": ")
                last = exc
            limit = self.retry.max_attempts
            if limit is not None and attempt >= limit:
                raise ShippingError(
                    f"{problem}; gave up after {attempt} attempts. Is `logsieve serve` running? "
                    "Use --endpoint-url to point at it."
                ) from last
            delay = self.retry.delay(attempt, self._rng)
            if self.on_retry is not None:
                self.on_retry(problem, delay)
            else:
                log.warning(
                    "event=send_retry endpoint=%s attempt=%d delay=%.2f problem=%r",
                    self.endpoint, attempt, delay, problem,
                )  # fmt: skip
            if self.stop.wait(delay):
                raise Interrupted("stopped while waiting to retry") from last

    def _fatal(self, exc: Exception) -> ShippingError:
        code, message, status = _error_code(exc)
        if code in _AUTH_CODES or status in (401, 403):
            return ShippingError(
                f"{self.endpoint} refused the request signature ({code}: {message}); sign with "
                "the server's key pair: point --data-dir at its data directory or set "
                "LOGSIEVE_ACCESS_KEY_ID and LOGSIEVE_SECRET_ACCESS_KEY"
            )
        return ShippingError(f"{code or status}: {message}")


def _encode(group: str, stream: str, events: list[dict[str, Any]]) -> bytes | None:
    """The PutLogEvents JSON body, or None when orjson cannot encode it (lone surrogates in a
    message): botocore's own encoder then does."""
    try:
        return orjson.dumps({"logGroupName": group, "logStreamName": stream, "logEvents": events})
    except orjson.JSONEncodeError:
        return None


def _rejected_messages(info: dict[str, Any], events: list[dict[str, Any]]) -> list[str]:
    indexes: list[int] = []
    end = max(int(info.get("tooOldLogEventEndIndex") or 0),
              int(info.get("expiredLogEventEndIndex") or 0))  # fmt: skip
    indexes.extend(range(min(end, 3)))
    start = info.get("tooNewLogEventStartIndex")
    if start is not None:
        indexes.extend(range(int(start), min(len(events), int(start) + 3)))
    return [events[i]["message"][:200] for i in indexes if i < len(events)]
