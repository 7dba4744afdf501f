"""Copy Kinesis streams (shard count, mode, retention, record size limit, creation time, tags)
and their records, shard by shard in order, each record with its partition key, data and
arrival time (so retention and AT_TIMESTAMP iterators see the same times).

What changes: sequence numbers are the target's own (a consumer's saved sequence number or
shard iterator from before the copy is not valid after it: restart it from TRIM_HORIZON or
AT_TIMESTAMP). Progress per shard (the last source seq copied) is a consumer value of the
target's event log, written after each append; a chunk appended just before an interruption
is recognised by the shard's last record and not appended twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from ..protocols import LogsStore
from ..streams import NewRecord, StoredRecord, StreamRow, StreamStore
from .report import PAGE, CopyReport, Say

__all__ = ["copy_kinesis"]

_ALL_BYTES = 1 << 40


def _all_streams(store: StreamStore) -> Iterator[StreamRow]:
    after: str | None = None
    while page := store.streams(after, PAGE):
        yield from page
        after = page[-1].name


def copy_kinesis(
    source: StreamStore,
    target: StreamStore,
    progress: LogsStore,
    source_name: str,
    report: CopyReport,
    say: Say,
) -> None:
    """``progress``: the target's event log, where each shard's copy progress is kept."""
    for stream in _all_streams(source):
        made = target.create_stream(
            stream.name, stream.shard_count, stream.mode, stream.created_ms,
            stream.retention_hours, stream.max_record_kib, source.tags(stream.id),
        )  # fmt: skip
        report.add("Kinesis streams", made is not None)
        into = made or target.stream(stream.name)
        if into is None:
            raise RuntimeError(f"Kinesis stream {stream.name} vanished from the target")
        digest = hashlib.sha256(source_name.encode()).hexdigest()[:12]
        consumer = f"storage-copy/{digest}/kinesis/{stream.name}"
        count = 0
        for shard in range(stream.shard_count):
            count += _copy_shard(source, target, progress, consumer, stream.id, into.id, shard)
        report.add("Kinesis records", True, count)
        say(f"Kinesis stream {stream.name}: {count:,} records copied")


def _chunks(records: list[StoredRecord]) -> Iterator[list[StoredRecord]]:
    """Consecutive records with one arrival time (one append on the source, or several)."""
    chunk: list[StoredRecord] = []
    for record in records:
        if chunk and chunk[0].arrival_ms != record.arrival_ms:
            yield chunk
            chunk = []
        chunk.append(record)
    if chunk:
        yield chunk


def _copy_shard(
    source: StreamStore,
    target: StreamStore,
    progress: LogsStore,
    consumer: str,
    src: int,
    dst: int,
    shard: int,
) -> int:
    key = f"shard/{shard}"
    done = progress.consumer_value(consumer, key) or 0
    copied, first = 0, True
    while records := source.read(src, shard, done + 1, 0, PAGE, _ALL_BYTES):
        for chunk in _chunks(records):
            if not (first and _already_there(target, dst, shard, chunk[-1])):
                new = [NewRecord(shard, r.partition_key, r.data) for r in chunk]
                if target.append(dst, new, chunk[0].arrival_ms) is None:
                    raise RuntimeError("a Kinesis stream vanished from the target while copying")
                copied += len(chunk)
            first = False
            done = chunk[-1].seq
            progress.set_consumer_value(consumer, key, done)
    return copied


def _already_there(target: StreamStore, stream: int, shard: int, last: StoredRecord) -> bool:
    """Whether the target shard ends with ``last`` (appended by an interrupted run)."""
    tail = target.last_seq(stream, shard)
    if not tail:
        return False
    found = target.first(stream, shard, tail, 0)
    return found is not None and (found.arrival_ms, found.partition_key, found.data) == (
        last.arrival_ms,
        last.partition_key,
        last.data,
    )
