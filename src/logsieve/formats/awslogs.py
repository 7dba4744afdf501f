"""The ``awslogs`` envelope CloudWatch Logs wraps subscription deliveries in.

A payload (DATA_MESSAGE with log events, or CONTROL_MESSAGE health check) is compact JSON in
AWS's key order, gzip-compressed; Kinesis and Firehose records carry the raw gzip bytes, a
Lambda event carries them base64-encoded as ``{"awslogs": {"data": ...}}``. The gzip member is
written the way AWS's Java writer does (MTIME 0, XFL 0, OS 0), so encoded data starts with
``H4sIAAAAAAAAA`` exactly like a real delivery.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

import orjson

DATA_MESSAGE = "DATA_MESSAGE"
CONTROL_MESSAGE = "CONTROL_MESSAGE"
CONTROL_OWNER = "CloudwatchLogs"
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x00"  # deflate, no flags, MTIME/XFL/OS 0


class EnvelopeError(ValueError):
    """Data that is not an ``awslogs`` envelope; the message says which layer failed."""


@dataclass(frozen=True)
class LogEvent:
    id: str
    timestamp: int
    message: str
    extracted_fields: dict[str, str] | None = None  # space-delimited filters only

    def to_dict(self) -> dict[str, Any]:
        event: dict[str, Any] = {
            "id": self.id,
            "timestamp": self.timestamp,
            "message": self.message,
        }
        if self.extracted_fields is not None:
            event["extractedFields"] = self.extracted_fields
        return event


@dataclass(frozen=True)
class Payload:
    message_type: str
    owner: str
    log_group: str
    log_stream: str
    subscription_filters: list[str]
    log_events: list[LogEvent] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """AWS's keys, in AWS's order."""
        return {
            "messageType": self.message_type,
            "owner": self.owner,
            "logGroup": self.log_group,
            "logStream": self.log_stream,
            "subscriptionFilters": self.subscription_filters,
            "logEvents": [e.to_dict() for e in self.log_events],
        }

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: Any) -> Payload:
        try:
            return cls(
                message_type=data["messageType"],
                owner=data["owner"],
                log_group=data["logGroup"],
                log_stream=data["logStream"],
                subscription_filters=list(data["subscriptionFilters"]),
                log_events=[
                    LogEvent(e["id"], e["timestamp"], e["message"], e.get("extractedFields"))
                    for e in data["logEvents"]
                ],
            )
        except (KeyError, TypeError) as exc:
            raise EnvelopeError(f"not an awslogs payload: missing or invalid {exc}") from exc


def data_message(
    owner: str, log_group: str, log_stream: str, filters: list[str], events: list[LogEvent]
) -> Payload:
    return Payload(DATA_MESSAGE, owner, log_group, log_stream, filters, events)


def control_message(destination: str, timestamp: int) -> Payload:
    """The health check sent when a subscription is created ("Kinesis stream", "Firehose")."""
    text = f"CWL CONTROL MESSAGE: Checking health of destination {destination}."
    return Payload(CONTROL_MESSAGE, CONTROL_OWNER, "", "", [], [LogEvent("", timestamp, text)])


def compress(data: bytes, level: int = 6) -> bytes:
    """One gzip member with AWS's header bytes."""
    deflate = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = deflate.compress(data) + deflate.flush()
    trailer = struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)
    return _GZIP_HEADER + body + trailer


def encode(payload: Payload) -> bytes:
    """The Kinesis / Firehose record data: gzip of the payload JSON."""
    return compress(payload.to_json())


def encode_lambda_event(payload: Payload) -> dict[str, dict[str, str]]:
    """The event a subscribed Lambda function receives."""
    return {"awslogs": {"data": base64.b64encode(encode(payload)).decode("ascii")}}


def decode(data: bytes) -> Payload:
    """A payload from raw gzip bytes (a Kinesis / Firehose record's data)."""
    try:
        text = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise EnvelopeError(f"not gzip data: {exc}") from exc
    return _payload(text)


def _payload(text: bytes) -> Payload:
    try:
        return Payload.from_dict(orjson.loads(text))
    except orjson.JSONDecodeError as exc:
        raise EnvelopeError(f"gzip content is not JSON: {exc}") from exc


def decode_members(data: bytes) -> list[Payload]:
    """One payload per gzip member: a Firehose object is the records' members concatenated."""
    payloads = []
    while data:
        member = zlib.decompressobj(wbits=31)  # 31: expect a gzip header
        try:
            text = member.decompress(data) + member.flush()
        except zlib.error as exc:
            raise EnvelopeError(f"not gzip data: {exc}") from exc
        if not member.eof:
            raise EnvelopeError("not gzip data: truncated member")
        payloads.append(_payload(text))
        data = member.unused_data
    return payloads


def decode_base64(text: str) -> Payload:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EnvelopeError(f"not base64: {exc}") from exc
    return decode(raw)


def decode_any(blob: bytes) -> list[Payload]:
    """Every payload in whatever a user has at hand.

    Accepts a Lambda event (``{"awslogs": {"data": ...}}``), a Lambda Kinesis or Firehose
    event (``{"Records": [...]}`` / ``{"records": [...]}``), a bare base64 string, raw gzip
    bytes (one member, or a Firehose object of several), or an already-decoded payload.
    """
    if blob[:2] == b"\x1f\x8b":
        return decode_members(blob)
    try:
        document = orjson.loads(blob)
    except orjson.JSONDecodeError:
        return [decode_base64(blob.decode("ascii", errors="replace"))]
    if isinstance(document, str):
        return [decode_base64(document)]
    if isinstance(document, dict):
        if "awslogs" in document:
            return [decode_base64(str(document["awslogs"].get("data", "")))]
        records = document.get("Records") or document.get("records")
        if isinstance(records, list):
            return [decode_base64(_record_data(r)) for r in records]
        if "messageType" in document:
            return [Payload.from_dict(document)]
    raise EnvelopeError(
        "not an awslogs envelope: expected a Lambda event with awslogs.data, Kinesis or "
        "Firehose records, base64 text, gzip bytes or a decoded payload"
    )


def _record_data(record: Any) -> str:
    if isinstance(record, dict):
        if isinstance(record.get("kinesis"), dict):
            return str(record["kinesis"].get("data", ""))
        if "data" in record:  # Firehose transformation records
            return str(record["data"])
    raise EnvelopeError("a record without kinesis.data or data")
