"""Request bodies are capped before they are read, on every route, signed or not.

Nothing is read past a route's limit: a declared ``Content-Length`` over it is refused
unread, a chunked body is refused as soon as it passes it (413), and a connection whose
request body was not read to its end is closed after the answer, so the server never reads
and discards the rest of a body nobody asked for (uvicorn stops reading a body the app does
not consume after 64 KiB, and would otherwise drain it to keep the connection alive).
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from logsieve.errors import ServiceError

__all__ = [
    "SMALL_BODY_BYTES",
    "UNVERIFIED_BUDGET_BYTES",
    "BodyBudget",
    "CloseUnreadBodies",
    "budgeted_route",
    "cap_route",
    "inflated",
    "read_body",
    "too_large",
]

#: The cap for logsieve's own routes (operator endpoints, health, certificates): their
#: requests carry no body, so anything beyond a small one is refused.
SMALL_BODY_BYTES = 64 * 1024

#: How many body bytes the AWS routes hold at once, server-wide, while their requests are
#: read, verified and served. A body's signature can only be checked once the whole body is
#: in (its hash is part of what is signed), so without a shared budget anyone who knows an
#: access key id (it is not a secret) could make the server buffer many bodies of up to a
#: route's cap at once (24 Lambda uploads of 69 MB took 1.4 GB). 192 MiB holds two 70 MB
#: code uploads, or a couple of hundred 1 MB PutLogEvents batches, in flight.
UNVERIFIED_BUDGET_BYTES = 192 * 1024 * 1024

Endpoint = Callable[[Request], Awaitable[Response]]


class BodyBudget:
    """The server-wide count of request-body bytes held (event-loop only, so no lock).

    Each request takes its share chunk by chunk as its body arrives (:meth:`take`) and gives
    it all back when it has been answered (:meth:`give`). Over the budget, the request is
    refused at once with 503 ``ServiceUnavailableException``, which every SDK retries with
    backoff, so legitimate callers only wait; nothing that was accepted is lost.
    """

    def __init__(self, limit: int = UNVERIFIED_BUDGET_BYTES) -> None:
        self.limit = limit
        self.held = 0

    def take(self, size: int) -> None:
        if self.held + size > self.limit:
            raise ServiceError(
                "ServiceUnavailableException",
                "The server is reading too many large request bodies at once; retry shortly.",
                status=503,
            )
        self.held += size

    def give(self, size: int) -> None:
        self.held -= size


def too_large(limit: int, code: str = "SerializationException") -> ServiceError:
    return ServiceError(code, f"Request body is larger than {limit} bytes.", status=413)


async def read_body(
    request: Request,
    limit: int,
    refuse: Callable[[], ServiceError] | None = None,
    take: Callable[[int], None] | None = None,
) -> bytes:
    """The whole body, or ``refuse()`` (413) as soon as it would exceed ``limit`` bytes.

    ``take(n)`` is told of every chunk before it is kept (a :class:`BodyBudget` share); it
    raises to refuse the request."""
    refuse = refuse or (lambda: too_large(limit))
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise refuse()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise refuse()
        if take is not None:
            take(len(chunk))
        chunks.append(chunk)
    return b"".join(chunks)


def cap_route(
    route: BaseRoute, limit: int = SMALL_BODY_BYTES, budget: BodyBudget | None = None
) -> BaseRoute:
    """``route`` with its body read (at most ``limit`` bytes) before its endpoint runs.

    An endpoint marked ``reads_own_body`` (a Firehose endpoint: it checks the access key
    first, then reads up to 64 MiB) caps what it reads itself; what it holds counts against
    ``budget`` (see :func:`budgeted_route`)."""
    if not isinstance(route, Route) or not callable(route.endpoint):
        return route
    if getattr(route.endpoint, "reads_own_body", False):
        return route if budget is None else budgeted_route(route, budget)
    endpoint: Endpoint = route.endpoint  # type: ignore[assignment]

    async def capped(request: Request) -> Response:
        try:
            body = await read_body(
                request, limit, lambda: too_large(limit, "RequestTooLargeException")
            )
        except ServiceError as error:
            return JSONResponse(
                {"error": error.code, "message": error.message}, status_code=error.status
            )
        except ClientDisconnect:  # gone mid-body: nobody to answer
            return Response(status_code=400)

        async def replay() -> Message:  # the endpoint reads the body already read
            return {"type": "http.request", "body": body, "more_body": False}

        return await endpoint(Request(request.scope, replay))

    return Route(route.path, capped, methods=route.methods, name=route.name)


def budgeted_route(route: Route, budget: BodyBudget) -> Route:
    """``route``, whose endpoint reads its own body, with the bytes it receives counted
    against the server-wide ``budget`` until it has answered: a declared length is taken
    before the first byte is read, a chunked body as it arrives. Over the budget, reading the
    body raises ``ServiceError`` (503), which the endpoint answers in its own shape."""
    endpoint: Endpoint = route.endpoint  # type: ignore[assignment]

    async def budgeted(request: Request) -> Response:
        declared = request.headers.get("content-length", "")
        held = received = 0

        async def counted() -> Message:
            nonlocal held, received
            if not held and declared.isdigit():
                budget.take(int(declared))
                held = int(declared)
            message = await request.receive()
            received += len(message.get("body", b""))
            if received > held:
                budget.take(received - held)
                held = received
            return message

        try:
            return await endpoint(Request(request.scope, counted))
        finally:
            budget.give(held)

    return Route(route.path, budgeted, methods=route.methods, name=route.name)


class CloseUnreadBodies:
    """ASGI middleware: an answer sent before the request body was read to its end (a 413,
    or a route that ignores bodies) says ``Connection: close``, and uvicorn closes the
    connection after it instead of reading the rest of the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        pending = True

        async def tracking_receive() -> Message:
            nonlocal pending
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                pending = False
            return message

        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start" and pending:
                headers: list[Any] = [*message.get("headers", []), (b"connection", b"close")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, tracking_receive, closing_send)


def _has_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"transfer-encoding":
            return True
        if name == b"content-length":
            return value.strip() not in (b"0", b"")
    return False


#: How large a compressed body may become once inflated (botocore gzips PutMetricData bodies
#: over 10 KiB; AWS caps the request at 1 MB).
MAX_INFLATED_BYTES = 8 * 1024 * 1024


def inflated(body: bytes, headers: Any, limit: int = MAX_INFLATED_BYTES) -> bytes:
    """The body as the client meant it: ``Content-Encoding: gzip`` undone (the signature
    covers the compressed bytes, so this happens after verification), refused past
    ``limit`` bytes inflated and when it is not gzip at all."""
    encoding = (headers.get("content-encoding") or "").strip().lower()
    if encoding != "gzip" or not body:
        return body
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise ServiceError(
            "InvalidParameterValue", "The request body is not valid gzip.", 400
        ) from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise too_large(limit)
    return out
