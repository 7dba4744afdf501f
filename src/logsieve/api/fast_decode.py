"""A faster decoder for requests whose bulk is a list of flat structures (PutLogEvents).

The generic path has orjson build a dict per element, the model walk check every dict, and
the operation read and free them: for 10,000 log events that was most of the server's CPU per
event. msgspec decodes such a list straight into structs and checks each member's type and
range while it parses, and the operation reads members as attributes.

The decoder is built from the botocore model, like everything in ``model``: a list member
qualifies when its elements are structures whose members are all required plain scalars
(strings without pattern or enum, integers, longs, booleans). It is only ever a shortcut: a
request it cannot decode cleanly -- a wrong type, a null, a value out of range, malformed JSON
-- returns None and takes the generic path, which finds and words the problem exactly as AWS
does. The other members come back as raw JSON and are decoded by orjson, so they read exactly
as the generic path reads them.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Annotated, Any

import msgspec
import orjson

from logsieve.elements import CheckedList

from .fast_metric_data import ELEMENTS, java_safe
from .model import Node, integer_bounds, java_lengths_ok

__all__ = ["build_decoder"]

Decoder = Callable[[bytes], dict[str, Any] | None]
# Whatever stops the shortcut -- bad JSON or UTF-8 (ValueError covers orjson's and the codec's
# errors), a type or constraint msgspec refuses, nesting too deep -- sends the body down the
# generic path, which answers it as AWS does.
_FAILED = (ValueError, msgspec.MsgspecError, RecursionError)


def _scalar_type(node: Node) -> Any:
    """The msgspec type of a scalar member, constraints included, or None."""
    if node.kind in ("integer", "long"):
        lo, hi = integer_bounds(node)
        return Annotated[int, msgspec.Meta(ge=lo, le=hi)]
    if node.kind == "boolean":
        return bool
    if node.kind == "string" and node.pattern is None and not node.enum:
        # Characters, not Java's UTF-16 units: never more than Java counts, so the minimum
        # may refuse a valid value (the generic path then accepts it), never the reverse.
        return Annotated[str, msgspec.Meta(min_length=int(node.min or 0))]
    return None


def _element_struct(
    list_node: Node,
) -> tuple[type[msgspec.Struct], Callable[[list[Any]], bool]] | None:
    """For a list of flat structures: the element struct and a check for what msgspec's
    constraints cannot express (Java's string length); None when the list does not qualify."""
    element = list_node.member
    if list_node.kind != "list" or element is None or element.kind != "structure":
        return None
    if element.name in ELEMENTS:
        return ELEMENTS[element.name], _java_safe_items
    if element.document or not element.members:
        return None
    fields: list[tuple[str, Any]] = []
    lengths: list[tuple[str, int]] = []
    for m in element.members:
        kind = _scalar_type(m.node)
        if kind is None or not m.required or m.wire != m.name or not m.name.isidentifier():
            return None
        fields.append((m.name, kind))
        if m.node.kind == "string" and m.node.max is not None:
            lengths.append((m.name, int(m.node.max)))
    struct = msgspec.defstruct(element.name, fields, frozen=True, gc=False)

    def lengths_ok(items: list[Any]) -> bool:
        return all(java_lengths_ok(list(map(attrgetter(n), items)), high) for n, high in lengths)

    return struct, lengths_ok


def _java_safe_items(items: list[Any]) -> bool:
    return True  # checked on the whole body before decoding (``java_safe``)


def build_decoder(node: Node | None) -> Decoder | None:
    """A decoder for an operation's input structure, or None when no member qualifies.

    It returns the request as the generic decoder's first step does (a dict keyed by wire
    name, members the client left out absent), with each qualifying list as a
    ``CheckedList`` of structs; or None when the body must take the generic path.
    """
    if node is None or node.kind != "structure" or node.document:
        return None
    fields: list[tuple[str, Any, Any]] = []
    rename: dict[str, str] = {}
    lists: list[tuple[str, str, Callable[[list[Any]], bool]]] = []
    raws: list[tuple[str, str]] = []
    for i, m in enumerate(node.members):
        attr = f"m{i}"  # wire names need not be identifiers
        rename[attr] = m.wire
        found = _element_struct(m.node)
        if found is None:
            fields.append((attr, msgspec.Raw | msgspec.UnsetType, msgspec.UNSET))
            raws.append((attr, m.wire))
        else:
            struct, check = found
            fields.append((attr, list[struct] | msgspec.UnsetType, msgspec.UNSET))  # type: ignore[valid-type]
            lists.append((attr, m.wire, check))
    if not lists:
        return None
    hand_written = any(m.node.member is not None and m.node.member.name in ELEMENTS
                       for m in node.members)  # fmt: skip
    request = msgspec.defstruct(f"{node.name}Fast", fields, rename=rename)
    decoder = msgspec.json.Decoder(request)
    unset = msgspec.UNSET

    def decode(body: bytes) -> dict[str, Any] | None:
        if hand_written and not java_safe(body):
            return None
        try:
            value = decoder.decode(body)
            out: dict[str, Any] = {}
            for attr, wire in raws:
                raw = getattr(value, attr)
                if raw is not unset:
                    out[wire] = orjson.loads(memoryview(raw))
        except _FAILED:
            return None
        for attr, wire, check in lists:
            items = getattr(value, attr)
            if items is not unset:
                if not check(items):
                    return None
                out[wire] = CheckedList(items)
        return out

    return decode
