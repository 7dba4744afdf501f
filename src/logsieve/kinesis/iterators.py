"""Shard iterators: opaque, tamper-evident positions that expire five minutes after issue.

An iterator is base64 of an 8-byte header (AWS's start with ``AAAAAAAAAAE``, i.e. seven zero
bytes and a one), the position (issue time, shard, first ``seq`` to read, stream name) and an
HMAC-SHA256 tag under the store's signing key. A client can read nothing useful from it and can
change nothing in it: any edit fails the tag and is refused as ``Invalid ShardIterator.``, as
AWS refuses a mangled one. The key lives in the store, so iterators survive a restart.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import struct
from dataclasses import dataclass

from logsieve.errors import ServiceError

from .context import invalid

ITERATOR_TTL_MS = 300_000  # AWS: "A shard iterator expires 5 minutes after it is returned"
_HEADER = b"\x00" * 7 + b"\x01"
_BODY = struct.Struct(">qIqq")  # issued (ms), shard, position (first seq to read), stream id
_TAG_BYTES = 16
_MIN_BYTES = len(_HEADER) + _BODY.size + 1 + _TAG_BYTES


@dataclass(frozen=True)
class Position:
    stream: str
    shard: int
    start: int  # the first seq a GetRecords with this iterator may return
    issued_ms: int
    stream_id: int  # which stream of that name: a re-created namesake is another stream


def _java_date(ms: int) -> str:
    """``Thu Jan 22 01:22:02 UTC 2015``: Java's ``Date.toString`` in UTC, as AWS prints it."""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%a %b %d %H:%M:%S UTC %Y")


class IteratorCodec:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _tag(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()[:_TAG_BYTES]

    def encode(self, position: Position) -> str:
        body = (
            _HEADER
            + _BODY.pack(position.issued_ms, position.shard, position.start, position.stream_id)
            + position.stream.encode("utf-8")
        )
        return base64.b64encode(body + self._tag(body)).decode("ascii")

    def decode(self, text: str, now: int) -> Position:
        """The position an iterator holds; InvalidArgument if forged, Expired if too old."""
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise _invalid_iterator() from None
        if base64.b64encode(raw).decode("ascii") != text:  # only the canonical spelling
            raise _invalid_iterator()
        if len(raw) < _MIN_BYTES or not raw.startswith(_HEADER):
            raise _invalid_iterator()
        body, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
        if not hmac.compare_digest(tag, self._tag(body)):
            raise _invalid_iterator()
        issued, shard, start, stream_id = _BODY.unpack_from(body, len(_HEADER))
        try:
            stream = body[len(_HEADER) + _BODY.size :].decode("utf-8")
        except UnicodeDecodeError:
            raise _invalid_iterator() from None
        if now - issued > ITERATOR_TTL_MS:
            raise ServiceError(
                "ExpiredIteratorException",
                f"Iterator expired. The iterator was created at time {_java_date(issued)} while "
                f"right now it is {_java_date(now)} which is further in the future than the "
                f"tolerated delay of {ITERATOR_TTL_MS} milliseconds.",
            )
        return Position(stream, shard, start, issued, stream_id)


def _invalid_iterator() -> ServiceError:
    return invalid("Invalid ShardIterator.")
