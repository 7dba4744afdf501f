"""AWS Query protocol layer (form-encoded requests, XML responses) driven by botocore's models.

SNS (and SQS, IAM, STS...) speak Query: a request is ``Action=Publish&Version=2010-03-31&...``,
form-encoded in a POST body or in the query string of a GET, with nested members flattened into
dotted names; the answer is XML. One ``QueryProtocol`` per service turns such a request into the
same validated parameter dict the JSON layers produce, and a result or error back into AWS's
XML. Everything comes from the botocore model: member names (``locationName``), list and map
encodings (``flattened``), the ``resultWrapper`` element, error codes and HTTP statuses.
Validation (required members, lengths, patterns) is shared with the JSON layers (``validation``),
so constraint messages read the same.

Wire shapes, as botocore's ``QuerySerializer`` writes them and ``QueryParser`` reads them:

* lists: ``Tags.member.1.Key=k``; flattened lists drop the ``member`` step (``Name.1``);
  an empty list is sent as ``Tags=`` (empty value);
* maps: ``Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=x``, with the key and
  value names taken from the model (SNS ``MessageAttributes`` uses ``Name`` / ``Value``:
  ``MessageAttributes.entry.1.Value.DataType=String``);
* responses: ``<OpResponse xmlns=...><OpResult>...</OpResult><ResponseMetadata><RequestId>``;
  lists as ``<member>`` elements, maps as ``<entry><key/><value/></entry>``;
* errors: ``<ErrorResponse xmlns=...><Error><Type>Sender</Type><Code>InvalidParameter</Code>
  <Message>...</Message></Error><RequestId>...</RequestId></ErrorResponse>``, where ``Code`` is
  the model's ``error.code`` (``InvalidParameterException`` is sent as ``InvalidParameter``) and
  the status its ``httpStatusCode``. Services may raise either the shape name or the code.

Query services answer authentication failures with their own codes and 403
(``InvalidClientTokenId``, ``SignatureDoesNotMatch``, ``MissingAuthenticationToken``), an
unknown action with ``InvalidAction``, and a constraint violation with ``ValidationError`` (the
JSON services' ``ValidationException`` wording inside).
"""

from __future__ import annotations

import base64
import datetime as _dt
import re
from collections.abc import Container, Iterable, Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

import botocore.model

from logsieve.errors import ServiceError

from . import wire
from .bodies import inflated
from .codec import SERIALIZATION_EXCEPTION
from .model import modeled_errors
from .validation import validated

__all__ = ["FORM_CONTENT_TYPE", "XML_CONTENT_TYPE", "QueryProtocol"]

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
XML_CONTENT_TYPE = "text/xml"
VALIDATION_ERROR = "ValidationError"
INVALID_ACTION = "InvalidAction"

# Signature failures (raised by ``sigv4`` with the JSON services' names) as Query services
# word them: code and status. Observed on SNS/SQS/IAM/STS.
_AUTH_CODES = {
    "MissingAuthenticationTokenException": ("MissingAuthenticationToken", 403),
    "UnrecognizedClientException": ("InvalidClientTokenId", 403),
    "InvalidSignatureException": ("SignatureDoesNotMatch", 403),
    "IncompleteSignatureException": ("IncompleteSignature", 400),
}
# Errors raised by the shared layers under JSON-protocol names.
_GENERIC_CODES = {
    wire.UNKNOWN_OPERATION_EXCEPTION: (INVALID_ACTION, 400),
    SERIALIZATION_EXCEPTION: (VALIDATION_ERROR, 400),
    "ServiceUnavailableException": ("InternalError", 500),
}
# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_INDEX = re.compile(r"[1-9][0-9]{0,8}")


class _Tree:
    """Dotted form keys as a tree: ``a.b.1=x`` -> a -> b -> 1 (value x)."""

    __slots__ = ("children", "value")

    def __init__(self) -> None:
        self.value: str | None = None
        self.children: dict[str, _Tree] = {}


def _tree(pairs: Mapping[str, str]) -> _Tree:
    root = _Tree()
    for key, value in pairs.items():
        node = root
        for part in key.split("."):
            child = node.children.get(part)
            if child is None:
                child = node.children[part] = _Tree()
            node = child
        node.value = value
    return root


class _TypeMismatch(Exception):
    def __init__(self, text: str | None, path: str, expected: str) -> None:
        super().__init__(path)
        self.text, self.path, self.expected = text, path, expected


def _label(name: str) -> str:
    return name[:1].lower() + name[1:]


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


_FULL = wire.Matched(wire.Match.FULL)
_PARTIAL = wire.Matched(wire.Match.PARTIAL)


class QueryProtocol(wire.WireProtocol):
    """AWS Query wire protocol for one botocore service model: ``Action=...`` at ``/``, in a
    form-encoded POST body or a GET's query string.

    Stateless after construction and safe to share between requests and threads.
    """

    name: ClassVar[str] = "query"

    described: ClassVar[str] = "the AWS Query protocol"
    validation_error: ClassVar[str] = VALIDATION_ERROR

    def __init__(self, service_name: str, validation_error_code: str | None = None) -> None:
        super().__init__(service_name, validation_error_code)
        meta = self.service_model.metadata
        self.api_version: str = meta["apiVersion"]
        self.namespace: str = meta.get("xmlNamespace", "")
        # Error shape name and wire code -> (wire code, HTTP status).
        self._errors: dict[str, tuple[str, int]] = {}
        for error in modeled_errors(self.service_model):
            self._errors[error.shape.name] = (error.code, error.status)
            self._errors.setdefault(error.code, (error.code, error.status))

    # -- the wire interface ----------------------------------------------------------------

    def match(self, request: wire.WireRequest) -> wire.Matched:
        """A request at ``/`` signed for this service names it; an unsigned one (links from
        emails) or one signed for another service is still Query when it looks it (a form
        body, ``Action=`` in the query string). A POST with a target is a JSON request."""
        if request.path != "/" or request.method not in ("GET", "POST"):
            return wire.NO_MATCH
        if request.method == "POST" and request.target is not None:
            return wire.NO_MATCH
        if request.signed_for == self.signing_name:
            return _FULL
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(FORM_CONTENT_TYPE) or "Action=" in request.query:
            return _PARTIAL
        return wire.NO_MATCH

    def operation(self, request: wire.WireRequest) -> str:
        return self._form(request).get("Action") or ""

    def parse(
        self, request: wire.WireRequest, implemented: Container[str]
    ) -> tuple[str, dict[str, Any]]:
        params = self._form(request)
        name = self.operation_name(params)
        if name not in implemented:
            raise wire.not_implemented(name)
        return name, self.parse_request(name, params)

    def serialize(
        self, operation: str, result: Mapping[str, Any] | None, request_id: str
    ) -> wire.Answer:
        body = self.serialize_response(operation, result, request_id)
        return 200, {"Content-Type": XML_CONTENT_TYPE}, body

    def error(self, error: ServiceError, request_id: str) -> wire.Answer:
        return self.error_response(error, request_id)

    def too_large(self, operation: str, limit: int) -> ServiceError:
        return ServiceError(
            "RequestEntityTooLarge", f"Request body is larger than {limit} bytes.", 413
        )

    def _form(self, request: wire.WireRequest) -> dict[str, str]:
        """The parameters of the query string, then of the body (a POST's win)."""
        params = self.decode_form(request.query)
        if request.body:
            params.update(self.decode_form(inflated(request.body, request.headers)))
        return params

    # -- dispatch ------------------------------------------------------------------------

    @staticmethod
    def decode_form(data: bytes | str) -> dict[str, str]:
        """``a=1&b=x+y`` -> ``{"a": "1", "b": "x y"}`` (UTF-8; a repeated key keeps its last
        value). Raises ``ServiceError`` for bytes that are not UTF-8."""
        if isinstance(data, (bytes, bytearray, memoryview)):
            try:
                text = bytes(data).decode("utf-8")
            except UnicodeDecodeError:
                raise ServiceError(VALIDATION_ERROR, "Request body is not valid UTF-8.") from None
        else:
            text = data
        try:
            return dict(parse_qsl(text, keep_blank_values=True, errors="strict"))
        except UnicodeDecodeError:
            raise ServiceError(
                VALIDATION_ERROR, "Request parameters are not valid UTF-8 once decoded."
            ) from None

    def operation_name(self, params: Mapping[str, str]) -> str:
        """The operation ``Action`` names, checked against the model (and ``Version``, when
        one is sent: links in AWS's emails carry none)."""
        action = params.get("Action")
        if not action:
            raise ServiceError("MissingAction", "Request is missing Action parameter.", 400)
        version = params.get("Version")
        if action not in self.compiled or (version and version != self.api_version):
            raise ServiceError(
                INVALID_ACTION,
                f"Could not find operation {action} for version {version or self.api_version}",
                400,
            )
        return action

    # -- requests ------------------------------------------------------------------------

    def parse_request(self, operation_name: str, params: Mapping[str, str]) -> dict[str, Any]:
        """Type-convert and validate the form parameters of an operation.

        Returns the members keyed by model member name (as the JSON layers do), unknown
        parameters dropped, booleans and numbers converted, blobs base64-decoded to ``bytes``.
        """
        compiled = self.compiled.get(operation_name)
        if compiled is None:
            raise ServiceError(INVALID_ACTION, f"Could not find operation {operation_name}", 400)
        shape, node = compiled.model.input_shape, compiled.input
        if shape is None or node is None:
            return {}
        try:
            data = self._structure(_tree(params), shape, "")
        except _TypeMismatch as bad:
            shown = "null" if bad.text is None else f"'{bad.text}'"
            raise ServiceError(
                self.validation_error_code,
                f"1 validation error detected: Value {shown} at '{bad.path}' failed to satisfy "
                f"constraint: Member must be {bad.expected}",
            ) from None
        return validated(data, node, self.render, self.validation_error_code)

    def _structure(
        self, tree: _Tree, shape: botocore.model.StructureShape, path: str
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            child = tree.children.get(self.request_key(name, member))
            if child is None:
                continue
            out[wire] = self._value(child, member, _join(path, _label(name)))
        return out

    def request_key(self, name: str, member: botocore.model.Shape) -> str:
        """The form key a structure member is sent under (botocore's ``QuerySerializer``:
        its ``locationName``; a flattened list, its items' name)."""
        wire = member.serialization.get("name", name)
        if member.type_name == "list" and member.serialization.get("flattened"):
            return member.member.serialization.get("name", wire)  # type: ignore[attr-defined]
        return wire

    def flattened(self, shape: botocore.model.Shape) -> bool:
        """Whether a list's items are numbered right under its key (``Name.1``) rather than
        under ``member`` (``Name.member.1``)."""
        return bool(shape.serialization.get("flattened"))

    def _value(self, tree: _Tree, shape: botocore.model.Shape, path: str) -> Any:
        kind = shape.type_name
        if kind == "structure":
            assert isinstance(shape, botocore.model.StructureShape)
            return self._structure(tree, shape, path)
        if kind == "list":
            assert isinstance(shape, botocore.model.ListShape)
            if self.flattened(shape):
                items = tree
            else:
                items = tree.children.get(shape.member.serialization.get("name", "member"))
                if items is None:
                    return []  # ``Tags=`` is how an empty list is sent
            return [
                self._value(item, shape.member, f"{path}.{i}.member") for i, item in _indexed(items)
            ]
        if kind == "map":
            assert isinstance(shape, botocore.model.MapShape)
            entries = tree if shape.serialization.get("flattened") else tree.children.get("entry")
            out: dict[str, Any] = {}
            if entries is None:
                return out
            key_name = shape.key.serialization.get("name", "key")
            value_name = shape.value.serialization.get("name", "value")
            for _, entry in _indexed(entries):
                key_node = entry.children.get(key_name)
                if key_node is None or key_node.value is None:
                    raise _TypeMismatch(None, f"{path}.entry.key", "not null")
                key = key_node.value
                value_node = entry.children.get(value_name)
                out[key] = (
                    None
                    if value_node is None
                    else self._value(value_node, shape.value, f"{path}.{key}.member")
                )
            return out
        text = tree.value
        if text is None:
            raise _TypeMismatch(None, path, f"a {kind} value")
        if kind in ("string", "blob"):  # blobs stay base64 text: ``codec`` decodes them
            return text
        if kind == "boolean":
            lowered = text.strip().lower()
            if lowered not in ("true", "false"):
                raise _TypeMismatch(text, path, "a boolean (true or false)")
            return lowered == "true"
        if kind in ("integer", "long"):
            try:
                return int(text.strip())
            except ValueError:
                raise _TypeMismatch(text, path, "an integer") from None
        if kind in ("float", "double"):
            try:
                return float(text)
            except ValueError:
                raise _TypeMismatch(text, path, "a number") from None
        if kind == "timestamp":
            return _timestamp(text, path)
        return text

    # -- responses -----------------------------------------------------------------------

    def serialize_response(
        self, operation_name: str, result: Mapping[str, Any] | None, request_id: str
    ) -> bytes:
        """AWS's XML for a result: only members the output shape declares, no nulls."""
        model = self.compiled[operation_name].model
        out = [f'<{operation_name}Response xmlns="{self.namespace}">\n']
        shape = model.output_shape
        if shape is not None:
            wrapper = shape.serialization.get("resultWrapper", f"{operation_name}Result")
            body: list[str] = []
            assert isinstance(shape, botocore.model.StructureShape)
            self._xml_members(result or {}, shape, body, "    ")
            if body:
                out.append(f"  <{wrapper}>\n")
                out.extend(body)
                out.append(f"  </{wrapper}>\n")
            else:
                out.append(f"  <{wrapper}/>\n")
        out.append(
            f"  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n"
            f"  </ResponseMetadata>\n</{operation_name}Response>\n"
        )
        return "".join(out).encode("utf-8")

    def _xml_members(
        self,
        value: Mapping[str, Any],
        shape: botocore.model.StructureShape,
        out: list[str],
        indent: str,
    ) -> None:
        for name, member in shape.members.items():
            item = value.get(name)
            if item is None:
                continue
            tag = member.serialization.get("name", name)
            if member.type_name == "list" and member.serialization.get("flattened"):
                tag = member.member.serialization.get("name", tag)  # type: ignore[attr-defined]
            self._xml(item, member, tag, out, indent)

    def _xml(
        self, value: Any, shape: botocore.model.Shape, tag: str, out: list[str], indent: str
    ) -> None:
        kind = shape.type_name
        inner = indent + "  "
        if kind == "structure":
            assert isinstance(shape, botocore.model.StructureShape)
            body: list[str] = []
            self._xml_members(value, shape, body, inner)
            _element(out, indent, tag, body)
        elif kind == "list":
            assert isinstance(shape, botocore.model.ListShape)
            items = [item for item in value if item is not None]
            if shape.serialization.get("flattened"):
                for item in items:
                    self._xml(item, shape.member, tag, out, indent)
                return
            member_tag = shape.member.serialization.get("name", "member")
            body = []
            for item in items:
                self._xml(item, shape.member, member_tag, body, inner)
            _element(out, indent, tag, body)
        elif kind == "map":
            assert isinstance(shape, botocore.model.MapShape)
            key_tag = shape.key.serialization.get("name", "key")
            value_tag = shape.value.serialization.get("name", "value")
            flattened = bool(shape.serialization.get("flattened"))
            entries: list[str] = []
            entry_indent = indent if flattened else inner
            for key, item in value.items():
                if item is None:
                    continue
                pair: list[str] = []
                self._xml(key, shape.key, key_tag, pair, entry_indent + "  ")
                self._xml(item, shape.value, value_tag, pair, entry_indent + "  ")
                _element(entries, entry_indent, tag if flattened else "entry", pair)
            if flattened:
                out.extend(entries)
            else:
                _element(out, indent, tag, entries)
        else:
            out.append(f"{indent}<{tag}>{_text(value, kind)}</{tag}>\n")

    def error_response(
        self, error: ServiceError, request_id: str
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) for an error, as botocore's Query parser reads it."""
        code, status = self.error_code(error)
        fault = "Sender" if status < 500 else "Receiver"
        message = f"    <Message>{_text(error.message, 'string')}</Message>\n"
        body = (
            f'<ErrorResponse xmlns="{self.namespace}">\n  <Error>\n'
            f"    <Type>{fault}</Type>\n    <Code>{_text(code, 'string')}</Code>\n"
            f"{message if error.message else ''}  </Error>\n"
            f"  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n"
        )
        return status, {"Content-Type": XML_CONTENT_TYPE}, body.encode("utf-8")

    def error_code(self, error: ServiceError) -> tuple[str, int]:
        """The wire code and HTTP status for ``error`` (model entries win)."""
        modeled = self._errors.get(error.code)
        if modeled is not None:
            return modeled
        known = _AUTH_CODES.get(error.code) or _GENERIC_CODES.get(error.code)
        if known is not None:
            return known
        return error.code, error.status


def _indexed(tree: _Tree) -> Iterable[tuple[int, _Tree]]:
    """The numbered children (``1``, ``2``...) in numeric order; other names are ignored."""
    found = [(int(k), child) for k, child in tree.children.items() if _INDEX.fullmatch(k)]
    found.sort(key=lambda pair: pair[0])
    return found


def _timestamp(text: str, path: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = _dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _TypeMismatch(text, path, "an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    return moment.timestamp()


def _element(out: list[str], indent: str, tag: str, body: list[str]) -> None:
    if body:
        out.append(f"{indent}<{tag}>\n")
        out.extend(body)
        out.append(f"{indent}</{tag}>\n")
    else:
        out.append(f"{indent}<{tag}/>\n")


def _text(value: Any, kind: str) -> str:
    """A scalar as XML text: booleans ``true``/``false``, timestamps ISO 8601 with
    milliseconds (the Query default), blobs base64; escaped, XML-illegal characters replaced."""
    if kind == "boolean" or isinstance(value, bool):
        return "true" if value else "false"
    if kind == "timestamp":
        if isinstance(value, (int, float)):
            value = _dt.datetime.fromtimestamp(value, _dt.UTC)
        if isinstance(value, _dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=_dt.UTC)
            value = value.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    elif kind == "blob":
        raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        value = base64.b64encode(raw).decode("ascii")
    text = str(value)
    if _NOT_XML.search(text):
        text = _NOT_XML.sub("\ufffd", text)
    return escape(text)
