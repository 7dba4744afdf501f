"""AWS JSON 1.0/1.1 protocol layer driven by botocore's service models.

One ``JsonProtocol`` per service (``logs``, later ``kinesis``...) turns an ``X-Amz-Target``
header and a request body into a validated parameter dict, and results/errors back into
bytes. Everything it knows about operations, member types and constraints comes from the
botocore model shipped with botocore, so a new JSON service costs no new code here. Decoding,
validation and encoding of shapes live in ``model``, ``codec`` and ``validation`` (shared
with the other layers).

The AWS behaviours copied (Coral's wording of type and constraint errors, at most 10 reported
at once, lists and maps checked as a whole) are listed in ``validation``'s docstring; see the
aws-compat notes (section 1) for the evidence.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Container, Mapping
from typing import Any, ClassVar

import orjson

from logsieve.errors import ServiceError

from . import wire
from .awsjson_query import QueryErrors
from .bodies import inflated
from .codec import encode, json_default, serialization_error
from .eventstream import CONTENT_TYPE as EVENT_STREAM_TYPE
from .eventstream import event_stream
from .fast_decode import build_decoder
from .model import CompiledOperation, Node
from .validation import validated

__all__ = ["JsonProtocol"]


_FALLBACK = wire.Matched(wire.Match.FALLBACK)
_PARTIAL = wire.Matched(wire.Match.PARTIAL)


class JsonProtocol(wire.WireProtocol):
    """AWS JSON 1.0/1.1 wire protocol for one botocore service model: ``POST /`` with an
    ``X-Amz-Target: <prefix>.<Operation>`` header.

    Stateless after construction and safe to share between requests and threads.
    """

    name: ClassVar[str] = "json"

    described: ClassVar[str] = "the AWS JSON protocol"

    def __init__(self, service_name: str, validation_error_code: str | None = None) -> None:
        super().__init__(service_name, validation_error_code)
        meta = self.service_model.metadata
        self.target_prefix: str = meta["targetPrefix"]
        self.content_type: str = f"application/x-amz-json-{meta.get('jsonVersion', '1.0')}"
        self._operations = frozenset(self.compiled)
        self._inputs = {name: op.input for name, op in self.compiled.items()}
        self._outputs = {name: op.output for name, op in self.compiled.items()}
        # Services that moved from Query (CloudWatch) answer errors with their Query codes too.
        self._query_errors = (
            QueryErrors(self.service_model) if QueryErrors.applies(self.service_model) else None
        )
        self._streams = {
            name: stream
            for name, op in self.compiled.items()
            if (stream := _EventStreamOutput.of(op)) is not None
        }
        # Shortcuts for requests that are mostly a list of flat structures (PutLogEvents).
        self._fast = {
            name: decoder
            for name in self._operations
            if (decoder := build_decoder(self._inputs[name])) is not None
        }

    # -- the wire interface ----------------------------------------------------------------

    def match(self, request: wire.WireRequest) -> wire.Matched:
        """A ``POST /`` with our target prefix names this service; one with another prefix is
        still JSON; one without a target is answered here when nothing else claims it."""
        if request.method != "POST" or request.path != "/":
            return wire.NO_MATCH
        target = request.target
        if target is None:
            return _FALLBACK
        prefix, _, operation = target.rpartition(".")  # CloudTrail's prefix has dots
        if prefix != self.target_prefix:
            return _PARTIAL
        return wire.Matched(wire.Match.FULL, operation)

    def parse(
        self, request: wire.WireRequest, implemented: Container[str]
    ) -> tuple[str, dict[str, Any]]:
        name = self.operation_name(request.target)
        if name not in implemented:
            raise wire.not_implemented(name)
        return name, self.parse_request(name, inflated(request.body, request.headers))

    def serialize(
        self, operation: str, result: Mapping[str, Any] | None, request_id: str
    ) -> wire.Answer:
        stream = self._streams.get(operation)
        if stream is not None and result:
            return 200, {"Content-Type": EVENT_STREAM_TYPE}, stream.frames(result)
        return 200, {"Content-Type": self.content_type}, self.serialize_response(operation, result)

    def error(self, error: ServiceError, request_id: str) -> wire.Answer:
        if self._query_errors is None:
            return self.error_response(error)
        worded, query_error = self._query_errors.translate(error)
        status, headers, body = self.error_response(worded)
        if query_error is not None:
            headers["x-amzn-query-error"] = query_error
        return status, headers, body

    # -- dispatch ------------------------------------------------------------------------

    def operation_name(self, target_header: str | None) -> str:
        """``Logs_20140328.PutLogEvents`` -> ``PutLogEvents``.

        Anything else (no header, another prefix, unknown or differently cased operation)
        is what AWS answers with a bare ``UnknownOperationException`` (400, no message).
        """
        prefix = self.target_prefix + "."
        if target_header and target_header.startswith(prefix):
            name = target_header[len(prefix) :]
            if name in self._operations:
                return name
        raise ServiceError(wire.UNKNOWN_OPERATION_EXCEPTION, "", 400)

    def _node(self, table: dict[str, Node | None], operation_name: str) -> Node | None:
        try:
            return table[operation_name]
        except KeyError:
            raise ServiceError(wire.UNKNOWN_OPERATION_EXCEPTION, "", 400) from None

    # -- requests ------------------------------------------------------------------------

    def parse_request(self, operation_name: str, body: bytes) -> dict[str, Any]:
        """Decode, type-check and validate a request body against the operation's input.

        Returns the members as sent (keyed by model member name, no defaults added), with
        unknown and null members dropped and blobs base64-decoded to ``bytes``.
        """
        node = self._node(self._inputs, operation_name)
        if isinstance(body, memoryview):
            body = body.tobytes()
        fast = self._fast.get(operation_name)
        data = None if fast is None else fast(body)
        if data is not None and node is not None:
            try:
                return validated(data, node, self.render, self.validation_error_code)
            except ServiceError:
                pass  # the generic path words it, finding problems in the order they were sent
        data = _decode_object(body)
        if node is None:
            return {}
        return validated(data, node, self.render, self.validation_error_code)

    # -- responses -----------------------------------------------------------------------

    def serialize_response(self, operation_name: str, result: Mapping[str, Any] | None) -> bytes:
        """JSON body for a result: only members the output shape declares, no nulls."""
        node = self._node(self._outputs, operation_name)
        if not result or node is None:
            return b"{}"
        return orjson.dumps(encode(result, node), default=json_default)

    def error_response(self, error: ServiceError) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) for an error, readable by botocore and Smithy SDKs.

        ``message`` is left out when empty, as AWS does for UnknownOperationException and
        unparseable bodies (botocore then surfaces an empty ``Error.Message``).
        """
        payload: dict[str, Any] = {"__type": error.code}
        if error.message:
            payload["message"] = error.message
        payload.update(error.extra)
        headers = {"Content-Type": self.content_type, "X-Amzn-ErrorType": error.code}
        return error.status, headers, orjson.dumps(payload, default=json_default)


class _EventStreamOutput:
    """An operation whose output is an event stream (StartLiveTail): the operation returns
    its stream member as an async iterator of (event member, value) pairs, sent as frames."""

    def __init__(self, member: str, events: dict[str, Node], exceptions: frozenset[str]) -> None:
        self.member = member
        self.events = events
        self.exceptions = exceptions

    @classmethod
    def of(cls, op: CompiledOperation) -> _EventStreamOutput | None:
        shape, node = op.model.output_shape, op.output
        if shape is None or node is None or not op.model.has_event_stream_output:
            return None
        for member in node.members:
            if shape.members[member.name].serialization.get("eventstream"):
                union = shape.members[member.name]
                exceptions = frozenset(
                    name for name, item in union.members.items() if item.metadata.get("exception")
                )
                events = {m.name: m.node for m in member.node.members}
                return cls(member.name, events, exceptions)
        return None

    def frames(self, result: Mapping[str, Any]) -> AsyncIterator[bytes]:
        return event_stream(result[self.member], self._encode, self.exceptions)

    def _encode(self, member: str, value: Mapping[str, Any]) -> Any:
        return encode(value, self.events[member])


def _decode_object(body: bytes) -> dict[str, Any]:
    """The request's JSON object, or the ``SerializationException`` AWS answers instead."""
    if not body.strip():  # lenient: AWS answers an empty body with SerializationException
        return {}
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        # AWS answers unparseable JSON with a bare SerializationException.
        raise serialization_error() from None
    if type(data) is list:
        raise serialization_error("Start of list found where not expected")
    if type(data) is not dict:
        raise serialization_error()
    return data
