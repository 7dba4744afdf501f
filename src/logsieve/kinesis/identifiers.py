"""AWS's identifiers: shard ids, hash key ranges, partition key hashing, sequence numbers.

Pure functions, no I/O. Clients see these values and some parse or compare them, so they follow
AWS exactly where AWS is documented (aws-compat section 5.3) and kinesalite's reverse-engineered
layout where it is not.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

HASH_SPACE = 1 << 128  # hash keys are 0 .. 2^128 - 1
MAX_SHARD_INDEX = 2_147_483_647  # shard numbers are Java ints

# Sequence numbers: 47 hex digits, so always 56 decimal digits (2^185 <= n < 1.5 * 2^185) like
# AWS's today. Fields, most significant first (kinesalite's "version 2" layout):
#   '2' | shard creation, epoch s (36 bits) | shard index low nibble | seq (64 bits)
#   | 0x00 | arrival, epoch s (36 bits) | shard index (32 bits) | '2'
# Within a shard only ``seq`` varies before the arrival time, so numbers grow with ``seq``; seq
# is unique in the store, so numbers are unique per stream too.
_SEQ_LOW = 1 << 185
_SEQ_HIGH = 3 << 184
_MASK_36 = (1 << 36) - 1
_MASK_32 = (1 << 32) - 1
_MASK_64 = (1 << 64) - 1


def shard_id(index: int) -> str:
    """``shardId-000000000000``: the prefix and a 12-digit zero-padded index."""
    return f"shardId-{index:012d}"


def shard_index(text: str) -> int | None:
    """The shard number a client's ShardId names, or None when it names none.

    Kinesis reads the number after the hyphen and ignores the prefix (``shardId-1``,
    ``shard-0`` and ``1`` all name shard 1), as kinesalite recorded.
    """
    digits = text.rsplit("-", 1)[-1]
    if not digits.isascii() or not digits.isdigit():
        return None
    number = int(digits)
    return number if number <= MAX_SHARD_INDEX else None


def hash_key_range(index: int, shard_count: int) -> tuple[int, int]:
    """The inclusive hash key range of shard ``index``: 2^128 split evenly, the last shard
    taking the remainder (AWS's split for a new stream)."""
    width = HASH_SPACE // shard_count
    start = width * index
    end = HASH_SPACE - 1 if index == shard_count - 1 else width * (index + 1) - 1
    return start, end


def partition_hash(partition_key: str) -> int:
    """MD5 of the UTF-8 partition key as an unsigned 128-bit big-endian integer."""
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def shard_for_hash(hash_key: int, shard_count: int) -> int:
    """The shard whose range holds ``hash_key`` (the ranges of ``hash_key_range``)."""
    return min(hash_key // (HASH_SPACE // shard_count), shard_count - 1)


@dataclass(frozen=True)
class SequenceNumber:
    created_s: int
    shard: int
    seq: int
    arrival_s: int


def sequence_number(created_ms: int, shard: int, seq: int, arrival_ms: int) -> str:
    value = (
        _SEQ_LOW
        | ((created_ms // 1000) & _MASK_36) << 148
        | (shard & 0xF) << 144
        | (seq & _MASK_64) << 80
        | ((arrival_ms // 1000) & _MASK_36) << 36
        | (shard & _MASK_32) << 4
        | 2
    )
    return str(value)


def starting_sequence_number(created_ms: int, shard: int) -> str:
    """The number before any record of the shard (records have ``seq >= 1``)."""
    return sequence_number(created_ms, shard, 0, created_ms)


def parse_sequence_number(text: str) -> SequenceNumber | None:
    """The fields of a number this server issued, or None when it cannot be one of ours."""
    if len(text) > 130 or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    if not _SEQ_LOW <= value < _SEQ_HIGH or value & 0xF != 2 or (value >> 72) & 0xFF:
        return None
    seq = (value >> 80) & _MASK_64
    shard = (value >> 4) & _MASK_32
    if seq >> 63 or shard >> 31 or (value >> 144) & 0xF != shard & 0xF:
        return None
    return SequenceNumber((value >> 148) & _MASK_36, shard, seq, (value >> 36) & _MASK_36)
