"""Botocore shapes compiled for the wire: JSON decoding, AWS-worded validation, encoding.

Shared by every protocol layer (``awsjson`` for JSON 1.0/1.1, ``restjson`` for REST-JSON):
whatever the transport, AWS checks member types, then the model's constraints, with the same
Coral wording. Everything it knows about member types and constraints comes from the botocore
model shipped with botocore.

Behaviour copied from AWS (Coral-based services), with the evidence in
``/work/shared/aws-compat.md`` section 1 and in the comments below:

* wrong JSON types are a ``SerializationException`` raised before any validation, worded like
  Coral (``STRING_VALUE can not be converted to a Long``) plus the member's path;
* model constraints are checked afterwards and *all* violations (at most 10, like AWS) are
  reported in one ``N validation error(s) detected: ...`` message;
* list and map members are checked as a whole: a violation by any element is reported once at
  the list or map with every constraint of the element shape in brackets
  (``Member must satisfy constraint: [...]``, ``Map keys must satisfy constraint: [...]``,
  ``Map value must satisfy constraint: [...]``), while fields inside structure elements are
  addressed one by one (``logEvents.2.member.timestamp``, ``someMap.<key>.member.field``).
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import datetime as _dt
import functools
import operator
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import botocore.loaders
import botocore.model
import orjson

from logsieve.elements import CheckedList
from logsieve.errors import ServiceError

from .java_regex import compiled_pattern

__all__ = [
    "SERIALIZATION_EXCEPTION",
    "UNKNOWN_OPERATION_EXCEPTION",
    "Member",
    "Mismatch",
    "Node",
    "Renderer",
    "build",
    "encode",
    "integer_bounds",
    "java_lengths_ok",
    "json_default",
    "parse",
    "protocol_model",
    "serialization_error",
    "service_model",
    "type_error",
]


SERIALIZATION_EXCEPTION = "SerializationException"
UNKNOWN_OPERATION_EXCEPTION = "UnknownOperationException"

# AWS lists at most this many violations ("10 validation errors detected: ..." even when
# there are more); observed from Kinesis and DynamoDB and reproduced by kinesalite/dynalite.
MAX_REPORTED_ERRORS = 10

_PLAIN_SCALARS = frozenset({"string", "integer", "long", "boolean"})  # encoded as they are
_JAVA_INT = (-(2**31), 2**31 - 1)
_JAVA_LONG = (-(2**63), 2**63 - 1)

# Coral's wording for the Java type a JSON value could not be converted to.
_JAVA_TYPE = {
    "string": "a String",
    "integer": "an Integer",
    "long": "a Long",
    "double": "a Double",
    "float": "a Float",
    "boolean": "a Boolean",
    "blob": "a Blob",
    "timestamp": "a Timestamp",
}
_UNSET: Any = object()
_COMPLEX = frozenset({"structure", "list", "map"})


# --------------------------------------------------------------------------------------
# Service model loading
# --------------------------------------------------------------------------------------


@functools.cache
def _loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


@functools.cache
def service_model(service_name: str) -> botocore.model.ServiceModel:
    """Load (once per process) the botocore model shipped with the installed botocore."""
    data = _loader().load_service_model(service_name, "service-2")
    return botocore.model.ServiceModel(data, service_name=service_name)


def protocol_model(
    service_name: str, protocol: str, described: str
) -> tuple[botocore.model.ServiceModel, Renderer]:
    """The model of a service that speaks ``protocol`` (``json``, ``rest-json``, ``query``),
    and the renderer for its values in error messages: Coral names shapes
    ``com.amazonaws.<endpoint prefix>.v<api version>.<Shape>``.

    Raises ValueError naming ``described`` when the service speaks another protocol.
    """
    model = service_model(service_name)
    meta = model.metadata
    spoken = meta.get("protocol")
    if spoken != protocol and protocol not in (meta.get("protocols") or ()):
        raise ValueError(f"{service_name} does not speak {described} ({spoken})")
    version = str(meta.get("apiVersion", "")).replace("-", "")
    return model, Renderer(f"com.amazonaws.{meta.get('endpointPrefix', service_name)}.v{version}")


# --------------------------------------------------------------------------------------
# Compiled shape tree
# --------------------------------------------------------------------------------------


class Member:
    __slots__ = ("label", "location", "name", "node", "required", "wire")

    def __init__(
        self, name: str, wire: str, node: Node, required: bool, location: str | None = None
    ) -> None:
        self.name = name
        self.wire = wire
        # Where a REST protocol carries it: "uri", "querystring", "header", "headers",
        # "statusCode", or None for the body (JSON protocols have only the body).
        self.location = location
        # Coral names members in messages with the first letter lowered ("RoleARN" -> "roleARN").
        self.label = name[:1].lower() + name[1:]
        self.node = node
        self.required = required


class Node:
    """The parts of a botocore shape the protocol needs, precomputed for fast walking."""

    __slots__ = (
        "accepter",
        "by_wire",
        "complex",
        "constraints",
        "document",
        "enum",
        "iso_timestamp",
        "key",
        "kind",
        "max",
        "member",
        "members",
        "min",
        "name",
        "pattern",
        "plain_names",
        "scan_limit",
        "trivial",
        "value",
    )

    def __init__(self, shape: botocore.model.Shape) -> None:
        meta = shape.metadata
        self.kind: str = shape.type_name
        self.name: str = shape.name
        self.min: int | float | None = meta.get("min")
        self.max: int | float | None = meta.get("max")
        self.pattern: str | None = meta.get("pattern") if self.kind == "string" else None
        self.enum: tuple[str, ...] = tuple(meta.get("enum") or ()) if self.kind == "string" else ()
        self.document: bool = bool(meta.get("document"))
        fmt = shape.serialization.get("timestampFormat")
        self.iso_timestamp: bool = fmt in ("iso8601", "rfc822")
        self.members: tuple[Member, ...] = ()
        self.by_wire: dict[str, Member] = {}
        self.member: Node | None = None
        self.key: Node | None = None
        self.value: Node | None = None
        self.constraints: tuple[str, ...] | None = None
        # For a structure of plain scalars (wire name = member name): its member names, so a
        # list of such dicts encodes as it is (see encode).
        self.plain_names: frozenset[str] | None = None
        # The flat-structure fast test (see _accepter); _UNSET until first asked for.
        self.accepter: Any = _UNSET
        self.scan_limit: int = max(4 * int(self.max), 4096) if self.max is not None else 0
        self.complex: bool = self.kind in _COMPLEX
        # Nothing of its own to check: lets the walkers skip a call per value.
        self.trivial: bool = (
            self.min is None and self.max is None and self.pattern is None and not self.enum
        )

    def check(self, value: Any) -> list[str]:
        """This shape's own constraints violated by a non-null value, in reporting order.

        Order for strings is enum, pattern, then length: both observed CWL/Kinesis messages
        for an empty name list the pattern before the minimum length. A value far over its
        maximum length (see ``scan_limit``) skips the pattern: some model patterns backtrack
        (``.*x.*``) and must not let a huge value stall the server; the length violation is
        reported either way.
        """
        kind = self.kind
        failed: list[str] = []
        if kind == "string":
            length = _java_length(value)
            if self.enum and value not in self.enum:
                failed.append(_enum_text(self.enum))
            if self.pattern is not None and (self.max is None or length <= self.scan_limit):
                rx = compiled_pattern(self.pattern)
                if rx is not None and rx.fullmatch(value) is None:
                    failed.append(_pattern_text(self.pattern))
            if self.min is not None or self.max is not None:
                _length_failures(self, length, failed)
        elif kind in ("list", "map", "blob"):
            if self.min is not None or self.max is not None:
                _length_failures(self, len(value), failed)
        elif kind in ("integer", "long", "double", "float"):
            if self.min is not None and value < self.min:
                failed.append(
                    f"Member must have value greater than or equal to {self._bound(self.min)}"
                )
            if self.max is not None and value > self.max:
                failed.append(
                    f"Member must have value less than or equal to {self._bound(self.max)}"
                )
        return failed

    def _bound(self, bound: int | float) -> str:
        if self.kind in ("double", "float"):
            return _java_double(float(bound))
        return str(int(bound)) if float(bound).is_integer() else repr(bound)

    def all_constraints(self) -> tuple[str, ...]:
        """Every constraint of the shape, as AWS lists them inside ``[...]``.

        Observed order: max length, min length, pattern (EventBridge, Cognito, IAM...);
        numbers: max then min (Lambda). Enum goes last (not observed together).
        """
        if self.constraints is not None:
            return self.constraints
        out: list[str] = []
        if self.kind in ("string", "list", "map", "blob"):
            if self.max is not None:
                out.append(f"Member must have length less than or equal to {int(self.max)}")
            if self.min is not None:
                out.append(f"Member must have length greater than or equal to {int(self.min)}")
        elif self.kind in ("integer", "long", "double", "float"):
            if self.max is not None:
                out.append(f"Member must have value less than or equal to {self._bound(self.max)}")
            if self.min is not None:
                out.append(
                    f"Member must have value greater than or equal to {self._bound(self.min)}"
                )
        if self.pattern is not None:
            out.append(_pattern_text(self.pattern))
        if self.enum:
            out.append(_enum_text(self.enum))
        self.constraints = tuple(out)
        return self.constraints


_NOT_NULL = "Member must not be null"


def _enum_text(values: Sequence[str]) -> str:
    return "Member must satisfy enum value set: [" + ", ".join(values) + "]"


def _pattern_text(pattern: str) -> str:
    return f"Member must satisfy regular expression pattern: {pattern}"


def _length_failures(node: Node, length: int, failed: list[str]) -> None:
    if node.min is not None and length < node.min:
        failed.append(f"Member must have length greater than or equal to {int(node.min)}")
    if node.max is not None and length > node.max:
        failed.append(f"Member must have length less than or equal to {int(node.max)}")


def _java_length(value: str) -> int:
    """Java ``String.length()``: UTF-16 code units (characters beyond the BMP count 2)."""
    if value.isascii():
        return len(value)
    return len(value.encode("utf-16-le")) // 2


def _java_double(value: float) -> str:
    """``Double.toString``: ``1.0``, ``0.001``, ``1.0E7``, ``1.5E-5``."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        return text if ("." in text or "e" in text) else text + ".0"
    sign, digits, exp = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exp, int)
    mantissa = "".join(map(str, digits))
    exponent = exp + len(mantissa) - 1
    frac = mantissa[1:] or "0"
    return f"{'-' if sign else ''}{mantissa[0]}.{frac}E{exponent}"


def build(shape: botocore.model.Shape, cache: dict[str, Node]) -> Node:
    """Compile a shape (recursion-safe: a node is cached before its children are built)."""
    node = cache.get(shape.name)
    if node is not None:
        return node
    node = Node(shape)
    cache[shape.name] = node
    if isinstance(shape, botocore.model.StructureShape):
        required = set(shape.required_members)
        members = []
        for name, member_shape in shape.members.items():
            wire = member_shape.serialization.get("name", name)
            location = member_shape.serialization.get("location")
            members.append(
                Member(name, wire, build(member_shape, cache), name in required, location)
            )
        node.members = tuple(members)
        node.by_wire = {m.wire: m for m in members}
        if all(m.wire == m.name and m.node.kind in _PLAIN_SCALARS for m in members):
            node.plain_names = frozenset(m.name for m in members)
    elif isinstance(shape, botocore.model.ListShape):
        node.member = build(shape.member, cache)
    elif isinstance(shape, botocore.model.MapShape):
        node.key = build(shape.key, cache)
        node.value = build(shape.value, cache)
    return node


def integer_bounds(node: Node) -> tuple[int, int]:
    """The values an integer or long member takes: Java's range narrowed by the model's."""
    java_lo, java_hi = _JAVA_INT if node.kind == "integer" else _JAVA_LONG
    lo = java_lo if node.min is None else max(java_lo, int(node.min))
    hi = java_hi if node.max is None else min(java_hi, int(node.max))
    return lo, hi


def java_lengths_ok(column: list[str], high: int) -> bool:
    """Every string's Java length (UTF-16 units) is at most ``high``.

    len() never exceeds the UTF-16 length Java counts, and is at least half of it, so only
    strings longer than ``high / 2`` characters need counting, and usually none is.
    """
    if not column or max(map(len, column)) * 2 <= high:
        return True
    return all(len(v) * 2 <= high or _java_length(v) <= high for v in column)


def _column_check(node: Node) -> Callable[[list[Any]], bool] | None:
    """A test that every value of a column (one member across a list's elements) is well
    typed and meets every constraint, or None when the shape needs the full walk. Each test
    is a few C-level passes (``map``, ``min``, ``max``), not a Python call per value."""
    kind, low, high = node.kind, node.min, node.max
    if kind == "string":
        if node.pattern is not None or node.enum:
            return None
        lo = int(low or 0)

        def strings_ok(column: list[Any]) -> bool:
            if not column or set(map(type, column)) != {str}:
                return not column
            if min(map(len, column)) < lo:
                return False
            return high is None or java_lengths_ok(column, int(high))

        return strings_ok
    if kind in ("integer", "long"):
        lo, hi = integer_bounds(node)

        def integers_ok(column: list[Any]) -> bool:
            if not column:
                return True
            return set(map(type, column)) == {int} and lo <= min(column) and max(column) <= hi

        return integers_ok
    if kind == "boolean":
        return lambda column: not column or set(map(type, column)) == {bool}
    return None


def _accepter(node: Node) -> Callable[[list[Any]], bool] | None:
    """For a flat structure (every member a plain scalar), a test that a list of them is valid.

    Lists of such structures (PutLogEvents' ``logEvents``: up to 10,000 of them) are the hot
    path; a list the test accepts needs neither decoding nor validation. It checks member by
    member over the whole list (columns), which costs a fraction of a test per element. A list
    it does not accept goes through the full walk, which finds and words the problem exactly.
    """
    if node.accepter is not _UNSET:
        return node.accepter
    accept: Callable[[list[Any]], bool] | None = None
    if node.kind == "structure" and not node.document and node.members:
        checks = [
            (m.wire, operator.itemgetter(m.wire) if m.required else None, _column_check(m.node))
            for m in node.members
        ]
        if all(c for _, _, c in checks) and all(m.wire == m.name for m in node.members):

            def accept(items: list[Any]) -> bool:
                if not items:
                    return True
                if set(map(type, items)) != {dict}:
                    return False
                present = 0
                for wire, get, check in checks:
                    if get is not None:  # required: every element has it
                        try:
                            column = list(map(get, items))
                        except KeyError:
                            return False
                    else:
                        column = [item[wire] for item in items if wire in item]
                    if not check(column):  # type: ignore[misc]
                        return False
                    present += len(column)
                return present == sum(map(len, items))  # no member outside the model

    node.accepter = accept
    return accept


# Lists that decoding accepted whole, so validation does not test them again (per request).
_ACCEPTED: contextvars.ContextVar[set[int] | None] = contextvars.ContextVar(
    "accepted", default=None
)


def _all_accepted(items: list[Any], member: Node) -> bool:
    if type(items) is CheckedList:
        return True
    accepted = _ACCEPTED.get()
    if accepted is not None and id(items) in accepted:
        return True
    accept = _accepter(member)
    if accept is None or not accept(items):
        return False
    if accepted is not None:
        accepted.add(id(items))
    return True


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


class Violations:
    """Collects ``Value ... at ... failed to satisfy constraint`` entries, up to the AWS cap."""

    def __init__(self, renderer: Renderer) -> None:
        self.items: list[str] = []
        self.full = False
        self.render = renderer

    def add(self, value: Any, node: Node | None, path: str, constraint: str) -> None:
        if self.full:
            return
        shown = "null" if value is None else f"'{self.render(value, node)}'"
        self.items.append(f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}")
        self.full = len(self.items) >= MAX_REPORTED_ERRORS

    def message(self) -> str:
        n = len(self.items)
        return f"{n} validation error{'s' if n != 1 else ''} detected: " + "; ".join(self.items)


class Renderer:
    """Renders values the way Coral's Java ``toString`` shows them in messages.

    Strings as-is, numbers as Java prints them, lists ``[a, b]``, maps ``{k=v, k2=v2}``,
    blobs ``java.nio.HeapByteBuffer[pos=0 lim=N cap=N]`` and structures as Java's default
    ``<class>@<hash>`` (Kinesis shows ``com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@2``;
    the package here is built the same way, the hash is a CRC of the content).
    """

    def __init__(self, package: str) -> None:
        self.package = package

    def __call__(self, value: Any, node: Node | None) -> str:
        if value is None:
            return "null"
        kind = node.kind if node is not None else None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return value
        if isinstance(value, (bytes, bytearray)):
            return f"java.nio.HeapByteBuffer[pos=0 lim={len(value)} cap={len(value)}]"
        if isinstance(value, (int, float)):
            if kind in ("double", "float") or isinstance(value, float):
                return _java_double(float(value))
            return str(value)
        if isinstance(value, list):
            member = node.member if node is not None else None
            return "[" + ", ".join(self(v, member) for v in value) + "]"
        if isinstance(value, dict):
            if node is not None and kind == "structure" and not node.document:
                digest = zlib.crc32(orjson.dumps(value, default=json_default))
                return f"{self.package}.{node.name}@{digest:x}"
            key = node.key if node is not None else None
            val = node.value if node is not None else None
            return "{" + ", ".join(f"{self(k, key)}={self(v, val)}" for k, v in value.items()) + "}"
        return str(value)


def json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, _dt.datetime):
        return value.timestamp()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _validate_contents(value: Any, node: Node, path: str, out: Violations) -> None:
    """Check what a non-null structure, list or map contains (its own size is checked by
    the caller). Paths are only formatted for reports and for descending into containers."""
    kind = node.kind
    if kind == "structure":
        if node.document:
            return
        for m in node.members:
            child = value.get(m.name)
            mnode = m.node
            if child is None:
                if m.required:
                    out.add(None, mnode, f"{path}.{m.label}" if path else m.label, _NOT_NULL)
                    if out.full:
                        return
                continue
            if not mnode.trivial:
                failed = mnode.check(child)
                if failed:
                    where = f"{path}.{m.label}" if path else m.label
                    for constraint in failed:
                        out.add(child, mnode, where, constraint)
                    if out.full:
                        return
            if mnode.complex:
                _validate_contents(child, mnode, f"{path}.{m.label}" if path else m.label, out)
                if out.full:
                    return
    elif kind == "list":
        member = node.member
        assert member is not None
        if member.complex and _all_accepted(value, member):
            return
        _check_elements(value, member, value, node, path, "Member", out)
        if member.complex:
            for i, item in enumerate(value, 1):
                if out.full:
                    return
                if item is not None:
                    _validate_contents(item, member, f"{path}.{i}.member", out)
    elif kind == "map":
        key, val = node.key, node.value
        assert key is not None and val is not None
        _check_elements(list(value), key, value, node, path, "Map keys", out)
        _check_elements(list(value.values()), val, value, node, path, "Map value", out)
        if val.complex:
            for k, item in value.items():
                if out.full:
                    return
                if item is not None:
                    _validate_contents(item, val, f"{path}.{k}.member", out)


def _check_elements(
    items: list[Any],
    element: Node,
    whole: Any,
    container: Node,
    path: str,
    subject: str,
    out: Violations,
) -> None:
    """One aggregated violation at the container when any element breaks the element shape.

    AWS prints every constraint of the element shape, whichever failed, once per container
    however many elements fail (keys and values separately, keys first). A null element is
    reported by adding ``Member must not be null`` to the bracket (our choice: Coral services
    differ on whether that phrase is listed).
    """
    has_null = None in items
    failed = not element.trivial and any(item is not None and element.check(item) for item in items)
    if not (failed or has_null):
        return
    constraints = list(element.all_constraints())
    if has_null:
        constraints.append(_NOT_NULL)
    out.add(
        whole, container, path, f"{subject} must satisfy constraint: [{', '.join(constraints)}]"
    )


# --------------------------------------------------------------------------------------
# The protocol
# --------------------------------------------------------------------------------------


def serialization_error(message: str = "") -> ServiceError:
    return ServiceError(SERIALIZATION_EXCEPTION, message)


class Mismatch(Exception):
    """A wrong JSON type; containers add their path segment while it propagates, so the
    happy path never formats a path."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text
        self.segments: list[str] = []

    def error(self) -> ServiceError:
        path = ".".join(reversed(self.segments))
        return serialization_error(f"{self.text} (at '{path}')" if path else self.text)


def _json_token(value: Any) -> str:
    if value is True:
        return "TRUE_VALUE"
    if value is False:
        return "FALSE_VALUE"
    if isinstance(value, str):
        return "STRING_VALUE"
    return "NUMBER_VALUE"


def type_error(value: Any, node: Node) -> Mismatch:
    """Coral's wording for a JSON value of the wrong type (the path is added later).

    Observed on AWS (2026, JSON 1.1): ``STRING_VALUE can not be converted to an Integer``,
    ``NUMBER_VALUE can not be converted to a String``, ``TRUE_VALUE ...``,
    ``Start of list found where not expected``, ``Start of structure or map found where not
    expected.``, ``Expected list or null``, ``Expected null`` (structure). AWS does not name
    the member; we append `` (at '<path>')`` so the caller can find it.
    """
    if isinstance(value, list):
        return Mismatch("Start of list found where not expected")
    if isinstance(value, dict):
        return Mismatch("Start of structure or map found where not expected.")
    if node.kind == "list":
        return Mismatch("Expected list or null")
    if node.kind == "map":
        return Mismatch("Expected map or null")
    if node.kind == "structure":
        return Mismatch("Expected null")
    java_type = _JAVA_TYPE.get(node.kind, "a Value")
    return Mismatch(f"{_json_token(value)} can not be converted to {java_type}")


def _decode_blob(value: str) -> bytes:
    """Strict base64 as Coral checks it (length multiple of 4, alphabet, canonical padding).

    Wording from kinesalite's record of Kinesis (2015); "dectected" is AWS's spelling.
    """
    prefix = f"'{value}' can not be converted to a Blob: "
    if len(value) % 4:
        raise Mismatch(
            f"{prefix}Base64 encoded length is expected a multiple of 4 bytes but found: "
            f"{len(value)}"
        )
    bad = re.search(r"[^A-Za-z0-9+/=]|=[^=]", value)
    if bad:
        raise Mismatch(f"{prefix}Invalid Base64 character: '{bad.group(0)[0]}'")
    try:
        data = base64.b64decode(value, validate=True)
    except binascii.Error:
        data = None
    if data is None or base64.b64encode(data).decode("ascii") != value:
        raise Mismatch(f"{prefix}Invalid last non-pad Base64 character dectected")
    return data


def decode_json(value: Any, node: Node) -> Any:
    """Type-check one non-null JSON value against its shape and convert it.

    Unknown and null structure members are dropped (AWS ignores unknown members and treats
    null as absent); nulls inside lists and maps are kept for validation to report.
    """
    kind = node.kind
    if kind == "structure":
        if type(value) is not dict:
            raise type_error(value, node)
        if node.document:
            return value
        out: dict[str, Any] = {}
        by_wire = node.by_wire
        for wire, item in value.items():
            m = by_wire.get(wire)
            if m is None or item is None:
                continue
            if type(item) is str and m.node.kind == "string":
                out[m.name] = item  # the common case, without a call
                continue
            try:
                out[m.name] = decode_json(item, m.node)
            except Mismatch as exc:
                exc.segments.append(m.label)
                raise
        return out
    if kind == "list":
        if not isinstance(value, list):  # a CheckedList passes, and _all_accepted takes it
            raise type_error(value, node)
        member = node.member
        assert member is not None
        if _all_accepted(value, member):
            return value  # already exactly what decoding would produce
        items: list[Any] = []
        for i, item in enumerate(value, 1):
            try:
                items.append(None if item is None else decode_json(item, member))
            except Mismatch as exc:
                exc.segments.append(f"{i}.member")
                raise
        return items
    if kind == "map":
        if type(value) is not dict:
            raise type_error(value, node)
        val = node.value
        assert val is not None
        entries: dict[str, Any] = {}
        for key, item in value.items():
            try:
                entries[key] = None if item is None else decode_json(item, val)
            except Mismatch as exc:
                exc.segments.append(f"{key}.member")
                raise
        return entries
    if kind == "string":
        if type(value) is not str:
            raise type_error(value, node)
        return value
    if kind in ("integer", "long"):
        return _decode_integer(value, node)
    if kind in ("double", "float"):
        if type(value) not in (int, float):
            raise type_error(value, node)
        return value
    if kind == "boolean":
        if type(value) is not bool:
            raise type_error(value, node)
        return value
    if kind == "timestamp":
        if type(value) in (int, float) or (type(value) is str and node.iso_timestamp):
            return value
        raise type_error(value, node)
    if kind == "blob":
        if type(value) is not str:
            raise type_error(value, node)
        return _decode_blob(value)
    return value


def _decode_integer(value: Any, node: Node) -> int:
    """Whole numbers only; an integral float (``5.0``) becomes an int.

    A number outside the Java int/long range is a serialization error unless the shape has
    the bound it breaks, in which case validation reports it (AWS answered a too-large
    ``MaxResults`` with the range message, not a SerializationException).
    """
    if type(value) is int:
        number = value
    elif type(value) is float and value.is_integer():
        number = int(value)
    else:
        raise type_error(value, node)
    low, high = _JAVA_INT if node.kind == "integer" else _JAVA_LONG
    if (number > high and node.max is None) or (number < low and node.min is None):
        raise type_error(value, node)
    return number


def encode(value: Any, node: Node) -> Any:
    """Result value -> JSON-ready value for its shape (undeclared members and None dropped)."""
    kind = node.kind
    if kind == "structure":
        if node.document or not isinstance(value, Mapping):
            return value
        out: dict[str, Any] = {}
        for m in node.members:
            item = value.get(m.name)
            if item is not None:
                out[m.wire] = encode(item, m.node)
        return out
    if kind == "list":
        member = node.member
        assert member is not None
        names = member.plain_names
        if names is not None and all(
            type(item) is dict and item.keys() <= names and None not in item.values()
            for item in value
        ):
            return value  # FilterLogEvents' 10,000 events: already what the walk would give
        return [encode(item, member) for item in value if item is not None]
    if kind == "map":
        val = node.value
        assert val is not None
        return {k: encode(item, val) for k, item in value.items() if item is not None}
    if kind == "timestamp":
        if isinstance(value, _dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=_dt.UTC)
            return value.timestamp()
        return value
    if kind == "blob":
        if isinstance(value, str):
            value = value.encode("utf-8")
        if isinstance(value, (bytes, bytearray, memoryview)):
            return base64.b64encode(bytes(value)).decode("ascii")
    return value


def parse(
    data: dict[str, Any],
    node: Node,
    renderer: Renderer,
    validation_code: str,
    typed: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Type-check the decoded JSON members in ``data``, add the ``typed`` members (already
    converted by the caller: REST path, query and header values), then validate the whole
    input against the model.

    Returns the members keyed by model member name, unknown and null ones dropped, blobs as
    ``bytes``. Raises ``ServiceError``: ``SerializationException`` for a wrong type,
    ``validation_code`` with every constraint violation.
    """
    token = _ACCEPTED.set(set())
    try:
        try:
            params = decode_json(data, node)
        except Mismatch as exc:
            raise exc.error() from None
        except RecursionError:
            raise serialization_error("Request body nested too deeply") from None
        if typed:
            params.update(typed)
        violations = Violations(renderer)
        _validate_contents(params, node, "", violations)
    finally:
        _ACCEPTED.reset(token)
    if violations.items:
        raise ServiceError(validation_code, violations.message())
    return params
