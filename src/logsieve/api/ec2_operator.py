"""The operator routes that simulate Client VPN clients connecting and leaving.

``POST /_logsieve/client-vpn/<endpoint-id>/connect`` with a JSON body of the client's
attributes (``username``, ``common-name``, ``platform``, ``public-ip``...: the handler's request
field names) runs one attempt through ``Ec2Service.connect``: the endpoint's client connect
handler decides, the connection appears in DescribeClientVpnConnections when allowed, and the
connection log gets the record when logging is enabled. Signed with SigV4 like the other
operator routes (``admin``), so ``simulate world`` and scripts use the same key pair.

``POST /_logsieve/client-vpn/<endpoint-id>/disconnect`` with ``{"connection-id": ...}`` ends
an active connection as a client leaving (or its link resetting) does: final counters, and the
``connection-reset`` record in the connection log (returned as ``record``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from logsieve.ec2 import Attempt, Ec2Service
from logsieve.errors import ServiceError

from .admin import PREFIX, SIGNING_NAME
from .bodies import SMALL_BODY_BYTES, read_body, too_large
from .server import verify_request

__all__ = ["CONNECT_PATH", "DISCONNECT_PATH", "ec2_routes"]

CONNECT_PATH = f"{PREFIX}/client-vpn/{{endpoint}}/connect"
DISCONNECT_PATH = f"{PREFIX}/client-vpn/{{endpoint}}/disconnect"


def ec2_routes(
    ec2: Ec2Service, secret_for: Callable[[str], str | None], region: str
) -> list[Route]:
    def operator(act: Callable[[str, dict[str, Any]], dict[str, Any]]) -> Callable[..., Any]:
        """A signed JSON route running ``act(endpoint id, body)`` in a worker thread."""

        async def route(request: Request) -> Response:
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
                answer = await run_in_threadpool(act, request.path_params["endpoint"], data)
            except ValueError as bad:
                return JSONResponse({"error": "InvalidParameterValue", "message": str(bad)}, 400)
            except ServiceError as error:
                return JSONResponse({"error": error.code, "message": error.message}, 400)
            return JSONResponse(answer)

        return route

    def connect(endpoint_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return ec2.connect(endpoint_id, Attempt.from_json(data)).to_json()

    def disconnect(endpoint_id: str, data: dict[str, Any]) -> dict[str, Any]:
        connection_id = data.get("connection-id")
        if not isinstance(connection_id, str) or set(data) != {"connection-id"}:
            raise ValueError('The body must be {"connection-id": "cvpn-connection-..."}.')
        return {"record": ec2.disconnect(endpoint_id, connection_id)}

    return [
        Route(CONNECT_PATH, operator(connect), methods=["POST"]),
        Route(DISCONNECT_PATH, operator(disconnect), methods=["POST"]),
    ]
