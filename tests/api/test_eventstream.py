"""The event-stream encoder, read back by botocore's own decoder."""

from __future__ import annotations

import asyncio
import zlib

import pytest
from botocore.eventstream import EventStreamBuffer

from logsieve.api.eventstream import error_frame, event_frame, event_stream, exception_frame
from logsieve.errors import ServiceError


def decode(data: bytes) -> list:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return [(message.headers, message.payload) for message in buffer]


def test_frames_read_back_by_botocore() -> None:
    data = event_frame("sessionUpdate", {"a": "é"}) + exception_frame("Timeout", {"message": "m"})
    data += error_frame("ServiceUnavailableException", "try again")
    (h1, p1), (h2, p2), (h3, p3) = decode(data)
    assert h1 == {
        ":message-type": "event",
        ":event-type": "sessionUpdate",
        ":content-type": "application/json",
    }
    assert p1 == '{"a":"é"}'.encode()
    assert h2[":message-type"] == "exception" and h2[":exception-type"] == "Timeout"
    assert p2 == b'{"message":"m"}'
    assert h3 == {
        ":message-type": "error",
        ":error-code": "ServiceUnavailableException",
        ":error-message": "try again",
    }
    assert p3 == b""


def test_a_corrupted_frame_is_refused_by_botocore() -> None:
    data = bytearray(event_frame("x", {"a": 1}))
    data[-6] ^= 1  # a payload byte: the message CRC no longer holds
    with pytest.raises(Exception, match="Checksum mismatch"):
        decode(bytes(data))
    assert zlib.crc32(bytes(data[:8])) == int.from_bytes(data[8:12], "big")  # prelude intact


async def _collect(stream) -> list[bytes]:
    return [frame async for frame in stream]


def test_stream_starts_with_initial_response_and_ends_at_an_exception() -> None:
    closed = []

    async def events():
        try:
            yield "one", {"n": 1}
            yield "Boom", {"message": "over"}
            yield "never", {}
        finally:
            closed.append(True)

    frames = asyncio.run(
        _collect(event_stream(events(), lambda member, value: value, frozenset({"Boom"})))
    )
    kinds = [decode(f)[0][0] for f in frames]
    assert [k.get(":event-type") or k.get(":exception-type") for k in kinds] == [
        "initial-response",
        "one",
        "Boom",
    ]
    assert closed == [True]


def test_a_service_error_inside_the_stream_becomes_an_error_frame() -> None:
    async def events():
        yield "one", {}
        raise ServiceError("SessionStreamingException", "the log went away")

    frames = asyncio.run(_collect(event_stream(events(), lambda m, v: v, frozenset())))
    headers, _ = decode(frames[-1])[0]
    assert headers[":error-code"] == "SessionStreamingException"
