"""Invoke: payload limits, the three invocation types, and the response members.

``RequestResponse`` runs the function on the caller's thread and answers with its outcome;
``Event`` queues it on a small thread pool and answers 202 at once (as Lambda's asynchronous
invocation does, minus its retries); ``DryRun`` only checks the function could be invoked.
"""

from __future__ import annotations

import base64
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import orjson

from logsieve.errors import ServiceError

from .names import LATEST
from .spec import FunctionSpec, InvokeResult

MAX_SYNC_PAYLOAD = 6_291_456  # RequestResponse request payload (6 MB)
MAX_EVENT_PAYLOAD = 1_048_576  # Event (asynchronous) payload (1 MB)
MAX_QUEUED_EVENTS = 1000  # asynchronous invocations waiting for a thread, beyond which: 429
LOG_TAIL_BYTES = 4096  # X-Amz-Log-Result holds the last 4 KB of the invocation's log

log = logging.getLogger(__name__)


class Runtime(Protocol):
    """What the service needs from ``lambdas.runtime.FunctionRuntime``."""

    def invoke(self, spec: FunctionSpec, event: bytes, tail: bool = False) -> InvokeResult: ...

    def retire(self, name: str) -> None: ...


def event_bytes(payload: bytes | None, invocation_type: str) -> bytes:
    """The event a handler gets: the request payload (``{}`` when empty), which must be JSON."""
    limit = MAX_EVENT_PAYLOAD if invocation_type == "Event" else MAX_SYNC_PAYLOAD
    payload = payload or b""
    if len(payload) > limit:
        raise ServiceError(
            "RequestTooLargeException",
            f"{len(payload)} byte payload is too large for the {invocation_type} invocation "
            f"type (limit {limit} bytes)",
            413,
        )
    if not payload.strip():
        return b"{}"
    try:
        orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise ServiceError(
            "InvalidRequestContentException",
            f"Could not parse request body into json: Could not parse payload into json: {exc}",
        ) from None
    return payload


def response(result: InvokeResult, tail: bool) -> dict[str, Any]:
    """Invoke's response members for a synchronous outcome."""
    out: dict[str, Any] = {
        "StatusCode": 200,
        "Payload": result.payload,
        "ExecutedVersion": LATEST,
    }
    if result.function_error:
        out["FunctionError"] = result.function_error
    if tail:
        last = result.log_tail.encode("utf-8")[-LOG_TAIL_BYTES:]
        out["LogResult"] = base64.b64encode(last).decode("ascii")
    return out


class Invoker:
    """Runs invocations on a ``Runtime``, synchronously or queued, with AWS-shaped failures."""

    def __init__(self, runtime: Runtime, threads: int = 8) -> None:
        self.runtime = runtime
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="lambda-event")
        self._queued = 0
        self._lock = threading.Lock()

    def run(self, spec: FunctionSpec, event: bytes, tail: bool = False) -> InvokeResult:
        try:
            return self.runtime.invoke(spec, event, tail)
        except ServiceError:
            raise
        except Exception as exc:
            log.exception("event=lambda_invoke_failed function=%s", spec.name)
            raise ServiceError(
                "ServiceException",
                f"Lambda could not run the function {spec.name}: {exc}",
                500,
            ) from None

    def submit(self, spec: FunctionSpec, event: bytes) -> None:
        """Queue an asynchronous invocation; its outcome only reaches the function's logs."""
        with self._lock:
            if self._queued >= MAX_QUEUED_EVENTS:
                raise ServiceError(
                    "TooManyRequestsException",
                    "Rate Exceeded.",
                    429,
                    {"Reason": "CallerRateLimitExceeded"},
                )
            self._queued += 1
        try:
            self._pool.submit(self._run_event, spec, event)
        except RuntimeError:  # shut down: the server is stopping
            self._done()
            raise ServiceError("ServiceException", "Lambda is shutting down.", 500) from None

    def _run_event(self, spec: FunctionSpec, event: bytes) -> None:
        try:
            result = self.runtime.invoke(spec, event)
            if not result.ok:
                log.info(
                    "event=lambda_event_failed function=%s request_id=%s error=%s",
                    spec.name,
                    result.request_id,
                    result.function_error,
                )
        except Exception:
            log.exception("event=lambda_event_failed function=%s", spec.name)
        finally:
            self._done()

    def _done(self) -> None:
        with self._lock:
            self._queued -= 1

    def close(self) -> None:
        """Drop queued asynchronous invocations; running ones end when the runtime closes."""
        self._pool.shutdown(wait=False, cancel_futures=True)
