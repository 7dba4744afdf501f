"""JSON values in and out of a compiled shape: type checking with Coral's wording, and encoding.

Wrong JSON types are a ``SerializationException`` raised before any validation, worded like
Coral (``STRING_VALUE can not be converted to a Long``) plus the member's path. Lists of flat
structures (PutLogEvents' events) are accepted whole by a column test when they can be
(``all_accepted``), so the hot path neither decodes nor validates them element by element.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import datetime as _dt
import math
import operator
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

from logsieve.elements import CheckedList
from logsieve.errors import ServiceError

from .model import JAVA_INT, JAVA_LONG, UNSET, Node, integer_bounds, java_lengths_ok

__all__ = [
    "ACCEPTED",
    "SERIALIZATION_EXCEPTION",
    "Mismatch",
    "all_accepted",
    "decode_json",
    "encode",
    "json_default",
    "serialization_error",
    "type_error",
]

SERIALIZATION_EXCEPTION = "SerializationException"

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


_DOUBLE_MAX = int(sys.float_info.max)  # beyond it an integer has no double value


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
    if node.accepter is not UNSET:
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
ACCEPTED: contextvars.ContextVar[set[int] | None] = contextvars.ContextVar("accepted", default=None)


def all_accepted(items: list[Any], member: Node) -> bool:
    if type(items) is CheckedList:
        return True
    accepted = ACCEPTED.get()
    if accepted is not None and id(items) in accepted:
        return True
    accept = _accepter(member)
    if accept is None or not accept(items):
        return False
    if accepted is not None:
        accepted.add(id(items))
    return True


def json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, _dt.datetime):
        return value.timestamp()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


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
        if all_accepted(value, member):
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
        if type(value) is int and not -_DOUBLE_MAX <= value <= _DOUBLE_MAX:
            # A CBOR bignum: a Java service reads it as an infinite double, which the
            # operation's own checks then refuse (never an OverflowError further on).
            return math.inf if value > 0 else -math.inf
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
    low, high = JAVA_INT if node.kind == "integer" else JAVA_LONG
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
