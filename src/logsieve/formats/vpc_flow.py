"""VPC Flow Logs records: field catalogue, format strings, parsing and formatting.

Pure module (see DESIGN): no I/O, no imports from other logsieve packages.
Reference: aws-compat.md section 7.1.

A flow log record is one line of single-space-separated values, no header, no quoting;
``-`` means "not applicable / not computed" and may appear in any column. The meaning of
each column comes from the flow log's format string (``${field} ${field} ...``), never from
the field count.

Typical use::

    fmt = FlowLogFormat.from_string("${version} ${account-id} ...")   # or DEFAULT
    record = fmt.parse(line)                                   # FlowRecord
    record.get("dstport"), record.timestamp_ms, record.is_nodata
    fmt.format(record) == line                                 # inverse
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "DEFAULT",
    "DEFAULT_FORMAT",
    "FIELDS",
    "FieldSpec",
    "FieldType",
    "FlowLogFormat",
    "FlowRecord",
    "FlowValue",
    "log_stream_name",
    "protocol_name",
    "tcp_flags",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
FlowValue = int | str | IPAddress | None

MISSING = "-"
"""Text written for a value that does not apply or could not be computed."""


class FieldType(StrEnum):
    INT = "int"
    STR = "str"
    IP = "ip"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    version: int
    """First flow log record version that has the field."""
    type: FieldType

    @property
    def pattern_name(self) -> str:
        """Name usable in a CloudWatch space-delimited filter pattern (``account_id``)."""
        return self.name.replace("-", "_")


_I, _S, _IP = FieldType.INT, FieldType.STR, FieldType.IP

# In the documented (table) order; aws-compat.md 7.1.
_FIELD_TABLE: tuple[tuple[str, int, FieldType], ...] = (
    ("version", 2, _I),
    ("account-id", 2, _S),
    ("interface-id", 2, _S),
    ("srcaddr", 2, _IP),
    ("dstaddr", 2, _IP),
    ("srcport", 2, _I),
    ("dstport", 2, _I),
    ("protocol", 2, _I),
    ("packets", 2, _I),
    ("bytes", 2, _I),
    ("start", 2, _I),
    ("end", 2, _I),
    ("action", 2, _S),
    ("log-status", 2, _S),
    ("vpc-id", 3, _S),
    ("subnet-id", 3, _S),
    ("instance-id", 3, _S),
    ("tcp-flags", 3, _I),
    ("type", 3, _S),
    ("pkt-srcaddr", 3, _IP),
    ("pkt-dstaddr", 3, _IP),
    ("region", 4, _S),
    ("az-id", 4, _S),
    ("sublocation-type", 4, _S),
    ("sublocation-id", 4, _S),
    ("pkt-src-aws-service", 5, _S),
    ("pkt-dst-aws-service", 5, _S),
    ("flow-direction", 5, _S),
    ("traffic-path", 5, _I),
    ("ecs-cluster-arn", 7, _S),
    ("ecs-cluster-name", 7, _S),
    ("ecs-container-instance-arn", 7, _S),
    ("ecs-container-instance-id", 7, _S),
    ("ecs-container-id", 7, _S),
    ("ecs-second-container-id", 7, _S),
    ("ecs-service-name", 7, _S),
    ("ecs-task-definition-arn", 7, _S),
    ("ecs-task-arn", 7, _S),
    ("ecs-task-id", 7, _S),
    ("reject-reason", 8, _S),
)

FIELDS: dict[str, FieldSpec] = {
    name: FieldSpec(name, version, ftype) for name, version, ftype in _FIELD_TABLE
}
"""Every known field of record versions 2-8, in documented order."""

DEFAULT_FORMAT = (
    "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} "
    "${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"
)
"""The default (version 2) format; it cannot be changed and lists all v2 fields."""

_TOKEN_RE = re.compile(r"\$\{([^{}\s$]+)\}")
_INT_RE = re.compile(r"-?[0-9]+")


def _convert(spec: FieldSpec, text: str) -> FlowValue:
    if text == MISSING:
        return None
    if spec.type is FieldType.INT:
        if not _INT_RE.fullmatch(text):
            raise ValueError(f"field {spec.name!r}: expected an integer or '-', got {text!r}")
        return int(text)
    if spec.type is FieldType.IP:
        try:
            return ipaddress.ip_address(text)
        except ValueError:
            raise ValueError(
                f"field {spec.name!r}: expected an IP address or '-', got {text!r}"
            ) from None
    if text == "":
        raise ValueError(f"field {spec.name!r}: empty value")
    return text


def _render(value: Any) -> str:
    if value is None:
        return MISSING
    if isinstance(value, bool):  # bool is an int subclass; never a valid flow value
        raise TypeError(f"cannot format boolean {value!r} as a flow log value")
    text = str(value)
    if text == "" or " " in text or "\n" in text:
        raise ValueError(f"flow log value {text!r} is empty or contains whitespace")
    return text


@dataclass(frozen=True, slots=True, eq=False)
class FlowRecord(Mapping[str, FlowValue]):
    """One parsed flow record: a read-only mapping of field name to typed value.

    Values: ``int`` for int fields, ``ipaddress`` objects for address fields, ``str``
    otherwise, ``None`` where the line had ``-``. Only the fields of the record's format
    are keys; ``get()`` on any other name returns the default.
    """

    values: Mapping[str, FlowValue]

    # Mapping protocol -------------------------------------------------------
    def __getitem__(self, name: str) -> FlowValue:
        return self.values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FlowRecord):
            return list(self.values.items()) == list(other.values.items())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self.values.items()))

    def __repr__(self) -> str:
        return f"FlowRecord({dict(self.values)!r})"

    # Conveniences -----------------------------------------------------------
    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.values)

    @property
    def log_status(self) -> str | None:
        value = self.values.get("log-status")
        return value if isinstance(value, str) else None

    @property
    def is_nodata(self) -> bool:
        """No traffic on the ENI during the capture window."""
        return self.log_status == "NODATA"

    @property
    def is_skipdata(self) -> bool:
        """Some records were skipped during the capture window."""
        return self.log_status == "SKIPDATA"

    @property
    def timestamp_ms(self) -> int | None:
        """CloudWatch event timestamp (``start`` x 1000); None if ``start`` is absent/``-``."""
        start = self.values.get("start")
        return start * 1000 if isinstance(start, int) else None


class FlowLogFormat:
    """A flow log format: the ordered fields of a ``${field} ${field} ...`` string.

    ``FlowLogFormat.from_string(format_string)`` (or ``FlowLogFormat(format_string)``) builds one;
    ``fmt.parse(line)`` turns a record line into a :class:`FlowRecord`;
    ``fmt.format(record)`` is the inverse. Values are formatted canonically (ints in
    decimal, IPv6 addresses compressed), which is what AWS writes.
    """

    __slots__ = ("_specs", "fields")

    fields: tuple[str, ...]

    def __init__(self, format_string: str) -> None:
        if not isinstance(format_string, str):
            raise TypeError(f"format string must be str, not {type(format_string).__name__}")
        text = format_string.strip()
        if not text:
            raise ValueError("flow log format string is empty")
        names: list[str] = []
        for pos, token in enumerate(text.split(" "), start=1):
            if token == "":
                raise ValueError(
                    f"bad flow log format string: fields must be separated by single spaces "
                    f"(empty token at position {pos}) in {format_string!r}"
                )
            m = _TOKEN_RE.fullmatch(token)
            if m is None:
                raise ValueError(
                    f"bad flow log format string: token {pos} {token!r} is not of the form "
                    f"'${{field-name}}'"
                )
            name = m.group(1)
            if name not in FIELDS:
                raise ValueError(f"unknown flow log field {name!r} (token {pos})")
            if name in names:
                raise ValueError(f"duplicate flow log field {name!r} (token {pos})")
            names.append(name)
        self.fields = tuple(names)
        self._specs = tuple(FIELDS[n] for n in names)

    # construction -----------------------------------------------------------
    @classmethod
    def from_string(cls, format_string: str) -> FlowLogFormat:
        """Build a format from a ``${field} ...`` string; ValueError on bad input."""
        return cls(format_string)

    @classmethod
    def from_fields(cls, names: Sequence[str]) -> FlowLogFormat:
        """Build a format from field names in order."""
        return cls(" ".join(f"${{{n}}}" for n in names))

    # properties -------------------------------------------------------------
    @property
    def specs(self) -> tuple[FieldSpec, ...]:
        return self._specs

    @property
    def version(self) -> int:
        """Record version AWS writes for this format: the highest field version used."""
        return max(s.version for s in self._specs)

    @property
    def format_string(self) -> str:
        return " ".join(f"${{{n}}}" for n in self.fields)

    def filter_pattern_fields(self) -> list[str]:
        """Field names for a CloudWatch space-delimited pattern (``-`` -> ``_``)."""
        return [s.pattern_name for s in self._specs]

    # records ----------------------------------------------------------------
    def parse(self, line: str) -> FlowRecord:
        """Parse one record line (a trailing newline is ignored); ValueError if malformed."""
        text = line.rstrip("\r\n")
        tokens = text.split(" ")
        if len(tokens) != len(self._specs):
            raise ValueError(
                f"flow log record has {len(tokens)} fields, format expects "
                f"{len(self._specs)}: {text[:200]!r}"
            )
        return FlowRecord(
            {s.name: _convert(s, tok) for s, tok in zip(self._specs, tokens, strict=True)}
        )

    def format(self, record: Mapping[str, Any]) -> str:
        """Render a record (any mapping of field name to value) as one line, no newline.

        Fields of this format missing from the mapping, or None, are written as ``-``.
        """
        return " ".join(_render(record.get(name)) for name in self.fields)

    # dunder -----------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if isinstance(other, FlowLogFormat):
            return self.fields == other.fields
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.fields)

    def __repr__(self) -> str:
        return f"FlowLogFormat({self.format_string!r})"


DEFAULT = FlowLogFormat(DEFAULT_FORMAT)
"""The default (version 2) flow log format."""


_PROTOCOL_NAMES = {1: "ICMP", 6: "TCP", 17: "UDP", 58: "ICMPv6"}


def protocol_name(number: int) -> str:
    """IANA protocol number to a short name: 6 -> "TCP", others "proto-N"."""
    return _PROTOCOL_NAMES.get(number, f"proto-{number}")


_TCP_FLAG_BITS = (
    (0x01, "FIN"),
    (0x02, "SYN"),
    (0x04, "RST"),
    (0x08, "PSH"),
    (0x10, "ACK"),
    (0x20, "URG"),
    (0x40, "ECE"),
    (0x80, "CWR"),
)


def tcp_flags(value: int) -> list[str]:
    """Names of the bits set in a ``tcp-flags`` value, lowest bit first (18 -> SYN, ACK)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"tcp-flags must be an int, not {type(value).__name__}")
    if not 0 <= value <= 0xFF:
        raise ValueError(f"tcp-flags value out of range 0-255: {value}")
    return [name for bit, name in _TCP_FLAG_BITS if value & bit]


_TRAFFIC_TYPES = ("all", "accept", "reject")


def log_stream_name(interface_id: str, traffic_type: str = "all") -> str:
    """CloudWatch log stream a flow log writes an ENI's records to: ``<eni>-<type>``.

    ``traffic_type`` is the flow log's traffic type: ALL, ACCEPT or REJECT (any case).
    """
    if not interface_id:
        raise ValueError("interface id is empty")
    suffix = traffic_type.lower()
    if suffix not in _TRAFFIC_TYPES:
        raise ValueError(f"traffic type must be ALL, ACCEPT or REJECT, not {traffic_type!r}")
    return f"{interface_id}-{suffix}"
