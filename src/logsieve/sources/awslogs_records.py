"""One record of a Kinesis stream or Firehose request, read as an awslogs payload, fast.

The hot path of both push sources: no object per event (``formats.awslogs.decode`` builds a
dataclass per event, which halves throughput here), just the two columns the event log
stores. Accepts gzip JSON (what CloudWatch Logs writes) and plain JSON (Firehose with its
decompression processor on).
"""

from __future__ import annotations

import zlib

import orjson

from .events import RemoteBatch

__all__ = ["NotAwslogs", "awslogs_batch"]


class NotAwslogs(ValueError):
    """The record is something else (kept raw or dropped by the source)."""


def awslogs_batch(raw: bytes, prefix: str = "") -> RemoteBatch | None:
    """The record's events as one batch under ``prefix`` + its log group; None for a
    CONTROL_MESSAGE (CloudWatch's health check); ``NotAwslogs`` for anything else."""
    if raw[:2] == b"\x1f\x8b":
        try:
            text = zlib.decompress(raw, 31)
        except zlib.error as exc:
            raise NotAwslogs(str(exc)) from None
    elif raw[:1] == b"{":
        text = raw
    else:
        raise NotAwslogs("neither gzip nor JSON")
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise NotAwslogs(str(exc)) from None
    if not isinstance(document, dict) or "messageType" not in document:
        raise NotAwslogs("no messageType")
    if document["messageType"] != "DATA_MESSAGE":
        return None
    group, stream, events = (
        document.get("logGroup"), document.get("logStream"), document.get("logEvents")
    )  # fmt: skip
    if not isinstance(group, str) or not isinstance(stream, str) or not isinstance(events, list):
        raise NotAwslogs("logGroup, logStream or logEvents missing")
    try:
        timestamps = [event["timestamp"] for event in events]
        messages = [event["message"] for event in events]
    except (KeyError, TypeError):
        raise NotAwslogs("an event without timestamp or message") from None
    if not set(map(type, timestamps)) <= {int} or not set(map(type, messages)) <= {str}:
        raise NotAwslogs("timestamps must be integers and messages strings")
    return RemoteBatch(prefix + group, stream, timestamps, messages)
