"""The HTTP front: verify SigV4, pick the service by its protocol, run the operation.

Generic over services: each is registered with its botocore-driven protocol and its table of
operations. Every failure becomes AWS's error shape; nothing a client sends produces a 500 or a
traceback, and an unexpected fault answers ``ServiceUnavailableException`` (retried by SDKs).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from logsieve.errors import ServiceError

from .awsjson import JsonProtocol
from .sigv4 import verify

log = logging.getLogger("logsieve.api")

MAX_BODY_BYTES = 8 * 1024 * 1024  # well above the largest valid PutLogEvents request
Operation = Callable[[dict[str, Any]], dict[str, Any] | None]


@dataclass
class JsonService:
    """A JSON-protocol AWS service: its protocol layer and its operations by name."""

    protocol: JsonProtocol
    operations: dict[str, Operation]

    @property
    def signing_name(self) -> str:
        return self.protocol.service_model.signing_name


class AwsApi:
    def __init__(
        self, services: list[JsonService], secret_for: Callable[[str], str | None]
    ) -> None:
        self.by_prefix = {s.protocol.target_prefix: s for s in services}
        self.secret_for = secret_for
        self.default = services[0]

    def _service(self, target: str | None) -> JsonService:
        prefix = (target or "").partition(".")[0]
        return self.by_prefix.get(prefix, self.default)

    async def handle(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        target = request.headers.get("x-amz-target")
        service = self._service(target)
        try:
            body = await _read_body(request)
        except ServiceError as error:
            status, headers, payload = service.protocol.error_response(error)
        except ClientDisconnect:  # the client went away mid-request: nobody to answer
            log.info("client disconnected request_id=%s target=%s", request_id, target)
            return Response(status_code=400)
        else:
            # Signature check, parsing and the operation run together on a worker thread, so
            # the event loop keeps reading other clients' bodies meanwhile.
            status, headers, payload = await run_in_threadpool(
                self._process, service, request, body, target, request_id
            )
        return Response(payload, status, headers={**headers, "x-amzn-RequestId": request_id})

    def _process(
        self, service: JsonService, request: Request, body: bytes, target: str | None, rid: str
    ) -> tuple[int, dict[str, str], bytes]:
        protocol = service.protocol
        try:
            caller = verify(
                request.method,
                request.scope.get("raw_path", b"/").decode("latin-1"),
                request.scope.get("query_string", b"").decode("latin-1"),
                list(request.headers.items()),
                body,
                self.secret_for,
            )
            if caller.service != service.signing_name:
                raise ServiceError(
                    "InvalidSignatureException",
                    f"Credential should be scoped to correct service: '{service.signing_name}'.",
                )
            name = protocol.operation_name(target)
            operation = service.operations.get(name)
            if operation is None:
                raise ServiceError(
                    "UnknownOperationException",
                    f"logsieve does not implement {name} yet.",
                )
            result = operation(protocol.parse_request(name, body))
            return (
                200,
                {"Content-Type": protocol.content_type},
                protocol.serialize_response(name, result),
            )
        except ServiceError as error:
            return protocol.error_response(error)
        except Exception:
            log.exception("unexpected failure request_id=%s target=%s", rid, target)
            return protocol.error_response(
                ServiceError(
                    "ServiceUnavailableException",
                    "The service failed to process the request; it is safe to retry.",
                    status=500,
                )
            )


async def _read_body(request: Request) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise _too_large()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> ServiceError:
    return ServiceError(
        "SerializationException",
        f"Request body is larger than {MAX_BODY_BYTES} bytes.",
        status=413,
    )


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def build_app(api: AwsApi, lifespan: Any = None) -> Starlette:
    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/", api.handle, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
