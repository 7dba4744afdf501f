"""Smithy RPC v2 CBOR: ``POST /service/<Service>/operation/<Operation>`` with a CBOR body.

The model's preferred protocol for CloudWatch (``smithy-rpc-v2-cbor``), which SDKs that honour
the model's order send. Requests carry ``smithy-protocol: rpc-v2-cbor``; the body is a CBOR
map of the input members (timestamps as tag 1, epoch seconds); answers are CBOR maps with
the same header, errors ``{"__type": ..., "message": ...}`` plus, for awsQueryCompatible
services, the ``x-amzn-query-error`` header the JSON protocol sends (``awsjson_query``).
Validation is shared with the JSON protocols, so constraint messages read the same.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Container, Mapping
from dataclasses import replace
from typing import Any, ClassVar

import botocore.model
import cbor2

from logsieve.errors import ServiceError

from . import wire
from .awsjson_query import QueryErrors
from .bodies import inflated
from .codec import encode, serialization_error
from .validation import validated

__all__ = ["RpcV2CborProtocol"]

CONTENT_TYPE = "application/cbor"
_HEADERS = {"Content-Type": CONTENT_TYPE, "smithy-protocol": "rpc-v2-cbor"}


def _plain(value: Any) -> Any:
    """CBOR's values as the JSON layers see them: datetimes as epoch seconds, blobs kept."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.UTC)
        return value.timestamp()
    return value


def _timestamps(value: Any, shape: botocore.model.Shape | None) -> Any:
    """A JSON-ready result with its timestamp members as datetimes (sent as tag 1)."""
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members  # type: ignore[attr-defined]
        return {k: _timestamps(v, members.get(k)) for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [_timestamps(v, shape.member) for v in value]  # type: ignore[attr-defined]
    if kind == "map" and isinstance(value, dict):
        return {k: _timestamps(v, shape.value) for k, v in value.items()}  # type: ignore[attr-defined]
    if kind == "timestamp" and isinstance(value, (int, float)):
        return _dt.datetime.fromtimestamp(value, _dt.UTC)
    return value


class RpcV2CborProtocol(wire.WireProtocol):
    """RPC v2 CBOR for one botocore service model; stateless after construction."""

    name: ClassVar[str] = "smithy-rpc-v2-cbor"
    described: ClassVar[str] = "the Smithy RPC v2 CBOR protocol"

    def __init__(self, service_name: str, validation_error_code: str | None = None) -> None:
        super().__init__(service_name, validation_error_code)
        meta = self.service_model.metadata
        self.prefix = f"/service/{meta['targetPrefix']}/operation/"
        self._query_errors = (
            QueryErrors(self.service_model) if QueryErrors.applies(self.service_model) else None
        )

    def match(self, request: wire.WireRequest) -> wire.Matched:
        if request.method != "POST" or not request.path.startswith(self.prefix):
            return wire.NO_MATCH
        return wire.Matched(wire.Match.FULL, request.path[len(self.prefix) :])

    def parse(
        self, request: wire.WireRequest, implemented: Container[str]
    ) -> tuple[str, dict[str, Any]]:
        name = request.matched.operation
        compiled = self.compiled.get(name)
        if compiled is None:
            raise ServiceError(wire.UNKNOWN_OPERATION_EXCEPTION, "", 404)
        if name not in implemented:
            raise wire.not_implemented(name)
        request = replace(request, body=inflated(request.body, request.headers))
        data: Any = {}
        if request.body:
            try:
                data = cbor2.loads(request.body)
            except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError):
                raise serialization_error() from None
        if not isinstance(data, dict):
            raise serialization_error()
        if compiled.input is None:
            return name, {}
        return name, validated(
            _plain(data), compiled.input, self.render, self.validation_error_code
        )

    def serialize(
        self, operation: str, result: Mapping[str, Any] | None, request_id: str
    ) -> wire.Answer:
        compiled = self.compiled[operation]
        body: Any = {}
        if result and compiled.output is not None:
            body = _timestamps(encode(result, compiled.output), compiled.model.output_shape)
        return 200, dict(_HEADERS), cbor2.dumps(body, datetime_as_timestamp=True)

    def error(self, error: ServiceError, request_id: str) -> wire.Answer:
        headers = dict(_HEADERS)
        if self._query_errors is not None:
            error, query_error = self._query_errors.translate(error)
            if query_error is not None:
                headers["x-amzn-query-error"] = query_error
        payload: dict[str, Any] = {"__type": error.code}
        if error.message:
            payload["message"] = error.message
        payload.update(error.extra)
        return error.status, headers, cbor2.dumps(payload, datetime_as_timestamp=True)
