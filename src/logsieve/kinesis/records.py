"""Writing and reading records: PutRecord(s), GetShardIterator, GetRecords.

A record goes to the shard whose hash key range holds MD5(partition key) (or the explicit hash
key), is stored durably before the response, and reads back in ``seq`` order per shard, each
with its 56-digit sequence number and arrival time (epoch seconds, millisecond precision).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from logsieve.errors import ServiceError
from logsieve.storage.streams import NewRecord, StoredRecord, StreamRow

from .context import IN_USE, VALIDATION, KinesisContext, dry_run, invalid
from .identifiers import (
    HASH_SPACE,
    parse_sequence_number,
    partition_hash,
    sequence_number,
    shard_for_hash,
    shard_id,
    shard_index,
)
from .iterators import IteratorCodec, Position
from .throttle import WriteThrottle

GET_RECORDS_LIMIT = 10_000
GET_RECORDS_MAX_BYTES = 10 * 1024 * 1024  # AWS returns at most 10 MiB per call
_HOUR_MS = 3_600_000
THROUGHPUT_EXCEEDED = "ProvisionedThroughputExceededException"
WRITABLE = ("ACTIVE", "UPDATING")


class Records:
    def __init__(self, ctx: KinesisContext, throttle: WriteThrottle) -> None:
        self.ctx = ctx
        self.throttle = throttle
        self.iterators = IteratorCodec(ctx.store.signing_key())

    # --- routing ---------------------------------------------------------------------------

    def _route(self, row: StreamRow, entry: dict[str, Any], path: str) -> NewRecord:
        """The shard of one request entry, after the checks AWS makes on it."""
        key = entry.get("PartitionKey")
        if key is None:
            # Optional in today's model (for streams that pick shards themselves); required
            # for every stream this server has, as it always was on AWS.
            raise ServiceError(
                VALIDATION,
                f"1 validation error detected: Value null at '{path}partitionKey' failed to "
                "satisfy constraint: Member must not be null",
            )
        data = entry["Data"]
        limit = row.max_record_kib * 1024
        if len(data) > limit:
            raise ServiceError(
                VALIDATION,
                f"1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 "
                f"lim={len(data)} cap={len(data)}]' at '{path}data' failed to satisfy "
                f"constraint: Member must have length less than or equal to {limit}",
            )
        explicit = entry.get("ExplicitHashKey")
        if explicit is not None:
            hashed = int(explicit)  # the model's pattern already made it decimal digits
            if hashed >= HASH_SPACE:
                raise invalid(
                    "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: "
                    f"[0, 2^128-1]. Specified value was {explicit}"
                )
        else:
            hashed = partition_hash(key)
        return NewRecord(shard_for_hash(hashed, row.shard_count), key, data)

    def _writable(self, params: dict[str, Any]) -> StreamRow:
        row = self.ctx.stream(params)
        if row.status not in WRITABLE:
            raise ServiceError(
                IN_USE,
                f"Stream {row.name} under account {self.ctx.account_id} is not ACTIVE "
                f"(status {row.status}); retry when it is.",
            )
        return row

    def _rate_exceeded(self, row: StreamRow, shard: int) -> str:
        return (
            f"Rate exceeded for shard {shard_id(shard)} in stream {row.name} under account "
            f"{self.ctx.account_id}."
        )

    def _append(self, row: StreamRow, records: Sequence[NewRecord], now: int) -> list[int]:
        seqs = self.ctx.store.append(row.id, records, now)
        if seqs is None:  # deleted between the lookup and the write
            raise self.ctx.stream_not_found(row.name)
        return seqs

    # --- writes ----------------------------------------------------------------------------

    def put_record(self, params: dict[str, Any]) -> dict[str, Any]:
        row = self._writable(params)
        record = self._route(row, params, "")
        ordering = params.get("SequenceNumberForOrdering")
        if ordering is not None and parse_sequence_number(ordering) is None:
            raise invalid(
                f"ExclusiveMinimumSequenceNumber {ordering} used in PutRecord on stream "
                f"{row.name} under account {self.ctx.account_id} is invalid."
            )
        if params.get("DryRun"):
            raise dry_run()
        now = self.ctx.clock()
        size = len(record.data) + len(record.partition_key.encode())
        if not self.throttle.admit(row.id, [(record.shard, size)], now)[0]:
            raise ServiceError(THROUGHPUT_EXCEEDED, self._rate_exceeded(row, record.shard))
        # Sequence numbers only grow within a shard, so SequenceNumberForOrdering's promise
        # (greater than the given number) holds for every record without further work.
        (seq,) = self._append(row, [record], now)
        return {
            "ShardId": shard_id(record.shard),
            "SequenceNumber": sequence_number(row.created_ms, record.shard, seq, now),
        }

    def put_records(self, params: dict[str, Any]) -> dict[str, Any]:
        """All or nothing for request errors; record by record for throttling (a 200 with
        ``ErrorCode`` entries, in request order, and ``FailedRecordCount``)."""
        row = self._writable(params)
        records = [
            self._route(row, entry, f"records.{i}.member.")
            for i, entry in enumerate(params["Records"], 1)
        ]
        if params.get("DryRun"):
            raise dry_run()
        now = self.ctx.clock()
        admitted = self.throttle.admit(
            row.id, [(r.shard, len(r.data) + len(r.partition_key.encode())) for r in records], now
        )
        accepted = [r for r, ok in zip(records, admitted, strict=True) if ok]
        seqs = iter(self._append(row, accepted, now) if accepted else [])
        results: list[dict[str, Any]] = []
        for record, ok in zip(records, admitted, strict=True):
            if ok:
                seq = next(seqs)
                results.append(
                    {
                        "SequenceNumber": sequence_number(row.created_ms, record.shard, seq, now),
                        "ShardId": shard_id(record.shard),
                    }
                )
            else:
                results.append(
                    {
                        "ErrorCode": THROUGHPUT_EXCEEDED,
                        "ErrorMessage": self._rate_exceeded(row, record.shard),
                    }
                )
        return {"FailedRecordCount": admitted.count(False), "Records": results}

    def put_internal(self, stream: str, data: bytes, partition_key: str) -> tuple[str, str]:
        """One record from inside the server (subscription delivery): not throttled."""
        params = {"StreamARN": stream} if stream.startswith("arn:") else {"StreamName": stream}
        row = self._writable(params)
        if not 1 <= len(partition_key) <= 256:  # what the model checks for API callers
            bound = "less than or equal to 256" if partition_key else "greater than or equal to 1"
            raise ServiceError(
                VALIDATION,
                f"1 validation error detected: Value '{partition_key}' at 'partitionKey' failed "
                f"to satisfy constraint: Member must have length {bound}",
            )
        record = self._route(row, {"PartitionKey": partition_key, "Data": data}, "")
        now = self.ctx.clock()
        (seq,) = self._append(row, [record], now)
        return shard_id(record.shard), sequence_number(row.created_ms, record.shard, seq, now)

    # --- reads -----------------------------------------------------------------------------

    def get_shard_iterator(self, params: dict[str, Any]) -> dict[str, Any]:
        name = self.ctx.stream_name(params)
        requested = params["ShardId"]
        index = shard_index(requested)
        if index is None:
            raise ServiceError(
                "ResourceNotFoundException",
                f"Could not find shard {requested} in stream {name} under account "
                f"{self.ctx.account_id}.",
            )
        row = self.ctx.store.stream(name)
        if row is None or index >= row.shard_count:
            raise self.ctx.shard_not_found(name, index)
        kind = params["ShardIteratorType"]
        start = self._start(row, index, kind, params)
        if params.get("DryRun"):
            raise dry_run()
        position = Position(row.name, index, start, self.ctx.clock(), row.id)
        return {"ShardIterator": self.iterators.encode(position)}

    def _start(self, row: StreamRow, index: int, kind: str, params: dict[str, Any]) -> int:
        """The first ``seq`` an iterator of this type returns."""
        number = params.get("StartingSequenceNumber")
        by_number = kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
        if (number is not None and kind in ("TRIM_HORIZON", "LATEST")) or (
            number is None and by_number
        ):
            raise invalid(
                "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
                "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no "
                f"StartingSequenceNumber. Request specified {kind} and "
                f"{'also a' if number is not None else 'no'} StartingSequenceNumber."
            )
        if kind == "TRIM_HORIZON":
            return 0
        if kind == "LATEST":
            return self.ctx.store.last_seq(row.id, index) + 1
        if kind == "AT_TIMESTAMP":
            return self._at_timestamp(row, index, params.get("Timestamp"))
        assert number is not None
        where = (
            f"used in GetShardIterator on shard {shard_id(index)} in stream {row.name} under "
            f"account {self.ctx.account_id}"
        )
        parsed = parse_sequence_number(number)
        if parsed is None:
            raise invalid(f"StartingSequenceNumber {number} {where} is invalid.")
        if parsed.shard != index:
            raise invalid(
                f"Invalid StartingSequenceNumber. It encodes {shard_id(parsed.shard)}, while it "
                f"was used in a call to a shard with {shard_id(index)}"
            )
        if parsed.created_s != (row.created_ms // 1000) & ((1 << 36) - 1):
            raise invalid(
                f"StartingSequenceNumber {number} {where} is invalid because it did not come "
                "from this stream."
            )
        return parsed.seq + (kind == "AFTER_SEQUENCE_NUMBER")

    def _at_timestamp(self, row: StreamRow, index: int, timestamp: float | None) -> int:
        if timestamp is None:
            raise invalid(
                "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
                "Current request has no timestamp parameter."
            )
        now = self.ctx.clock()
        at = round(timestamp * 1000)  # epoch seconds with a fraction; AWS works in ms
        if at > now:
            raise invalid(
                "The timestampInMillis parameter cannot be greater than the "
                f"currentTimestampInMillis. timestampInMillis: {at}, "
                f"currentTimestampInMillis: {now}"
            )
        # Older than the trim horizon reads from the trim horizon (GetRecords skips expired
        # records); no record since then reads what arrives next, like LATEST.
        found = self.ctx.store.first_arrived(row.id, index, at)
        return found.seq if found else self.ctx.store.last_seq(row.id, index) + 1

    def get_records(self, params: dict[str, Any]) -> dict[str, Any]:
        now = self.ctx.clock()
        position = self.iterators.decode(params["ShardIterator"], now)
        row = self.ctx.store.stream(position.stream)
        if row is None or row.id != position.stream_id or position.shard >= row.shard_count:
            raise self.ctx.shard_not_found(position.stream, position.shard)
        if params.get("DryRun"):
            raise dry_run()
        horizon = now - row.retention_hours * _HOUR_MS
        found = self.ctx.store.read(
            row.id,
            position.shard,
            position.start,
            horizon,
            params.get("Limit") or GET_RECORDS_LIMIT,
            GET_RECORDS_MAX_BYTES,
        )
        start = found[-1].seq + 1 if found else position.start
        following = self.ctx.store.first(row.id, position.shard, start, horizon)
        return {
            "Records": [self._record(row, r) for r in found],
            "NextShardIterator": self.iterators.encode(
                Position(row.name, position.shard, start, now, row.id)
            ),
            # How far the next unread record is behind now. AWS: "A value of zero indicates
            # that record processing is caught up", and consumers stop on it, so it is 0 only
            # when nothing is left to read (at least 1 for a record that arrived this ms).
            "MillisBehindLatest": max(1, now - following.arrival_ms) if following else 0,
        }

    def _record(self, row: StreamRow, record: StoredRecord) -> dict[str, Any]:
        return {
            "SequenceNumber": sequence_number(
                row.created_ms, record.shard, record.seq, record.arrival_ms
            ),
            "ApproximateArrivalTimestamp": record.arrival_ms / 1000,
            "Data": record.data,
            "PartitionKey": record.partition_key,
        }
