"""The operator route that simulates a Client VPN connection attempt.

``POST /_logsieve/client-vpn/<endpoint-id>/connect`` with a JSON body of the client's
attributes (``username``, ``common-name``, ``platform``, ``public-ip``...: the handler's request
field names) runs one attempt through ``Ec2Service.connect``: the endpoint's client connect
handler decides, the connection appears in DescribeClientVpnConnections when allowed, and the
connection log gets the record when logging is enabled. Signed with SigV4 like the other
operator routes (``admin``), so ``simulate world`` and scripts use the same key pair.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from logsieve.ec2 import Attempt, Ec2Service
from logsieve.errors import ServiceError

from .admin import PREFIX, SIGNING_NAME
from .bodies import SMALL_BODY_BYTES, read_body, too_large
from .server import verify_request

__all__ = ["CONNECT_PATH", "ec2_routes"]

CONNECT_PATH = f"{PREFIX}/client-vpn/{{endpoint}}/connect"


def ec2_routes(
    ec2: Ec2Service, secret_for: Callable[[str], str | None], region: str
) -> list[Route]:
    async def connect(request: Request) -> Response:
        try:
            body = await read_body(
                request,
                SMALL_BODY_BYTES,
                lambda: too_large(SMALL_BODY_BYTES, "RequestTooLargeException"),
            )
            verify_request(request, body, secret_for, SIGNING_NAME, region)
        except ServiceError as error:
            status = error.status if error.status == 413 else 403
            return JSONResponse({"error": error.code, "message": error.message}, status)
        try:
            data = json.loads(body or b"{}")
            if not isinstance(data, dict):
                raise ValueError("not an object")
            attempt = Attempt.from_json(data)
            outcome = await run_in_threadpool(ec2.connect, request.path_params["endpoint"], attempt)
        except ValueError as bad:
            return JSONResponse({"error": "InvalidParameterValue", "message": str(bad)}, 400)
        except ServiceError as error:
            return JSONResponse({"error": error.code, "message": error.message}, 400)
        return JSONResponse(outcome.to_json())

    return [Route(CONNECT_PATH, connect, methods=["POST"])]
