"""Copy Kinesis streams (shard count, mode, retention, record size limit, creation time, tags)
and their records, shard by shard in order, each record with its partition key, data and
arrival time (so retention and AT_TIMESTAMP iterators see the same times).

What changes: sequence numbers are the target's own (a consumer's saved sequence number or
shard iterator from before the copy is not valid after it: restart it from TRIM_HORIZON or
AT_TIMESTAMP). Progress per shard (the last source seq copied and its target seq) is kept in
consumer values of the target's event log, saved every few appends; a resumed run counts the
records the target shard holds past the saved target seq and skips as many, so nothing is
appended twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from ..protocols import LogsStore
from ..streams import NewRecord, StoredRecord, StreamRow, StreamStore
from .report import PAGE, CopyReport, Say

__all__ = ["copy_kinesis"]

_ALL_BYTES = 1 << 40
_ALL_RECORDS = 1 << 30
SAVE_EVERY = 50  # appends between progress saves (each save is a round trip to the cluster)


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
    """Copy one shard; progress is saved every ``SAVE_EVERY`` appends as the last source seq
    copied and the target seq it became, so a resumed run counts what the target holds after
    that target seq (appended before the interruption) and skips as many source records."""
    key = f"shard/{shard}"
    done = progress.consumer_value(consumer, key) or 0
    at = progress.consumer_value(consumer, f"{key}/{done}") or 0
    ahead = len(target.read(dst, shard, at + 1, 0, _ALL_RECORDS, _ALL_BYTES))
    copied = unsaved = 0
    while records := source.read(src, shard, done + 1, 0, PAGE, _ALL_BYTES):
        skipped, ahead = min(ahead, len(records)), ahead - min(ahead, len(records))
        done = records[skipped - 1].seq if skipped else done
        for chunk in _chunks(records[skipped:]):
            new = [NewRecord(shard, r.partition_key, r.data) for r in chunk]
            seqs = target.append(dst, new, chunk[0].arrival_ms)
            if seqs is None:
                raise RuntimeError("a Kinesis stream vanished from the target while copying")
            copied += len(chunk)
            done, at, unsaved = chunk[-1].seq, seqs[-1], unsaved + 1
            if unsaved >= SAVE_EVERY:
                _save(progress, consumer, key, done, at)
                unsaved = 0
    if unsaved:
        _save(progress, consumer, key, done, at)
    return copied


def _save(progress: LogsStore, consumer: str, key: str, done: int, at: int) -> None:
    """Where ``done`` went first, then ``done``: an interruption between leaves the previous
    pair, which still agree."""
    progress.set_consumer_value(consumer, f"{key}/{done}", at)
    progress.set_consumer_value(consumer, key, done)
