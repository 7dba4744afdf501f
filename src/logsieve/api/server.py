"""The HTTP front: verify SigV4, pick the service by its protocol, run the operation.

Generic over services: each is registered with its botocore-driven protocol and its table of
operations. JSON services (``POST /`` with ``X-Amz-Target``) are picked by target prefix; Query
services (SNS: ``Action=...`` form-encoded, XML answers) take a ``POST /`` without a target that
is signed for them or form-encoded, and a ``GET /?Action=...``; every other request goes to the
REST service whose routes match its method and path. Every failure becomes AWS's error shape;
nothing a client sends produces a 500 or a traceback, and an unexpected fault answers
``ServiceUnavailableException`` (retried by SDKs).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from logsieve.errors import ServiceError
from logsieve.storage.disk import disk_status

from .awsjson import JsonProtocol
from .bodies import SMALL_BODY_BYTES, CloseUnreadBodies, cap_route, read_body
from .query import FORM_CONTENT_TYPE, XML_CONTENT_TYPE, QueryProtocol
from .rejections import RejectionLog
from .restjson import RestJsonProtocol, RouteMatch
from .sigv4 import SignatureError, VerifiedCaller, precheck, verify

log = logging.getLogger("logsieve.api")
#: Refused signatures, logged per key id and reason (see ``rejections``).
REJECTIONS = RejectionLog(logging.getLogger("logsieve.api.auth"))

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


@dataclass
class RestService:
    """A REST-JSON AWS service: its protocol layer, its operations by name, and how big a
    request body may be. ``executor`` runs its operations instead of the shared thread pool,
    so long ones (a Lambda invocation may take minutes) cannot starve the other services."""

    protocol: RestJsonProtocol
    operations: dict[str, Operation]
    max_body_bytes: int = MAX_BODY_BYTES
    executor: Executor | None = None

    @property
    def signing_name(self) -> str:
        return self.protocol.signing_name


@dataclass
class QueryService:
    """A Query-protocol AWS service (SNS): its protocol layer and its operations by name.

    ``anonymous`` operations serve requests that carry no signature, as AWS serves the
    ConfirmSubscription and Unsubscribe links it puts in emails and notifications (their own
    handlers, so the service knows the caller is unauthenticated); a signature that is present
    is always checked, and the request then goes to ``operations``.
    """

    protocol: QueryProtocol
    operations: dict[str, Operation]
    anonymous: dict[str, Operation] = field(default_factory=dict)
    max_body_bytes: int = MAX_BODY_BYTES

    @property
    def signing_name(self) -> str:
        return self.protocol.signing_name


class AwsApi:
    def __init__(
        self,
        services: Sequence[JsonService | RestService | QueryService],
        secret_for: Callable[[str], str | None],
        region: str,
    ) -> None:
        """``region`` is the configured one: every credential scope must name it."""
        json_services = [s for s in services if isinstance(s, JsonService)]
        self.rest = [s for s in services if isinstance(s, RestService)]
        self.query = [s for s in services if isinstance(s, QueryService)]
        self.query_by_scope = {s.signing_name: s for s in self.query}
        self.by_prefix = {s.protocol.target_prefix: s for s in json_services}
        self.secret_for = secret_for
        self.region = region
        self.default = json_services[0]

    def _service(self, target: str | None) -> JsonService:
        prefix = (target or "").partition(".")[0]
        return self.by_prefix.get(prefix, self.default)

    async def handle(self, request: Request) -> Response:
        """``POST /``: a JSON-protocol request (a REST route at ``/`` only without a target)."""
        target = request.headers.get("x-amz-target")
        if target is None:  # the JSON path (a target header) pays for nothing below
            if self.query:
                query_service = self._query_service(request)
                if query_service is not None:
                    return await self.handle_query(request, query_service)
            if self.rest:
                return await self.handle_rest(request)
        return await self._handle_json(request, target)

    async def _handle_json(self, request: Request, target: str | None) -> Response:
        request_id = str(uuid.uuid4())
        service = self._service(target)
        try:
            precheck_request(request, self.secret_for)
            body = await read_body(request, MAX_BODY_BYTES)
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
            verify_request(request, body, self.secret_for, service.signing_name, self.region)
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

    # -- REST services -------------------------------------------------------------------

    def _route(
        self, method: str, raw_path: str, query: str
    ) -> tuple[RestService, RouteMatch] | None:
        for service in self.rest:
            found = service.protocol.match(method, raw_path, query)
            if found is not None:
                return service, found
        return None

    async def handle_rest(self, request: Request) -> Response:
        """Any request that is not a JSON-protocol one: route it by method and path."""
        raw_path = request.scope.get("raw_path", b"/").decode("latin-1")
        if raw_path == "/" and self.query and request.method in ("GET", "POST"):
            query_service = self._query_service(request)
            if query_service is not None:
                return await self.handle_query(request, query_service)
        request_id = str(uuid.uuid4())
        query = request.scope.get("query_string", b"").decode("latin-1")
        found = self._route(request.method, raw_path, query)
        if found is None:
            if raw_path == "/" and request.method == "POST":
                return await self._handle_json(request, None)
            return await self._unknown_path(request, raw_path, request_id)
        service, match = found
        protocol = service.protocol
        limit = service.max_body_bytes
        try:
            precheck_request(request, self.secret_for)
            body = await read_body(
                request, limit, lambda: protocol.too_large(match.operation, limit)
            )
        except ServiceError as error:
            status, headers, payload = protocol.error_response(error)
        except ClientDisconnect:
            log.info("client disconnected request_id=%s operation=%s", request_id, match.operation)
            return Response(status_code=400)
        else:
            args = (service, match, request, body, query, request_id)
            if service.executor is None:
                status, headers, payload = await run_in_threadpool(self._process_rest, *args)
            else:
                loop = asyncio.get_running_loop()
                status, headers, payload = await loop.run_in_executor(
                    service.executor, self._process_rest, *args
                )
        return Response(payload, status, headers={**headers, "x-amzn-RequestId": request_id})

    async def _unknown_path(self, request: Request, raw_path: str, request_id: str) -> Response:
        """404 in the first REST service's shape; a body is capped like anywhere else."""
        protocol = self.rest[0].protocol if self.rest else self.default.protocol
        try:
            await read_body(request, SMALL_BODY_BYTES)
        except ServiceError as error:
            status, headers, payload = protocol.error_response(error)
        except ClientDisconnect:
            return Response(status_code=400)
        else:
            if self.rest:
                error = self.rest[0].protocol.unknown_operation(request.method, raw_path)
            else:
                error = ServiceError("UnknownOperationException", "", 404)
            status, headers, payload = protocol.error_response(error)
        return Response(payload, status, headers={**headers, "x-amzn-RequestId": request_id})

    def _process_rest(
        self,
        service: RestService,
        match: RouteMatch,
        request: Request,
        body: bytes,
        query: str,
        rid: str,
    ) -> tuple[int, dict[str, str], bytes]:
        protocol = service.protocol
        try:
            verify_request(request, body, self.secret_for, service.signing_name, self.region)
            operation = service.operations.get(match.operation)
            if operation is None:
                raise ServiceError(
                    "UnknownOperationException",
                    f"logsieve does not implement {match.operation} yet.",
                )
            params = protocol.parse_request(match, query, request.headers, body)
            return protocol.serialize_response(match.operation, operation(params))
        except ServiceError as error:
            return protocol.error_response(error)
        except Exception:
            log.exception("unexpected failure request_id=%s operation=%s", rid, match.operation)
            return protocol.error_response(
                ServiceError(
                    "ServiceUnavailableException",
                    "The service failed to process the request; it is safe to retry.",
                    status=500,
                )
            )

    # -- Query services ------------------------------------------------------------------

    def _query_service(self, request: Request) -> QueryService | None:
        """The Query service a request at ``/`` is for, or None.

        Signed requests are picked by their credential scope's service (``.../sns/aws4_request``);
        unsigned ones (links from emails) or form posts with another scope fall back to the
        first Query service when they look like Query (form-encoded body, ``Action=`` in the
        query string).
        """
        scope = _credential_service(request)
        if scope is not None:
            found = self.query_by_scope.get(scope)
            if found is not None:
                return found
        content_type = request.headers.get("content-type", "")
        query = request.scope.get("query_string", b"")
        if content_type.startswith(FORM_CONTENT_TYPE) or b"Action=" in query:
            return self.query[0]
        return None

    async def handle_query(self, request: Request, service: QueryService) -> Response:
        """A Query-protocol request: form parameters from the body (POST) and the query string."""
        request_id = str(uuid.uuid4())
        protocol = service.protocol
        # Unsigned requests may only be the anonymous actions (links from emails), which are
        # small: their bodies are capped low, and only signed ones get the service's limit.
        limit = service.max_body_bytes if _signed(request) else SMALL_BODY_BYTES
        try:
            if _signed(request):
                precheck_request(request, self.secret_for)
            body = await read_body(request, limit, lambda: protocol.too_large(limit))
        except ServiceError as error:
            status, headers, payload = protocol.error_response(error, request_id)
        except ClientDisconnect:
            log.info("client disconnected request_id=%s protocol=query", request_id)
            return Response(status_code=400)
        else:
            status, headers, payload = await run_in_threadpool(
                self._process_query, service, request, body, request_id
            )
        return Response(payload, status, headers={**headers, "x-amzn-RequestId": request_id})

    def _process_query(
        self, service: QueryService, request: Request, body: bytes, rid: str
    ) -> tuple[int, dict[str, str], bytes]:
        protocol = service.protocol
        query = request.scope.get("query_string", b"").decode("latin-1")
        action = None
        try:
            params = protocol.decode_form(query)
            if body:
                params.update(protocol.decode_form(body))
            action = params.get("Action")
            operations = service.operations
            if not _signed(request) and action in service.anonymous:
                operations = service.anonymous
            else:
                verify_request(request, body, self.secret_for, service.signing_name, self.region)
            name = protocol.operation_name(params)
            operation = operations.get(name)
            if operation is None:
                raise ServiceError("InvalidAction", f"logsieve does not implement {name} yet.")
            result = operation(protocol.parse_request(name, params))
            return (
                200,
                {"Content-Type": XML_CONTENT_TYPE},
                protocol.serialize_response(name, result, rid),
            )
        except ServiceError as error:
            return protocol.error_response(error, rid)
        except Exception:
            log.exception("unexpected failure request_id=%s action=%s", rid, action)
            return protocol.error_response(
                ServiceError(
                    "InternalErrorException",
                    "The service failed to process the request; it is safe to retry.",
                    status=500,
                ),
                rid,
            )


def verify_request(
    request: Request,
    body: bytes,
    secret_for: Callable[[str], str | None],
    service: str | None = None,
    region: str | None = None,
) -> VerifiedCaller:
    """Check ``request``'s SigV4 signature over the raw path and query it was signed with;
    with ``service`` / ``region``, the credential scope must name them too, as AWS requires.
    A refusal is logged (rate-limited) with the key id and the reason before it is raised."""
    try:
        return verify(
            request.method,
            request.scope.get("raw_path", b"/").decode("latin-1"),
            request.scope.get("query_string", b"").decode("latin-1"),
            list(request.headers.items()),
            body,
            secret_for,
            region=region,
            service=service,
        )
    except SignatureError as error:
        _log_refusal(request, error, service, region)
        raise


def precheck_request(request: Request, secret_for: Callable[[str], str | None]) -> None:
    """Before the body is read: refuse (and log) a request without a signature or with an
    unknown key id, so such a caller never makes the server buffer its body."""
    try:
        precheck(
            request.headers.items(),
            request.scope.get("query_string", b"").decode("latin-1"),
            secret_for,
        )
    except SignatureError as error:
        _log_refusal(request, error)
        raise


def _log_refusal(
    request: Request, error: SignatureError, service: str | None = None, region: str | None = None
) -> None:
    details: dict[str, object] = {}
    if error.reason == "wrong-region":
        details["configured_region"] = region
    elif error.reason == "wrong-service":
        details["expected_service"] = service
    REJECTIONS.rejected(
        error.access_key_id,
        error.reason,
        code=error.code,
        **details,
        method=request.method,
        path=request.url.path,
        client=request.client.host if request.client else "-",
        message=error.message,
    )


def _signed(request: Request) -> bool:
    """Whether the request carries a signature (header or presigned query) at all."""
    query = request.scope.get("query_string", b"")
    return "authorization" in request.headers or b"X-Amz-Signature=" in query


def _credential_service(request: Request) -> str | None:
    """The service named by a SigV4 credential scope (header or presigned query), if any."""
    auth = request.headers.get("authorization")
    if auth:
        start = auth.find("Credential=")
        text = auth[start + 11 :].split(",", 1)[0] if start >= 0 else ""
    else:
        query = request.scope.get("query_string", b"").decode("latin-1")
        start = query.find("X-Amz-Credential=")
        if start < 0:
            return None
        text = query[start + 17 :].split("&", 1)[0].replace("%2F", "/").replace("%2f", "/")
    parts = text.strip().split("/")
    return parts[3] if len(parts) == 5 else None


_REST_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


async def health(request: Request) -> Response:
    """``{"status": "ok"}``, or what is degraded (a full disk: writes fail until it has room)."""
    return JSONResponse(disk_status() or {"status": "ok"})


def build_app(api: AwsApi, lifespan: Any = None, extra: list[Route] | None = None) -> Starlette:
    """The ASGI app; ``extra`` routes (logsieve's own endpoints) come before the catch-all.

    Every route caps the request body before reading it: the AWS routes at their service's
    limit, logsieve's own routes (``extra``, health) at ``SMALL_BODY_BYTES``, read before
    their handler runs, so no handler can read an unbounded body, signed or not.
    """
    own = [Route("/health", health, methods=["GET"]), *(extra or [])]
    return Starlette(
        routes=[
            *(cap_route(route) for route in own),
            Route("/", api.handle, methods=["POST"]),
            Route("/{path:path}", api.handle_rest, methods=_REST_METHODS),
        ],
        middleware=[Middleware(CloseUnreadBodies)],
        lifespan=lifespan,
    )
