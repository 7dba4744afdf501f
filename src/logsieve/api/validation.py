"""AWS-worded validation of decoded requests against a compiled shape.

Behaviour copied from AWS (Coral-based services), with the evidence in the aws-compat notes
(section 1, validation errors) and in the comments below:

* model constraints are checked after the types (``codec``) and *all* violations (at most 10,
  like AWS) are reported in one ``N validation error(s) detected: ...`` message;
* list and map members are checked as a whole: a violation by any element is reported once at
  the list or map with every constraint of the element shape in brackets
  (``Member must satisfy constraint: [...]``, ``Map keys must satisfy constraint: [...]``,
  ``Map value must satisfy constraint: [...]``), while fields inside structure elements are
  addressed one by one (``logEvents.2.member.timestamp``, ``someMap.<key>.member.field``).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import botocore.model
import orjson

from logsieve.errors import ServiceError

from .codec import ACCEPTED, Mismatch, all_accepted, decode_json, json_default, serialization_error
from .java_regex import compiled_pattern
from .model import Node, java_length

__all__ = ["Renderer", "Violations", "all_constraints", "validated", "violated"]

# AWS lists at most this many violations ("10 validation errors detected: ..." even when
# there are more); observed from Kinesis and DynamoDB and reproduced by kinesalite/dynalite.
MAX_REPORTED_ERRORS = 10


def violated(node: Node, value: Any) -> list[str]:
    """This shape's own constraints violated by a non-null value, in reporting order.

    Order for strings is enum, pattern, then length: both observed CWL/Kinesis messages
    for an empty name list the pattern before the minimum length. A value far over its
    maximum length (see ``scan_limit``) skips the pattern: some model patterns backtrack
    (``.*x.*``) and must not let a huge value stall the server; the length violation is
    reported either way.
    """
    kind = node.kind
    failed: list[str] = []
    if kind == "string":
        length = java_length(value)
        if node.enum and value not in node.enum:
            failed.append(_enum_text(node.enum))
        if node.pattern is not None and (node.max is None or length <= node.scan_limit):
            rx = compiled_pattern(node.pattern)
            if rx is not None and rx.fullmatch(value) is None:
                failed.append(_pattern_text(node.pattern))
        if node.min is not None or node.max is not None:
            _length_failures(node, length, failed)
    elif kind in ("list", "map", "blob"):
        if node.min is not None or node.max is not None:
            _length_failures(node, len(value), failed)
    elif kind in ("integer", "long", "double", "float"):
        if node.min is not None and value < node.min:
            failed.append(
                f"Member must have value greater than or equal to {_bound(node, node.min)}"
            )
        if node.max is not None and value > node.max:
            failed.append(f"Member must have value less than or equal to {_bound(node, node.max)}")
    return failed


def _bound(node: Node, bound: int | float) -> str:
    if node.kind in ("double", "float"):
        return _java_double(float(bound))
    return str(int(bound)) if float(bound).is_integer() else repr(bound)


def all_constraints(node: Node) -> tuple[str, ...]:
    """Every constraint of the shape, as AWS lists them inside ``[...]``.

    Observed order: max length, min length, pattern (EventBridge, Cognito, IAM...);
    numbers: max then min (Lambda). Enum goes last (not observed together).
    """
    if node.constraints is not None:
        return node.constraints
    out: list[str] = []
    if node.kind in ("string", "list", "map", "blob"):
        if node.max is not None:
            out.append(f"Member must have length less than or equal to {int(node.max)}")
        if node.min is not None:
            out.append(f"Member must have length greater than or equal to {int(node.min)}")
    elif node.kind in ("integer", "long", "double", "float"):
        if node.max is not None:
            out.append(f"Member must have value less than or equal to {_bound(node, node.max)}")
        if node.min is not None:
            out.append(f"Member must have value greater than or equal to {_bound(node, node.min)}")
    if node.pattern is not None:
        out.append(_pattern_text(node.pattern))
    if node.enum:
        out.append(_enum_text(node.enum))
    node.constraints = tuple(out)
    return node.constraints


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

    @classmethod
    def for_model(cls, model: botocore.model.ServiceModel) -> Renderer:
        """Coral names shapes ``com.amazonaws.<endpoint prefix>.v<api version>.<Shape>``."""
        meta = model.metadata
        version = str(meta.get("apiVersion", "")).replace("-", "")
        prefix = meta.get("endpointPrefix", model.service_name)
        return cls(f"com.amazonaws.{prefix}.v{version}")

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
                failed = violated(mnode, child)
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
        if member.complex and all_accepted(value, member):
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
    failed = not element.trivial and any(
        item is not None and violated(element, item) for item in items
    )
    if not (failed or has_null):
        return
    constraints = list(all_constraints(element))
    if has_null:
        constraints.append(_NOT_NULL)
    out.add(
        whole, container, path, f"{subject} must satisfy constraint: [{', '.join(constraints)}]"
    )


def validated(
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
    token = ACCEPTED.set(set())
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
        ACCEPTED.reset(token)
    if violations.items:
        raise ServiceError(validation_code, violations.message())
    return params
