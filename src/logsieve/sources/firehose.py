"""``type = "firehose"``: this server as an Amazon Data Firehose HTTP endpoint destination.

Firehose POSTs ``{"requestId", "timestamp", "records": [{"data": base64}]}`` (gzip when the
delivery stream says so) with ``X-Amz-Firehose-*`` headers; we answer ``{"requestId",
"timestamp"}`` with 200 only once the events are durable. 413 means "permanent, do not retry"
(a body too large, a malformed request); any other error status is retried by Firehose with
the same request id, which we remember (``DEDUP_WINDOW`` ids, stored with the events they
brought) so a retry of a stored request stores nothing twice. The access key is compared in
constant time and a wrong one stores nothing.

Records that are awslogs payloads (gzip JSON, or plain JSON when Firehose's decompression
processor is on) become their events, in the payload's group and stream; CONTROL_MESSAGE
records are dropped; anything else lands as one raw message per record in ``raw_log_group``
(stream: the delivery stream's name).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import os
import threading
import time
import zlib
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from logsieve.config_values import Invalid
from logsieve.errors import ServiceError

from .awslogs_records import NotAwslogs, awslogs_batch
from .base import Key, SourceContext, SourceKind, SourceSpec
from .events import RemoteBatch, RemoteEvent
from .keys import env_name, log_group_name, optional_text, text, url_path

__all__ = ["KIND", "FirehoseSource", "records_to_events"]

MAX_BODY_BYTES = 64 * 1024 * 1024  # Firehose's limit before compression
MAX_RECORDS = 10_000
DEDUP_WINDOW = 1_000  # request ids remembered: Firehose retries for at most 2 hours
REQUESTS = "requests"  # position key: the recent request ids, oldest first
HEADER_KEY = "x-amz-firehose-access-key"
HEADER_ID = "x-amz-firehose-request-id"
HEADER_ARN = "x-amz-firehose-source-arn"


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def records_to_events(
    records: list[bytes], prefix: str, raw_group: str, raw_stream: str, timestamp: int
) -> list[RemoteBatch | RemoteEvent]:
    events: list[RemoteBatch | RemoteEvent] = []
    for raw in records:
        try:
            batch = awslogs_batch(raw, prefix)
        except NotAwslogs:
            if raw:
                message = raw.decode("utf-8", errors="replace").rstrip("\n")
                events.append(RemoteEvent(raw_group, raw_stream, timestamp, message))
            continue
        if batch is not None:  # None: CONTROL_MESSAGE
            events.append(batch)
    return events


def _parse(body: bytes | bytearray, gzipped: bool) -> tuple[str, int, list[bytes]]:
    if gzipped:
        inflater = zlib.decompressobj(wbits=31)
        try:
            body = inflater.decompress(body, MAX_BODY_BYTES + 1)
        except zlib.error as exc:
            raise _Refused(400, f"Content-Encoding is gzip but the body is not: {exc}") from None
        if len(body) > MAX_BODY_BYTES or inflater.unconsumed_tail:
            raise _Refused(413, f"The request body exceeds {MAX_BODY_BYTES} bytes.")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise _Refused(400, "The request body is not JSON.") from None
    if not isinstance(document, dict):
        raise _Refused(400, "The request body must be a JSON object.")
    request_id, stamp, records = (
        document.get("requestId"), document.get("timestamp"), document.get("records")
    )  # fmt: skip
    if not isinstance(request_id, str) or not request_id:
        raise _Refused(400, "The request body has no requestId.")
    if isinstance(stamp, bool) or not isinstance(stamp, int):
        raise _Refused(400, "The request body has no timestamp in milliseconds.")
    if not isinstance(records, list) or len(records) > MAX_RECORDS:
        raise _Refused(400, f"records must be a list of at most {MAX_RECORDS} records.")
    decoded: list[bytes] = []
    for index, record in enumerate(records):
        data = record.get("data") if isinstance(record, dict) else None
        if not isinstance(data, str):
            raise _Refused(400, f"records[{index}] has no data string.")
        try:
            decoded.append(base64.b64decode(data, validate=True))
        except (binascii.Error, ValueError):
            raise _Refused(400, f"records[{index}].data is not base64.") from None
    return request_id, stamp, decoded


async def _read_body(request: Request) -> bytearray:
    """The body, grown in place (a list of parts joined at the end held it twice)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _Refused(413, f"The request body exceeds {MAX_BODY_BYTES} bytes.")
    body = bytearray()
    async for part in request.stream():
        if len(body) + len(part) > MAX_BODY_BYTES:
            raise _Refused(413, f"The request body exceeds {MAX_BODY_BYTES} bytes.")
        body += part
    return body


class FirehoseSource:
    def __init__(self, spec: SourceSpec, ctx: SourceContext) -> None:
        self.spec = spec
        self.ctx = ctx
        key = spec["access_key"]
        if key is None and spec["access_key_env"]:
            key = os.environ.get(spec["access_key_env"], "")
        self._key = (key or "").encode()
        self._lock = threading.Lock()  # one request's dedup check and write at a time
        self._seen: list[str] | None = None

    def routes(self) -> list[BaseRoute]:
        async def endpoint(request: Request) -> Response:
            return await self.receive(request)

        endpoint.reads_own_body = True  # type: ignore[attr-defined]  # capped below, after the key
        return [Route(self.spec["path"], endpoint, methods=["POST"])]

    async def run(self) -> None:
        self.ctx.status.state = "listening"
        await asyncio.Event().wait()  # requests arrive on the route

    async def receive(self, request: Request) -> Response:
        request_id = request.headers.get(HEADER_ID, "")
        try:
            given = request.headers.get(HEADER_KEY, "").encode()
            if not hmac.compare_digest(given, self._key):
                raise _Refused(401, "Invalid X-Amz-Firehose-Access-Key.")
            try:
                body = await _read_body(request)
            except ServiceError as busy:  # over the server's body budget: 503, retried
                raise _Refused(busy.status, busy.message) from None
            gzipped = request.headers.get("content-encoding", "").lower() == "gzip"
            stream = request.headers.get(HEADER_ARN, "").rpartition("/")[2] or self.spec.name
            request_id = await run_in_threadpool(self._handle, body, gzipped, request_id, stream)
        except _Refused as refused:
            return _answer(request_id, refused.status, refused.message)
        except Exception as error:  # the store failed (disk full...): Firehose retries
            self.ctx.status.failed(error)
            return _answer(request_id, 500, "The events could not be stored; retry.")
        return _answer(request_id, 200)

    def _handle(self, body: bytes | bytearray, gzipped: bool, request_id: str, stream: str) -> str:
        """Off the event loop: parse, decode and store one request; its request id."""
        body_id, stamp, records = _parse(body, gzipped)
        request_id = request_id or body_id
        events = records_to_events(
            records, self.spec["into_prefix"], self.spec["raw_log_group"], stream, stamp
        )
        self._store(request_id, events)
        self.ctx.status.lag_seconds = max(0.0, time.time() - stamp / 1000)
        return request_id

    def _store(self, request_id: str, events: list[RemoteBatch | RemoteEvent]) -> None:
        with self._lock:
            if self._seen is None:
                stored = self.ctx.positions().get(REQUESTS)
                self._seen = orjson.loads(stored) if stored else []
            if request_id in self._seen:
                return  # a retry of a request already stored
            seen = [*self._seen, request_id][-DEDUP_WINDOW:]
            self.ctx.write_now(events, {REQUESTS: orjson.dumps(seen).decode()})
            self._seen = seen
            self.ctx.status.position = {"lastRequestId": request_id}


def _answer(request_id: str, status: int, error: str | None = None) -> Response:
    body: dict[str, Any] = {"requestId": request_id, "timestamp": int(time.time() * 1000)}
    if error is not None:
        body["errorMessage"] = error
    return JSONResponse(body, status_code=status)


def _check(options: dict[str, Any]) -> None:
    if (options["access_key"] is None) == (options["access_key_env"] is None):
        raise Invalid(
            "needs exactly one of access_key and access_key_env",
            'add access_key_env = "FIREHOSE_ACCESS_KEY" (the key set on the delivery stream)',
        )
    if options["raw_log_group"] is None:
        options["raw_log_group"] = "/firehose/raw"


KIND = SourceKind(
    keys={
        "path": Key(url_path, required=True),
        "access_key": Key(text),
        "access_key_env": Key(env_name),
        "raw_log_group": Key(log_group_name),
        "into_prefix": Key(optional_text, default=""),
    },
    build=FirehoseSource,
    check=_check,
    describe="Amazon Data Firehose HTTP endpoint delivery, on this server",
)
