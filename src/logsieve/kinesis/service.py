"""The Kinesis Data Streams service: every supported operation by its AWS name, plus the
in-process API the subscription dispatcher delivers through."""

from __future__ import annotations

import functools
from typing import Any

from logsieve.errors import Operation, ServiceError
from logsieve.storage.disk import DiskFull

from .context import KinesisContext
from .records import Records
from .streams import Streams
from .throttle import ShardLimits, WriteThrottle


class KinesisService:
    """Plain values in, plain values out, ``ServiceError`` for AWS errors: no HTTP here."""

    def __init__(self, ctx: KinesisContext, limits: ShardLimits | None = None) -> None:
        self.ctx = ctx
        throttle = WriteThrottle(limits or ShardLimits())
        streams, records = Streams(ctx, throttle), Records(ctx, throttle)
        self._records = records
        self.operations: dict[str, Operation] = {
            "CreateStream": streams.create_stream,
            "DeleteStream": streams.delete_stream,
            "DescribeStream": streams.describe_stream,
            "DescribeStreamSummary": streams.describe_stream_summary,
            "ListStreams": streams.list_streams,
            "ListShards": streams.list_shards,
            "AddTagsToStream": streams.add_tags_to_stream,
            "ListTagsForStream": streams.list_tags_for_stream,
            "RemoveTagsFromStream": streams.remove_tags_from_stream,
            "IncreaseStreamRetentionPeriod": streams.increase_stream_retention_period,
            "DecreaseStreamRetentionPeriod": streams.decrease_stream_retention_period,
            "PutRecord": records.put_record,
            "PutRecords": records.put_records,
            "GetShardIterator": records.get_shard_iterator,
            "GetRecords": records.get_records,
        }
        self.operations = {name: _disk_full_is_internal(op) for name, op in self.operations.items()}

    # --- in-process API ----------------------------------------------------------------------

    def put_internal(self, stream_name: str, data: bytes, partition_key: str) -> tuple[str, str]:
        """Append one record; returns (shard id, sequence number) once it is durable.

        ``stream_name`` may also be the stream's ARN. Raises ``ServiceError``:
        ``ResourceNotFoundException`` when the stream does not exist (not worth retrying),
        ``ResourceInUseException`` when it exists but is not ACTIVE (retry later), and the
        validation errors PutRecord gives for oversized data or an empty partition key.
        Not subject to the per-shard write limits API producers get.
        """
        return self._records.put_internal(stream_name, data, partition_key)

    def stream_arn(self, name: str) -> str:
        """``arn:aws:kinesis:<region>:<account>:stream/<name>`` (whether or not it exists)."""
        return self.ctx.stream_arn(name)

    def exists(self, name: str) -> bool:
        """Whether a stream with this name (or ARN) exists now."""
        if name.startswith("arn:"):
            parsed = self.ctx.split_arn(name)
            if parsed is None or parsed[:2] != (self.ctx.region, self.ctx.account_id):
                return False
            name = parsed[2]
        return self.ctx.store.stream(name) is not None

    def expire(self, now_ms: int | None = None) -> int:
        """Apply retention now (records older than their stream's retention, 24 h by default,
        and those of deleted streams); returns the number of records deleted."""
        return self.ctx.store.expire(self.ctx.clock() if now_ms is None else now_ms)


def _disk_full_is_internal(operation: Operation) -> Operation:
    """Kinesis has no ServiceUnavailableException: its server fault is InternalFailureException
    (HTTP 500, retried by SDKs); the message still says the disk is full."""

    @functools.wraps(operation)
    def run(params: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return operation(params)
        except DiskFull as full:
            raise ServiceError("InternalFailureException", full.message, status=500) from None

    return run
