"""The HTTP front: pick the service a request is for, verify SigV4, run the operation.

Generic over services and protocols: each service is registered with its wire protocol (see
``wire``; the table is ``protocols.PROTOCOLS``) and its table of operations. One request flow
serves them all, like Starlette's ``Router`` over its routes: every protocol says how well the
request's head fits its service (``match``), the best fit is served (a JSON target, a REST
route, a Query ``Action`` signed for the service...), and a request nothing fits gets a 404 in
the words of the first path-routed protocol. Every failure becomes the protocol's error shape;
nothing a client sends produces a 500 or a traceback, and an unexpected fault answers
``ServiceUnavailableException`` (retried by SDKs; each protocol words it its own way).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from logsieve.cloudtrail.calls import ApiCall
from logsieve.errors import Operation, ServiceError
from logsieve.storage.disk import disk_status

from .bodies import SMALL_BODY_BYTES, BodyBudget, CloseUnreadBodies, cap_route, read_body
from .rejections import RejectionLog
from .sigv4 import SignatureError, VerifiedCaller, precheck, verify
from .wire import Answer, Match, WireProtocol, WireRequest

log = logging.getLogger("logsieve.api")
#: Refused signatures, logged per key id and reason (see ``rejections``).
REJECTIONS = RejectionLog(logging.getLogger("logsieve.api.auth"))

MAX_BODY_BYTES = 8 * 1024 * 1024  # well above the largest valid PutLogEvents request
_UNEXPECTED = ServiceError(
    "ServiceUnavailableException",
    "The service failed to process the request; it is safe to retry.",
    status=500,
)


#: An operation that is also given the id of the access key that signed the call.
CallerOperation = Callable[[dict[str, Any], str], dict[str, Any] | None]


@dataclass
class Service:
    """An AWS service as served: its wire protocol and its operations by name.

    ``max_body_bytes`` caps a request body. ``executor`` runs its operations instead of the
    shared thread pool, so long ones (a Lambda invocation may take minutes) cannot starve the
    other services. ``anonymous`` operations serve requests that carry no signature, as AWS
    serves the ConfirmSubscription and Unsubscribe links it puts in emails and notifications
    (their own handlers, so the service knows the caller is unauthenticated); a signature that
    is present is always checked, and the request then goes to ``operations``. ``of_caller``
    operations are also given the signing key's id (STS GetCallerIdentity answers who signed).
    """

    protocol: WireProtocol
    operations: Mapping[str, Operation]
    max_body_bytes: int = MAX_BODY_BYTES
    executor: Executor | None = None
    anonymous: Mapping[str, Operation] = field(default_factory=dict)
    of_caller: Mapping[str, CallerOperation] = field(default_factory=dict)


class CallRecorder(Protocol):
    """Where signed calls are handed after they are answered (CloudTrail's recorder)."""

    def wants(self, service: str, operation: str) -> bool: ...

    def record(self, call: ApiCall) -> None: ...


class AwsApi:
    def __init__(
        self,
        services: Sequence[Service],
        secret_for: Callable[[str], str | None],
        region: str,
        budget: BodyBudget | None = None,
        recorder: CallRecorder | None = None,
    ) -> None:
        """``region`` is the configured one: every credential scope must name it; ``budget``
        bounds the body bytes all requests hold at once (see :class:`BodyBudget`);
        ``recorder`` is told of every signed call it ``wants`` (never slower than a set
        lookup for the calls it does not)."""
        self.recorder = recorder
        self.budget = budget or BodyBudget()
        self.services = list(services)
        self.secret_for = secret_for
        self.region = region
        # Who words the answer to a request no service matches: a path-routed protocol (REST's
        # 404 names the method and path), else the first service.
        self.unrouted = next(
            (s for s in self.services if s.protocol.routes_by_path), self.services[0]
        )

    def _pick(self, request: WireRequest) -> Service | None:
        """The service that fits the request best (the first of equals), with its match."""
        best, level = None, Match.NONE
        for service in self.services:
            matched = service.protocol.match(request)
            if matched.level > level:
                best, level = service, matched.level
                request.matched = matched
                if level == Match.FULL:
                    break
        return best

    async def handle(self, request: Request) -> Response:
        """Every AWS request: one flow for every service and protocol, its body's bytes
        counted against the server-wide budget until it has been answered."""
        held = 0

        def take(size: int) -> None:
            nonlocal held
            self.budget.take(size)
            held += size

        try:
            return await self._handle(request, take)
        finally:
            self.budget.give(held)

    async def _handle(self, request: Request, take: Callable[[int], None]) -> Response:
        wire = WireRequest(
            request.method,
            request.scope.get("raw_path", b"/").decode("latin-1"),
            request.scope.get("query_string", b"").decode("latin-1"),
            request.headers,
        )
        request_id = str(uuid.uuid4())
        service = self._pick(wire)
        if service is None:
            return await self._not_found(request, wire, request_id)
        protocol = service.protocol
        # Unsigned requests to a service with anonymous actions (links from emails) are small:
        # their bodies are capped low, and only signed ones get the service's limit. They are
        # not prechecked: whether they may go unsigned depends on the action in the body.
        anonymous = bool(service.anonymous) and not wire.signed
        limit = SMALL_BODY_BYTES if anonymous else service.max_body_bytes
        operation = wire.matched.operation
        try:
            if not anonymous:
                precheck_request(request, self.secret_for)
            body = await read_body(
                request, limit, lambda: protocol.too_large(operation, limit), take
            )
        except ServiceError as error:
            answer = protocol.error(error, request_id)
        except ClientDisconnect:  # the client went away mid-request: nobody to answer
            log.info(
                "client disconnected request_id=%s service=%s operation=%s",
                request_id,
                protocol.signing_name,
                operation,
            )
            return Response(status_code=400)
        else:
            # Signature check, parsing and the operation run together on a worker thread, so
            # the event loop keeps reading other clients' bodies meanwhile.
            wire = replace(wire, body=body)
            args = (service, request, wire, request_id, anonymous)
            if service.executor is None:
                answer = await run_in_threadpool(self._process, *args)
            else:
                loop = asyncio.get_running_loop()
                answer = await loop.run_in_executor(service.executor, self._process, *args)
        return _response(answer, request_id)

    def _process(
        self,
        service: Service,
        request: Request,
        wire: WireRequest,
        request_id: str,
        anonymous: bool,
    ) -> Answer:
        protocol = service.protocol
        operations = service.operations
        name = wire.matched.operation
        started = time.time()  # the event time of a recorded call: when it arrived
        caller: VerifiedCaller | None = None
        params: dict[str, Any] | None = None
        result: dict[str, Any] | None = None
        failure: ServiceError | None = None
        try:
            if anonymous and protocol.operation(wire) in service.anonymous:
                operations = service.anonymous
            else:
                caller = verify_request(
                    request, wire.body, self.secret_for, protocol.signing_name, self.region
                )
                if service.of_caller:
                    operations = _given_caller(service, caller.access_key_id)
            name, params = protocol.parse(wire, operations)
            result = operations[name](params)
            return protocol.serialize(name, result, request_id)
        except ServiceError as error:
            failure = error
            return protocol.error(error, request_id)
        except Exception:
            log.exception(
                "unexpected failure request_id=%s service=%s operation=%s",
                request_id,
                protocol.signing_name,
                name,
            )
            failure = _UNEXPECTED
            return protocol.error(_UNEXPECTED, request_id)
        finally:
            if self.recorder is not None and caller is not None:
                call = (name, params, result, failure, caller, request_id, started)
                self._record(protocol, wire, request, *call)

    def _record(
        self,
        protocol: WireProtocol,
        wire: WireRequest,
        request: Request,
        name: str,
        params: dict[str, Any] | None,
        result: dict[str, Any] | None,
        failure: ServiceError | None,
        caller: VerifiedCaller,
        request_id: str,
        started: float,
    ) -> None:
        """Hand a signed call to the recorder, if it is one it wants."""
        assert self.recorder is not None
        if params is None:  # refused before parsing finished: what the head names
            name = _named(protocol, wire) or name
        if name not in protocol.compiled or not self.recorder.wants(protocol.signing_name, name):
            return
        call = ApiCall(
            protocol.signing_name, name, params, result,
            failure.code if failure else None, failure.message if failure else None,
            caller.access_key_id, request.client.host if request.client else "-",
            request.headers.get("user-agent", ""), request_id,
            started, self.region,
        )  # fmt: skip
        self.recorder.record(call)

    async def _not_found(self, request: Request, wire: WireRequest, request_id: str) -> Response:
        """404 in the words of ``unrouted``; a body is capped like anywhere else."""
        protocol = self.unrouted.protocol
        try:
            await read_body(request, SMALL_BODY_BYTES)
        except ServiceError as error:
            return _response(protocol.error(error, request_id), request_id)
        except ClientDisconnect:
            return Response(status_code=400)
        return _response(protocol.error(protocol.not_found(wire), request_id), request_id)


def _given_caller(service: Service, access_key_id: str) -> dict[str, Operation]:
    """The service's operations, its ``of_caller`` ones bound to the signing key."""
    bound = {
        name: (lambda params, op=op: op(params, access_key_id))
        for name, op in service.of_caller.items()
    }
    return {**service.operations, **bound}


def _named(protocol: WireProtocol, wire: WireRequest) -> str:
    try:
        return protocol.operation(wire)
    except ServiceError:
        return ""


def _response(answer: Answer, request_id: str) -> Response:
    status, headers, payload = answer
    headers = {**headers, "x-amzn-RequestId": request_id}
    if hasattr(payload, "__aiter__"):  # an event stream: frames sent as they are made
        return StreamingResponse(payload, status, headers=headers)
    return Response(payload, status, headers=headers)


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
            *(cap_route(route, budget=api.budget) for route in own),
            Route("/{path:path}", api.handle, methods=_REST_METHODS),
        ],
        middleware=[Middleware(CloseUnreadBodies)],
        lifespan=lifespan,
    )
