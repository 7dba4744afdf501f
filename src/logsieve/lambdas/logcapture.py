"""What a worker writes, turned into CloudWatch log events the way Lambda does.

A worker has two output channels:

* stdout and stderr, merged into one pipe (so their interleaving is kept), split into one event
  per line, as Lambda does for anything a function prints;
* the telemetry pipe awslambdaric writes its framed log records to (``_LAMBDA_TELEMETRY_LOG_FD``):
  one frame per ``logging`` record or error report, so a multi-line record (a traceback) stays
  one event, with the timestamp taken when the record was written.

Events are collected per invocation (``InvocationLog``) and handed to the sink in batches. They
carry microsecond timestamps until then, so that a line read from stdout and a record from the
telemetry pipe written in the same millisecond still come out in the order they were written
(as far as the read times tell: a printed line is stamped when it is read).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime

Event = tuple[int, str]  # (timestamp in ms, message): what the sink gets
Captured = tuple[int, str]  # (timestamp in µs, message): before it is handed over

# CloudWatch's event size limit is 256 KiB including 26 bytes of overhead per event.
MAX_EVENT_BYTES = 262_144 - 26
TAIL_BYTES = 4096  # what Invoke's X-Amz-Log-Result carries
_FLUSH_BYTES = 1024 * 1024  # hand events to the sink during a long, chatty invocation
LIVE_FLUSH_SECONDS = 0.5  # and don't keep a long invocation's events back for longer than this
_FRAME_HEADER = 16  # type (4) + length (4) + timestamp in microseconds (8), big-endian


def stream_name(now: datetime | None = None) -> str:
    """A log stream name like Lambda's: ``2024/05/01/[$LATEST]<32 hex digits>``."""
    day = (now or datetime.now(UTC)).strftime("%Y/%m/%d")
    return f"{day}/[$LATEST]{secrets.token_hex(16)}"


def now_us() -> int:
    return time.time_ns() // 1_000


def _chunks(data: bytes) -> list[bytes]:
    """``data`` cut into pieces CloudWatch accepts, never inside a UTF-8 character."""
    pieces = []
    while len(data) > MAX_EVENT_BYTES:
        cut = MAX_EVENT_BYTES
        while cut > 0 and data[cut] & 0xC0 == 0x80:
            cut -= 1
        pieces.append(data[:cut])
        data = data[cut:]
    pieces.append(data)
    return pieces


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


class LineSplitter:
    """The stdout/stderr pipe's bytes as one event per line; a partial line waits for more."""

    def __init__(self) -> None:
        self._partial = bytearray()

    def feed(self, data: bytes, timestamp: int) -> list[Captured]:
        self._partial += data
        if b"\n" not in data and len(self._partial) <= MAX_EVENT_BYTES:
            return []
        *lines, rest = bytes(self._partial).split(b"\n")
        events = [(timestamp, _text(piece)) for line in lines for piece in _chunks(line)]
        if len(rest) > MAX_EVENT_BYTES:
            *full, rest = _chunks(rest)
            events += [(timestamp, _text(piece)) for piece in full]
        self._partial = bytearray(rest)
        return events

    def flush(self, timestamp: int) -> list[Captured]:
        """A trailing line without newline, at the end of an invocation."""
        if not self._partial:
            return []
        data, self._partial = bytes(self._partial), bytearray()
        return [(timestamp, _text(piece)) for piece in _chunks(data)]


class FrameDecoder:
    """awslambdaric's telemetry frames: type, length, timestamp (µs), message."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Captured]:
        self._buffer += data
        events: list[Captured] = []
        offset = 0
        buffer = self._buffer
        while len(buffer) - offset >= _FRAME_HEADER:
            length = int.from_bytes(buffer[offset + 4 : offset + 8], "big")
            end = offset + _FRAME_HEADER + length
            if len(buffer) < end:
                break
            micros = int.from_bytes(buffer[offset + 8 : offset + 16], "big")
            message = bytes(buffer[offset + _FRAME_HEADER : end])
            events += [(micros, _text(piece)) for piece in _chunks(message)]
            offset = end
        del buffer[:offset]
        return events


class InvocationLog:
    """One invocation's log events, its tail, and their way to the sink.

    Events are sorted by time before they leave (the two pipes are read in turn, so their
    events can arrive slightly out of order) and never go back in time across batches, because
    CloudWatch rejects a batch that is not chronological.
    """

    def __init__(self, sink: Callable[[list[Event]], None]) -> None:
        self._sink = sink
        self._events: list[Captured] = []
        self._pending_since: float | None = None  # monotonic time of the oldest pending event
        self._pending_bytes = 0
        self._last_timestamp = 0
        self._tail: list[str] = []
        self._tail_chars = 0

    def add(self, timestamp: int, message: str) -> None:
        if not self._events:
            self._pending_since = time.monotonic()
        self._events.append((timestamp, message))
        self._pending_bytes += len(message) + 26
        text = message if message.endswith("\n") else message + "\n"
        self._tail.append(text)
        self._tail_chars += len(text)
        if self._tail_chars > 4 * TAIL_BYTES and len(self._tail) > 1:
            self._trim_tail()
        if self._pending_bytes > _FLUSH_BYTES:
            self.flush()

    def extend(self, events: list[Captured]) -> None:
        for timestamp, message in events:
            self.add(timestamp, message)

    def flush_due(self) -> float | None:
        """When pending events should go out even though the invocation still runs."""
        if self._pending_since is None:
            return None
        return self._pending_since + LIVE_FLUSH_SECONDS

    def flush(self) -> None:
        if not self._events:
            return
        events = sorted(self._events, key=lambda event: event[0])
        self._events = []
        self._pending_since = None
        self._pending_bytes = 0
        floor = self._last_timestamp
        batch = [(max(micros // 1000, floor), message) for micros, message in events]
        self._last_timestamp = batch[-1][0]
        self._sink(batch)

    def tail(self) -> str:
        """The last 4 KB of the invocation's log text, as Invoke's ``LogType=Tail`` gives it."""
        data = "".join(self._tail).encode("utf-8")[-TAIL_BYTES:]
        return data.decode("utf-8", errors="ignore")

    def _trim_tail(self) -> None:
        while len(self._tail) > 1 and self._tail_chars - len(self._tail[0]) >= TAIL_BYTES:
            self._tail_chars -= len(self._tail.pop(0))
