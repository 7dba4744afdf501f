"""logsieve's own operator endpoints: subscription status and the dead-letter store.

JSON over HTTP under ``/_logsieve/``, signed with SigV4 like every AWS call, so the CLI and
scripts use the same key pair as boto3 and nothing is open to an unauthenticated caller. The
credential scope must name the configured region and exactly one service, ``logs``
(``SIGNING_NAME``; what the CLI and the demo sign with), and the body is capped before the
signature is checked.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from logsieve.destinations import DeliveryError
from logsieve.errors import ServiceError
from logsieve.formats.awslogs import EnvelopeError, decode
from logsieve.notify.codec import notification_from_json
from logsieve.notify.outbox import Outbox
from logsieve.sources import Sources
from logsieve.storage import DeadLetter
from logsieve.subscriptions import Dispatcher

from .bodies import SMALL_BODY_BYTES, read_body, too_large
from .server import verify_request

PREFIX = "/_logsieve"
#: The one service a credential scope may name on these routes.
SIGNING_NAME = "logs"


def describe_letter(letter: DeadLetter, with_payload: bool = False) -> dict[str, Any]:
    described: dict[str, Any] = {
        "id": letter.id,
        "created": letter.created,
        "logGroupName": letter.group_name,
        "filterName": letter.filter_name,
        "destinationArn": letter.destination_arn,
        "logStreamName": letter.log_stream,
        "events": letter.event_count,
        "firstTimestamp": letter.first_timestamp,
        "lastTimestamp": letter.last_timestamp,
        "attempts": letter.attempts,
        "error": letter.error,
        "redriven": letter.redriven,
    }
    if with_payload:
        try:
            described["payload"] = decode(letter.data).to_dict()
        except EnvelopeError:  # not ours to fail on: show what is stored
            described["data"] = base64.b64encode(letter.data).decode()
    return described


class AdminApi:
    def __init__(
        self,
        dispatcher: Dispatcher,
        outbox: Outbox,
        secret_for: Callable[[str], str | None],
        region: str,
        sources: Sources | None = None,
    ) -> None:
        self.sources = sources
        self.dispatcher = dispatcher
        self.outbox = outbox
        self.secret_for = secret_for
        self.region = region

    def routes(self) -> list[Route]:
        return [
            Route(f"{PREFIX}/subscriptions", self.subscriptions, methods=["GET"]),
            Route(f"{PREFIX}/dead-letters", self.letters, methods=["GET"]),
            Route(f"{PREFIX}/dead-letters/{{letter:int}}", self.letter, methods=["GET"]),
            Route(f"{PREFIX}/dead-letters/{{letter:int}}/redrive", self.redrive, methods=["POST"]),
            Route(f"{PREFIX}/notifications", self.notifications, methods=["GET"]),
            Route(f"{PREFIX}/notifications/redrive", self.resend, methods=["POST"]),
            Route(f"{PREFIX}/sources", self.source_status, methods=["GET"]),
        ]

    async def _authorized(self, request: Request) -> Response | None:
        try:
            body = await read_body(
                request,
                SMALL_BODY_BYTES,
                lambda: too_large(SMALL_BODY_BYTES, "RequestTooLargeException"),
            )
            verify_request(request, body, self.secret_for, SIGNING_NAME, self.region)
        except ServiceError as error:
            return _error(error.code, error.message, error.status if error.status == 413 else 403)
        return None

    async def subscriptions(self, request: Request) -> Response:
        if denied := await self._authorized(request):
            return denied
        status = await run_in_threadpool(self.dispatcher.status)
        return JSONResponse({"subscriptions": status})

    async def source_status(self, request: Request) -> Response:
        if denied := await self._authorized(request):
            return denied
        return JSONResponse({"sources": self.sources.status() if self.sources else []})

    async def letters(self, request: Request) -> Response:
        if denied := await self._authorized(request):
            return denied
        everything = request.query_params.get("all") == "true"
        found = await run_in_threadpool(self.dispatcher.ctx.dead_letters.list, everything)
        return JSONResponse({"deadLetters": [describe_letter(letter) for letter in found]})

    async def letter(self, request: Request) -> Response:
        if denied := await self._authorized(request):
            return denied
        letter_id = request.path_params["letter"]
        found = await run_in_threadpool(self.dispatcher.ctx.dead_letters.get, letter_id)
        if found is None:
            return _error("ResourceNotFoundException", f"No dead letter {letter_id}.", 404)
        return JSONResponse(describe_letter(found, with_payload=True))

    async def notifications(self, request: Request) -> Response:
        """The outbox: per channel (kind) pending/sent/failed, and what was given up on."""
        if denied := await self._authorized(request):
            return denied
        status = await run_in_threadpool(self.outbox.status)
        failures = await run_in_threadpool(self.outbox.failures)
        return JSONResponse({"channels": status, "failures": [_failure(item) for item in failures]})

    async def resend(self, request: Request) -> Response:
        if denied := await self._authorized(request):
            return denied
        count = await run_in_threadpool(self.outbox.redrive)
        self.outbox.wake()
        return JSONResponse({"requeued": count})

    async def redrive(self, request: Request) -> Response:
        if denied := await self._authorized(request):
            return denied
        letter_id = request.path_params["letter"]
        try:
            letter = await run_in_threadpool(self.dispatcher.redrive, letter_id)
        except LookupError:
            return _error("ResourceNotFoundException", f"No dead letter {letter_id}.", 404)
        except DeliveryError as exc:
            return _error("DeliveryFailed", str(exc), 502)
        return JSONResponse(describe_letter(letter))


def _error(code: str, message: str, status: int) -> Response:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def _failure(item: dict[str, Any]) -> dict[str, Any]:
    """A given-up outbox item without its raw payload, plus the notification's title."""
    described = {k: v for k, v in item.items() if k != "payload"}
    with contextlib.suppress(ValueError, TypeError):  # SNS deliveries are not notifications
        described["title"] = notification_from_json(item["payload"]).title
    return described
