"""Botocore service models, loaded once and compiled for the wire.

Every protocol layer walks the same compiled tree (``Node``, ``Member``): the parts of a
botocore shape decoding, validation and encoding need, precomputed once per service so nothing
is mutated once requests arrive. Everything comes from the model shipped with botocore.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import botocore.loaders
import botocore.model

__all__ = [
    "JAVA_INT",
    "JAVA_LONG",
    "UNSET",
    "CompiledOperation",
    "LazyOperations",
    "Member",
    "ModeledError",
    "Node",
    "build",
    "compile_operation",
    "compile_operations",
    "integer_bounds",
    "java_length",
    "java_lengths_ok",
    "modeled_errors",
    "protocol_model",
    "service_model",
]

_PLAIN_SCALARS = frozenset({"string", "integer", "long", "boolean"})  # encoded as they are
#: Java's int and long ranges (Coral's integer and long members).
JAVA_INT = (-(2**31), 2**31 - 1)
JAVA_LONG = (-(2**63), 2**63 - 1)
#: Not computed yet (``Node.accepter``).
UNSET: Any = object()
_COMPLEX = frozenset({"structure", "list", "map"})


@functools.cache
def _loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


@functools.cache
def service_model(service_name: str) -> botocore.model.ServiceModel:
    """Load (once per process) the botocore model shipped with the installed botocore."""
    data = _loader().load_service_model(service_name, "service-2")
    return botocore.model.ServiceModel(data, service_name=service_name)


def protocol_model(service_name: str, protocol: str, described: str) -> botocore.model.ServiceModel:
    """The model of a service that speaks ``protocol`` (``json``, ``rest-json``, ``query``:
    its ``protocol``, or one of its ``protocols``, as CloudWatch lists three).

    Raises ValueError naming ``described`` when the service speaks another protocol.
    """
    model = service_model(service_name)
    meta = model.metadata
    spoken = meta.get("protocol")
    if spoken != protocol and protocol not in (meta.get("protocols") or ()):
        raise ValueError(f"{service_name} does not speak {described} ({spoken})")
    return model


@dataclass(frozen=True)
class CompiledOperation:
    """One operation's model with its input and output compiled (None when it has none)."""

    model: botocore.model.OperationModel
    input: Node | None
    output: Node | None


@dataclass(frozen=True)
class ModeledError:
    """An error shape of the model: the code sent on the wire (its ``error.code``, which
    Query-compatible services send, else the shape name) and its HTTP status."""

    shape: botocore.model.StructureShape
    code: str
    status: int


def modeled_errors(model: botocore.model.ServiceModel) -> list[ModeledError]:
    out = []
    for shape in model.error_shapes:
        error = shape.metadata.get("error") or {}
        out.append(
            ModeledError(
                shape, error.get("code", shape.name), int(error.get("httpStatusCode", 400))
            )
        )
    return out


def compile_operation(
    model: botocore.model.ServiceModel, name: str, nodes: dict[str, Node]
) -> CompiledOperation:
    """One operation of ``model`` compiled, sharing ``nodes`` with the others."""
    operation = model.operation_model(name)
    inp, outp = operation.input_shape, operation.output_shape
    return CompiledOperation(
        operation,
        None if inp is None else build(inp, nodes),
        None if outp is None else build(outp, nodes),
    )


def compile_operations(
    model: botocore.model.ServiceModel, cache: dict[str, Node] | None = None
) -> dict[str, CompiledOperation]:
    """Every operation of ``model`` compiled, by name (~25 ms for CloudWatch Logs).

    ``cache`` shares nodes with other shapes the caller compiles (error shapes).
    """
    nodes: dict[str, Node] = {} if cache is None else cache
    return {name: compile_operation(model, name, nodes) for name in model.operation_names}


class LazyOperations(Mapping[str, CompiledOperation]):
    """Every operation of ``model``, each compiled the first time it is asked for.

    For models as large as EC2's (over 800 operations, about 1.5 s and 30 MB to compile all at
    startup) of which logsieve serves a few dozen. Thread-safe: compiling holds a lock, since
    the shared ``nodes`` cache is written then.
    """

    def __init__(self, model: botocore.model.ServiceModel, nodes: dict[str, Node]) -> None:
        self._model = model
        self._nodes = nodes
        self._names = frozenset(model.operation_names)
        self._done: dict[str, CompiledOperation] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> CompiledOperation:
        found = self._done.get(name)
        if found is not None:
            return found
        if name not in self._names:
            raise KeyError(name)
        with self._lock:
            found = self._done.get(name)
            if found is None:
                found = self._done[name] = compile_operation(self._model, name, self._nodes)
        return found

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._model.operation_names)

    def __len__(self) -> int:
        return len(self._names)


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
        # The flat-structure fast test (see ``codec``); UNSET until first asked for.
        self.accepter: Any = UNSET
        self.scan_limit: int = max(4 * int(self.max), 4096) if self.max is not None else 0
        self.complex: bool = self.kind in _COMPLEX
        # Nothing of its own to check: lets the walkers skip a call per value.
        self.trivial: bool = (
            self.min is None and self.max is None and self.pattern is None and not self.enum
        )


def java_length(value: str) -> int:
    """Java ``String.length()``: UTF-16 code units (characters beyond the BMP count 2)."""
    if value.isascii():
        return len(value)
    return len(value.encode("utf-16-le")) // 2


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
    java_lo, java_hi = JAVA_INT if node.kind == "integer" else JAVA_LONG
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
    return all(len(v) * 2 <= high or java_length(v) <= high for v in column)
