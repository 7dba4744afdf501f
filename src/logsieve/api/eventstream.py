"""The ``application/vnd.amazon.eventstream`` framing: how AWS streams events in a response.

botocore ships only the decoder (``botocore.eventstream``), so the encoder is here, checked
against it in the tests. A message is a prelude (total length, headers length, CRC32 of the
two), headers (name length u8, name, type 7 = string, value length u16, value), the payload
and a CRC32 of everything before it. Protocols use ``event_stream`` to turn an operation's
events into frames; the first frame is always ``initial-response`` (botocore refuses a stream
without it).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import orjson

from logsieve.errors import ServiceError

__all__ = ["CONTENT_TYPE", "error_frame", "event_frame", "event_stream", "exception_frame", "frame"]

CONTENT_TYPE = "application/vnd.amazon.eventstream"
_STRING = 7
_PRELUDE = struct.Struct(">II")


def _headers(headers: Mapping[str, str]) -> bytes:
    out = bytearray()
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        out += struct.pack(">B", len(raw_name)) + raw_name
        out += struct.pack(">BH", _STRING, len(raw_value)) + raw_value
    return bytes(out)


def frame(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One event-stream message with string ``headers``."""
    encoded = _headers(headers)
    prelude = _PRELUDE.pack(16 + len(encoded) + len(payload), len(encoded))
    head = prelude + struct.pack(">I", zlib.crc32(prelude)) + encoded + payload
    return head + struct.pack(">I", zlib.crc32(head))


def event_frame(event_type: str, payload: Mapping[str, Any]) -> bytes:
    return frame(
        {
            ":message-type": "event",
            ":event-type": event_type,
            ":content-type": "application/json",
        },
        orjson.dumps(payload),
    )


def exception_frame(exception_type: str, payload: Mapping[str, Any]) -> bytes:
    """A modeled exception of the stream (``SessionTimeoutException``): the stream's end."""
    return frame(
        {
            ":message-type": "exception",
            ":exception-type": exception_type,
            ":content-type": "application/json",
        },
        orjson.dumps(payload),
    )


def error_frame(code: str, message: str) -> bytes:
    """An unmodeled error (botocore raises ``EventStreamError`` with this code)."""
    return frame({":message-type": "error", ":error-code": code, ":error-message": message}, b"")


async def event_stream(
    events: AsyncIterator[tuple[str, Mapping[str, Any]]],
    encode: Callable[[str, Mapping[str, Any]], Mapping[str, Any]],
    exceptions: frozenset[str],
) -> AsyncIterator[bytes]:
    """Frames for an operation's ``events`` (pairs of member name and value, each value
    shaped by ``encode``): ``initial-response`` first; a member in ``exceptions`` is sent as
    a modeled exception and ends the stream; a ``ServiceError`` raised by ``events`` becomes
    an error frame. Closing this generator closes ``events`` (a client that went away)."""
    yield event_frame("initial-response", {})
    try:
        async for member, value in events:
            if member in exceptions:
                yield exception_frame(member, encode(member, value))
                return
            yield event_frame(member, encode(member, value))
    except ServiceError as error:
        yield error_frame(error.code, error.message)
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()
