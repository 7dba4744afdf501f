"""AWS REST-JSON protocol layer driven by botocore's service models.

REST-JSON services (Lambda, and many others) route an operation by HTTP method and path
template (``GET /2015-03-31/functions/{FunctionName}``) instead of a target header, and spread
an operation's members over the path, the query string, headers and a JSON (or raw) body. One
``RestJsonProtocol`` per service turns such a request into the same validated parameter dict the
JSON layer produces, and a result or error back into (status, headers, body). Everything comes
from the botocore model: member locations (``uri``, ``querystring``, ``header``, ``headers``,
``statusCode``), the ``payload`` trait, the operation's ``responseCode`` and each error shape's
``httpStatusCode``; type checking, validation and JSON encoding are shared with the JSON layer
(``model``, ``codec``, ``validation``), so constraint messages read the same.

Errors follow what botocore's rest-json parser reads: the code in the ``X-Amzn-ErrorType``
header, the message in the body under the member name the error shape declares (``message`` or
``Message``) and any other modeled member (``Type`` is ``User`` or ``Service`` where the shape
has it, as AWS sends).
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import email.utils
import re
from collections.abc import Container, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qsl, unquote

import botocore.model
import orjson

from logsieve.errors import ServiceError

from . import wire
from .codec import Mismatch, encode, json_default, serialization_error, type_error
from .model import Member, Node, build, modeled_errors
from .validation import validated

__all__ = ["RestJsonProtocol", "RouteMatch"]

JSON_CONTENT_TYPE = "application/json"
BINARY_CONTENT_TYPE = "application/octet-stream"
REQUEST_TOO_LARGE = "RequestEntityTooLargeException"

# REST front ends answer authentication failures with 403 (JSON services use 400).
_AUTH_ERRORS = frozenset(
    {
        "MissingAuthenticationTokenException",
        "IncompleteSignatureException",
        "InvalidSignatureException",
        "UnrecognizedClientException",
    }
)
_LABEL = re.compile(r"\{([^}]+)\}")
_INTEGER = re.compile(r"[+-]?\d+")
_NO_BODY_STATUS = frozenset({204, 304})


@dataclass(frozen=True)
class RouteMatch:
    """An operation chosen for a request, with its path labels (percent-decoded)."""

    operation: str
    labels: dict[str, str]


@dataclass(frozen=True)
class _Route:
    operation: str
    pattern: re.Pattern[str]
    labels: tuple[str, ...]
    query: tuple[tuple[str, str | None], ...]  # literal query keys (and values) that must match
    rank: tuple[int, int, int]  # sort key: more specific routes are tried first


def _compile_route(operation: str, request_uri: str) -> _Route:
    """``/functions/{FunctionName}/policy/{StatementId}`` -> an anchored regex on the raw path.

    A label matches one path segment; a greedy label (``{Key+}``) matches the rest, slashes
    included. Literal query parts (``?List=ALL``, ``?uploads``) must be present in the request.
    """
    path, _, literal_query = request_uri.partition("?")
    regex, labels, position, literal_chars, greedy = [], [], 0, 0, 0
    for found in _LABEL.finditer(path):
        literal = path[position : found.start()]
        regex.append(re.escape(literal))
        literal_chars += len(literal)
        name = found.group(1)
        if name.endswith("+"):
            name, greedy = name[:-1], greedy + 1
            regex.append("(.+)")
        else:
            regex.append("([^/]+)")
        labels.append(name)
        position = found.end()
    regex.append(re.escape(path[position:]))
    literal_chars += len(path) - position
    query: list[tuple[str, str | None]] = []
    for part in filter(None, literal_query.split("&")):
        key, eq, value = part.partition("=")
        query.append((key, value if eq else None))
    return _Route(
        operation,
        re.compile("".join(regex)),
        tuple(labels),
        tuple(query),
        (-len(query), greedy, -literal_chars),
    )


@dataclass(frozen=True)
class _Operation:
    """What the protocol needs about one operation, compiled once."""

    name: str
    status: int
    input: Node | None
    output: Node | None
    input_payload: Member | None
    output_payload: Member | None
    body_wires: frozenset[str]  # wire names of input members carried in the JSON body


def _payload(shape: botocore.model.StructureShape | None, node: Node | None) -> Member | None:
    if shape is None or node is None:
        return None
    name = shape.serialization.get("payload")
    if name is None:
        return None
    return next(m for m in node.members if m.name == name)


class RestJsonProtocol(wire.WireProtocol):
    """AWS REST-JSON wire protocol for one botocore service model.

    Stateless after construction and safe to share between requests and threads.
    """

    name: ClassVar[str] = "rest-json"
    routes_by_path: ClassVar[bool] = True

    described: ClassVar[str] = "AWS REST-JSON"

    def __init__(self, service_name: str, validation_error_code: str | None = None) -> None:
        super().__init__(service_name, validation_error_code)
        self._operations: dict[str, _Operation] = {}
        routes: dict[str, list[_Route]] = {}
        for name, compiled in self.compiled.items():
            model, in_node, out_node = compiled.model, compiled.input, compiled.output
            http = model.http
            self._operations[name] = _Operation(
                name,
                int(http.get("responseCode", 200)),
                in_node,
                out_node,
                _payload(model.input_shape, in_node),
                _payload(model.output_shape, out_node),
                frozenset(
                    m.wire for m in (in_node.members if in_node else ()) if m.location is None
                ),
            )
            route = _compile_route(name, http["requestUri"])
            routes.setdefault(http["method"].upper(), []).append(route)
        self._routes = {method: sorted(rs, key=lambda r: r.rank) for method, rs in routes.items()}
        self._errors: dict[str, tuple[int, Node]] = {
            e.code: (e.status, build(e.shape, self.nodes))
            for e in modeled_errors(self.service_model)
        }

    # -- the wire interface ----------------------------------------------------------------

    def match(self, request: wire.WireRequest) -> wire.Matched:
        """One of our routes names this service; nothing else does."""
        found = self.route(request.method, request.path, request.query)
        if found is None:
            return wire.NO_MATCH
        return wire.Matched(wire.Match.FULL, found.operation, found.labels)

    def parse(
        self, request: wire.WireRequest, implemented: Container[str]
    ) -> tuple[str, dict[str, Any]]:
        matched = request.matched
        if matched.operation not in implemented:
            raise wire.not_implemented(matched.operation)
        found = RouteMatch(matched.operation, dict(matched.labels))
        return found.operation, self.parse_request(
            found, request.query, request.headers, request.body
        )

    def serialize(
        self, operation: str, result: Mapping[str, Any] | None, request_id: str
    ) -> wire.Answer:
        return self.serialize_response(operation, result)

    def error(self, error: ServiceError, request_id: str) -> wire.Answer:
        return self.error_response(error)

    def not_found(self, request: wire.WireRequest) -> ServiceError:
        return self.unknown_operation(request.method, request.path)

    # -- dispatch ------------------------------------------------------------------------

    def route(self, method: str, raw_path: str, query: str) -> RouteMatch | None:
        """The operation whose method and path template match, or None.

        ``raw_path`` is the path as sent (percent-encoded): labels are matched on the wire
        form, so an encoded ``/`` (``%2F``) stays inside one label, then decoded.
        """
        candidates = self._routes.get(method.upper())
        if not candidates:
            return None
        present: dict[str, str] | None = None
        for route in candidates:
            found = route.pattern.fullmatch(raw_path)
            if found is None:
                continue
            if route.query:
                if present is None:
                    present = dict(parse_qsl(query, keep_blank_values=True))
                if not all(k in present and (v is None or present[k] == v) for k, v in route.query):
                    continue
            labels = {
                name: unquote(value)
                for name, value in zip(route.labels, found.groups(), strict=True)
            }
            return RouteMatch(route.operation, labels)
        return None

    def _operation(self, name: str) -> _Operation:
        try:
            return self._operations[name]
        except KeyError:
            raise ServiceError(wire.UNKNOWN_OPERATION_EXCEPTION, "", 404) from None

    # -- requests ------------------------------------------------------------------------

    def parse_request(
        self,
        match: RouteMatch,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> dict[str, Any]:
        """Members from the path, query string, headers and body, type-checked and validated.

        ``headers`` must look names up case-insensitively (Starlette's ``Headers`` does).
        Returns the members keyed by model member name; a blob payload is the raw body.
        """
        op = self._operation(match.operation)
        node = op.input
        if node is None:
            return {}
        typed: dict[str, Any] = {}
        pairs: list[tuple[str, str]] | None = None
        try:
            for m in node.members:
                location = m.location
                if location is None:
                    continue
                if location == "uri":
                    text = match.labels.get(m.wire)
                    if text is not None:
                        typed[m.name] = _from_text(text, m.node)
                elif location == "querystring":
                    if pairs is None:
                        pairs = parse_qsl(query, keep_blank_values=True)
                    value = _from_query(pairs, m, node)
                    if value is not None:
                        typed[m.name] = value
                elif location == "header":
                    text = headers.get(m.wire)
                    if text is not None:
                        typed[m.name] = _from_header(text, m.node)
                elif location == "headers":
                    prefix = m.wire.lower()
                    found = {
                        k[len(prefix) :]: v
                        for k, v in headers.items()
                        if k.lower().startswith(prefix)
                    }
                    if found:
                        typed[m.name] = found
        except Mismatch as exc:
            exc.segments.append(m.label)
            raise exc.error() from None
        data = self._body(op, body, typed)
        return validated(data, node, self.render, self.validation_error_code, typed)

    def _body(self, op: _Operation, body: bytes, typed: dict[str, Any]) -> dict[str, Any]:
        """The JSON members to type-check; a raw payload goes straight into ``typed``."""
        payload = op.input_payload
        if payload is not None and payload.node.kind in ("blob", "string"):
            if body:
                if payload.node.kind == "blob":
                    typed[payload.name] = body
                else:
                    try:
                        typed[payload.name] = body.decode("utf-8")
                    except UnicodeDecodeError:
                        raise serialization_error("Request body is not valid UTF-8") from None
            return {}
        if not body.strip():
            return {}
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise serialization_error() from None
        if payload is not None:
            return {payload.wire: data}
        if type(data) is list:
            raise serialization_error("Start of list found where not expected")
        if type(data) is not dict:
            raise serialization_error()
        wires = op.body_wires
        if all(key in wires for key in data):
            return data
        return {k: v for k, v in data.items() if k in wires}

    # -- responses -----------------------------------------------------------------------

    def serialize_response(
        self, operation: str, result: Mapping[str, Any] | None
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) for a result: header and status members taken out, the
        payload member raw or the body members as JSON; undeclared members and None dropped."""
        op = self._operation(operation)
        node = op.output
        status = op.status
        if node is None:
            return status, {}, b""
        result = result or {}
        headers: dict[str, str] = {}
        body_values: dict[str, Any] = {}
        has_body_members = False
        for m in node.members:
            location = m.location
            value = result.get(m.name)
            if location is None:
                has_body_members = True
                if value is not None:
                    body_values[m.name] = value
            elif value is None:
                continue
            elif location == "statusCode":
                status = int(value)
            elif location == "header":
                headers[m.wire] = _to_header(value, m.node)
            elif location == "headers":
                for key, item in value.items():
                    headers[m.wire + key] = str(item)
        if status in _NO_BODY_STATUS:
            return status, headers, b""
        payload = op.output_payload
        if payload is not None:
            value = result.get(payload.name)
            if payload.node.kind == "blob":
                headers["Content-Type"] = BINARY_CONTENT_TYPE
                return status, headers, _as_bytes(value)
            if payload.node.kind == "string":
                headers["Content-Type"] = "text/plain"
                return status, headers, (value or "").encode("utf-8")
            headers["Content-Type"] = JSON_CONTENT_TYPE
            if value is None:
                return status, headers, b"{}"
            return status, headers, orjson.dumps(encode(value, payload.node), default=json_default)
        if not has_body_members:
            return status, headers, b""
        headers["Content-Type"] = JSON_CONTENT_TYPE
        return status, headers, orjson.dumps(encode(body_values, node), default=json_default)

    def error_response(self, error: ServiceError) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) for an error, readable by botocore and Smithy SDKs.

        A modeled error takes its HTTP status from the model and its body member names from
        its shape; an unmodeled one (validation, signature...) is ``{"message": ...}``.
        """
        headers = {"Content-Type": JSON_CONTENT_TYPE, "X-Amzn-ErrorType": error.code}
        modeled = self._errors.get(error.code)
        if modeled is None:
            status = 403 if error.code in _AUTH_ERRORS else error.status
            payload: dict[str, Any] = {}
            if error.message:
                payload["message"] = error.message
            payload.update(error.extra)
            return status, headers, orjson.dumps(payload, default=json_default)
        status, node = modeled
        values: dict[str, Any] = dict(error.extra)
        for m in node.members:
            if m.name.lower() == "message" and error.message:
                values.setdefault(m.name, error.message)
            elif m.name == "Type":
                values.setdefault(m.name, "User" if status < 500 else "Service")
        body: dict[str, Any] = {}
        for m in node.members:
            value = values.get(m.name)
            if value is None:
                continue
            if m.location == "header":
                headers[m.wire] = _to_header(value, m.node)
            elif m.location is None:
                body[m.wire] = encode(value, m.node)
        return status, headers, orjson.dumps(body, default=json_default)

    def unknown_operation(self, method: str, path: str) -> ServiceError:
        """What a request no route matches gets (AWS's REST front answers 404)."""
        return ServiceError(
            wire.UNKNOWN_OPERATION_EXCEPTION, f"No operation matches {method} {path}.", 404
        )

    def too_large(self, operation: str, limit: int) -> ServiceError:
        """AWS's answer to a request body over the service's limit (wording from Lambda)."""
        return ServiceError(
            REQUEST_TOO_LARGE,
            f"Request must be smaller than {limit} bytes for the {operation} operation",
            413,
        )


# --------------------------------------------------------------------------------------
# Text values (path, query string, headers)
# --------------------------------------------------------------------------------------


def _from_text(text: str, node: Node) -> Any:
    """A path, query or header string converted to the member's type (``Mismatch`` if not)."""
    kind = node.kind
    if kind == "string":
        return text
    if kind in ("integer", "long"):
        if _INTEGER.fullmatch(text.strip()) is None:
            raise type_error(text, node)
        return int(text)
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered not in ("true", "false"):
            raise type_error(text, node)
        return lowered == "true"
    if kind in ("double", "float"):
        try:
            return float(text)
        except ValueError:
            raise type_error(text, node) from None
    if kind == "timestamp":
        return _parse_timestamp(text, node)
    if kind == "blob":
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise type_error(text, node) from None
    raise type_error(text, node)


def _from_query(pairs: list[tuple[str, str]], m: Member, parent: Node) -> Any:
    node = m.node
    if node.kind == "map":  # a map without a name takes every parameter no member claims
        claimed = {x.wire for x in parent.members if x.location == "querystring"}
        value_node = node.value
        assert value_node is not None
        out: dict[str, Any] = {}
        for key, text in pairs:
            if key in claimed:
                continue
            if value_node.kind == "list":
                assert value_node.member is not None
                out.setdefault(key, []).append(_from_text(text, value_node.member))
            else:
                out.setdefault(key, _from_text(text, value_node))
        return out or None
    values = [text for key, text in pairs if key == m.wire]
    if not values:
        return None
    if node.kind == "list":
        assert node.member is not None
        return [_from_text(text, node.member) for text in values]
    return _from_text(values[0], node)


def _from_header(text: str, node: Node) -> Any:
    if node.kind == "list":
        assert node.member is not None
        return [_from_text(part.strip(), node.member) for part in text.split(",")]
    return _from_text(text, node)


def _parse_timestamp(text: str, node: Node) -> float:
    """Epoch seconds from ISO 8601, an HTTP date or a number (whichever the client sent)."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            raise type_error(text, node) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    return moment.timestamp()


def _to_header(value: Any, node: Node) -> str:
    kind = node.kind
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        if isinstance(value, _dt.datetime):
            return email.utils.format_datetime(value.astimezone(_dt.UTC), usegmt=True)
        return email.utils.formatdate(float(value), usegmt=True)
    if kind == "list":
        assert node.member is not None
        return ",".join(_to_header(item, node.member) for item in value)
    if kind == "blob":
        return base64.b64encode(_as_bytes(value)).decode("ascii")
    return str(value)


def _as_bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)
