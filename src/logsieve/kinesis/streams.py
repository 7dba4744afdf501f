"""Stream lifecycle and metadata: create, delete, describe, list streams and shards, tags,
retention.

Streams are ACTIVE as soon as CreateStream returns and gone as soon as DeleteStream returns.
AWS passes through CREATING / DELETING for a few seconds; clients wait for ACTIVE (the
``stream_exists`` waiter polls DescribeStream) and for ResourceNotFound after a delete, and both
waits end on their first poll here. Nothing is lost by skipping the transitions, and no client
has to sleep.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from logsieve import tokens
from logsieve.errors import ServiceError
from logsieve.storage.streams import StreamRow

from .context import IN_USE, LIMIT_EXCEEDED, KinesisContext, invalid
from .identifiers import hash_key_range, shard_id, shard_index, starting_sequence_number
from .throttle import WriteThrottle

ON_DEMAND_SHARDS = 4  # AWS starts an on-demand stream at 4 MiB/s of writes: four shards
DEFAULT_RETENTION_HOURS = 24
MAX_RETENTION_HOURS = 8760  # 365 days
DEFAULT_MAX_RECORD_KIB = 1024
MAX_TAGS = 50
DESCRIBE_PAGE = 100  # DescribeStream's default Limit
LIST_STREAMS_PAGE = 100  # ListStreams returns at most 100 names whatever the Limit
LIST_SHARDS_PAGE = 1000  # ListShards returns at most 1000 shards whatever the MaxResults
NEXT_TOKEN_TTL_MS = 300_000  # ListShards tokens expire after 300 seconds


def _decode_token(token: str, **schema: Callable[[Any], bool]) -> dict[str, Any]:
    """A NextToken with exactly these keys, each passing its check (``logsieve.tokens``)."""
    state = tokens.decode(token, schema)
    if state is None:
        raise invalid(f"Invalid NextToken: {token}")
    return state


class Streams:
    def __init__(self, ctx: KinesisContext, throttle: WriteThrottle) -> None:
        self.ctx = ctx
        self.throttle = throttle

    # --- shapes --------------------------------------------------------------------------

    def _shard(self, row: StreamRow, index: int) -> dict[str, Any]:
        start, end = hash_key_range(index, row.shard_count)
        return {
            "ShardId": shard_id(index),
            "HashKeyRange": {"StartingHashKey": str(start), "EndingHashKey": str(end)},
            "SequenceNumberRange": {
                "StartingSequenceNumber": starting_sequence_number(row.created_ms, index)
            },
        }

    def _common(self, row: StreamRow) -> dict[str, Any]:
        return {
            "StreamName": row.name,
            "StreamARN": self.ctx.stream_arn(row.name),
            "StreamStatus": row.status,
            "StreamModeDetails": {"StreamMode": row.mode},
            "RetentionPeriodHours": row.retention_hours,
            "StreamCreationTimestamp": row.created_ms / 1000,
            "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
            "EncryptionType": "NONE",
        }

    # --- create / delete -------------------------------------------------------------------

    def create_stream(self, params: dict[str, Any]) -> None:
        name = params["StreamName"]
        count = params.get("ShardCount")
        mode = (params.get("StreamModeDetails") or {}).get("StreamMode")
        if mode is None:
            # An absent ShardCount creates an on-demand stream (the CLI's bare create-stream
            # works against AWS); a count without a mode is the classic provisioned stream.
            mode = "PROVISIONED" if count is not None else "ON_DEMAND"
        if mode == "ON_DEMAND":
            if count is not None:
                raise invalid("ShardCount is not supported for streams in ON_DEMAND mode.")
            count = ON_DEMAND_SHARDS
        elif count is None:
            raise invalid("ShardCount is required for streams in PROVISIONED mode.")
        tags = params.get("Tags") or {}
        if len(tags) > MAX_TAGS:
            raise invalid(
                f"Failed to create stream {name} under account {self.ctx.account_id} because a "
                f"given stream cannot have more than {MAX_TAGS} tags associated with it."
            )
        current = self.ctx.store.total_shards()
        if current + count > self.ctx.shard_limit:
            raise ServiceError(
                LIMIT_EXCEEDED,
                f"This request would exceed the shard limit for the account "
                f"{self.ctx.account_id} in {self.ctx.region}. Current shard count for the "
                f"account: {current}. Limit: {self.ctx.shard_limit}. Number of additional shards "
                f"that would have resulted from this request: {count}.",
            )
        row = self.ctx.store.create_stream(
            name,
            count,
            mode,
            self.ctx.clock(),
            DEFAULT_RETENTION_HOURS,
            params.get("MaxRecordSizeInKiB") or DEFAULT_MAX_RECORD_KIB,
            tags,
        )
        if row is None:
            raise ServiceError(
                IN_USE, f"Stream {name} under account {self.ctx.account_id} already exists."
            )

    def delete_stream(self, params: dict[str, Any]) -> None:
        row = self.ctx.stream(params)
        if not self.ctx.store.delete_stream(row.id):  # a concurrent DeleteStream won
            raise self.ctx.stream_not_found(row.name)
        self.throttle.forget(row.id)

    # --- describe ----------------------------------------------------------------------------

    def describe_stream(self, params: dict[str, Any]) -> dict[str, Any]:
        row = self.ctx.stream(params)
        limit = params.get("Limit") or DESCRIBE_PAGE
        first = 0
        after = params.get("ExclusiveStartShardId")
        if after is not None:
            index = shard_index(after)
            first = row.shard_count if index is None else index + 1
        last = min(row.shard_count, first + limit)
        return {
            "StreamDescription": {
                **self._common(row),
                "Shards": [self._shard(row, i) for i in range(first, last)],
                "HasMoreShards": last < row.shard_count,
            }
        }

    def describe_stream_summary(self, params: dict[str, Any]) -> dict[str, Any]:
        row = self.ctx.stream(params)
        return {
            "StreamDescriptionSummary": {
                **self._common(row),
                "OpenShardCount": row.shard_count,
                "ConsumerCount": 0,
                "MaxRecordSizeInKiB": row.max_record_kib,
            }
        }

    # --- list ------------------------------------------------------------------------------

    def list_streams(self, params: dict[str, Any]) -> dict[str, Any]:
        limit = min(params.get("Limit") or LIST_STREAMS_PAGE, LIST_STREAMS_PAGE)
        token = params.get("NextToken")
        after = (
            _decode_token(token, after=tokens.is_str)["after"]
            if token
            else params.get("ExclusiveStartStreamName")
        )
        rows = self.ctx.store.streams(after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        result: dict[str, Any] = {
            "StreamNames": [r.name for r in rows],
            "HasMoreStreams": more,
            "StreamSummaries": [
                {
                    "StreamName": r.name,
                    "StreamARN": self.ctx.stream_arn(r.name),
                    "StreamStatus": r.status,
                    "StreamModeDetails": {"StreamMode": r.mode},
                    "StreamCreationTimestamp": r.created_ms / 1000,
                }
                for r in rows
            ],
        }
        if more:
            result["NextToken"] = tokens.encode({"after": rows[-1].name})
        return result

    def list_shards(self, params: dict[str, Any]) -> dict[str, Any]:
        """AWS's rules: a NextToken names the stream by itself and excludes StreamName,
        StreamARN, ExclusiveStartShardId and StreamCreationTimestamp (so botocore's paginator,
        which resends the first page's arguments, fails on AWS as it does here)."""
        token = params.get("NextToken")
        limit = min(params.get("MaxResults") or LIST_SHARDS_PAGE, LIST_SHARDS_PAGE)
        if token is not None:
            for member in ("StreamName", "StreamARN", "ExclusiveStartShardId"):
                if params.get(member) is not None:
                    raise invalid(f"NextToken and {member} cannot be provided together.")
            if params.get("StreamCreationTimestamp") is not None:
                raise invalid("NextToken and StreamCreationTimestamp cannot be provided together.")
            state = _decode_token(
                token,
                stream=tokens.is_str,
                created=tokens.is_int,
                next=tokens.is_int,
                issued=tokens.is_int,
            )
            if self.ctx.clock() - state["issued"] > NEXT_TOKEN_TTL_MS:
                raise ServiceError(
                    "ExpiredNextTokenException", "The nextToken has expired. Please reissue."
                )
            row = self.ctx.store.stream(state["stream"])
            if row is None or row.created_ms != state["created"]:
                raise self.ctx.stream_not_found(state["stream"])
            indexes = range(max(0, state["next"]), row.shard_count)
        else:
            if params.get("StreamName") is None and params.get("StreamARN") is None:
                raise invalid("Either NextToken or StreamName should be provided.")
            row = self.ctx.stream(params)
            first = 0
            after = params.get("ExclusiveStartShardId")
            if after is not None:
                index = shard_index(after)
                first = row.shard_count if index is None else index + 1
            first = max(first, self._filter_start(params.get("ShardFilter"), row))
            indexes = range(first, row.shard_count)
        page = indexes[:limit]
        result: dict[str, Any] = {"Shards": [self._shard(row, i) for i in page]}
        if len(page) < len(indexes):
            result["NextToken"] = tokens.encode(
                {
                    "stream": row.name,
                    "created": row.created_ms,
                    "next": page[-1] + 1,
                    "issued": self.ctx.clock(),
                }
            )
        return result

    def _filter_start(self, shard_filter: dict[str, Any] | None, row: StreamRow) -> int:
        """The first shard a ShardFilter keeps. Shards here are never closed (no resharding),
        so every filter keeps every shard except AFTER_SHARD_ID."""
        if not shard_filter:
            return 0
        kind = shard_filter["Type"]
        if kind == "AFTER_SHARD_ID":
            after = shard_filter.get("ShardId")
            if after is None:
                raise invalid("ShardId must be provided for ShardFilter type AFTER_SHARD_ID.")
            index = shard_index(after)
            return row.shard_count if index is None else index + 1
        if kind in ("AT_TIMESTAMP", "FROM_TIMESTAMP") and shard_filter.get("Timestamp") is None:
            raise invalid(f"Timestamp must be provided for ShardFilter type {kind}.")
        return 0

    # --- tags ------------------------------------------------------------------------------

    def add_tags_to_stream(self, params: dict[str, Any]) -> None:
        row = self.ctx.stream(params)
        tags = params["Tags"]
        if len(set(self.ctx.store.tags(row.id)) | set(tags)) > MAX_TAGS:
            raise invalid(
                f"Failed to add tags to stream {row.name} under account {self.ctx.account_id} "
                f"because a given stream cannot have more than {MAX_TAGS} tags associated "
                "with it."
            )
        self.ctx.store.set_tags(row.id, tags)

    def list_tags_for_stream(self, params: dict[str, Any]) -> dict[str, Any]:
        row = self.ctx.stream(params)
        after = params.get("ExclusiveStartTagKey")
        stored = self.ctx.store.tags(row.id)
        tags = [(k, v) for k, v in stored.items() if after is None or k > after]
        limit = params.get("Limit") or MAX_TAGS
        return {
            "Tags": [{"Key": k, "Value": v} for k, v in tags[:limit]],
            "HasMoreTags": len(tags) > limit,
        }

    def remove_tags_from_stream(self, params: dict[str, Any]) -> None:
        row = self.ctx.stream(params)
        self.ctx.store.remove_tags(row.id, params["TagKeys"])

    # --- retention ---------------------------------------------------------------------------

    def increase_stream_retention_period(self, params: dict[str, Any]) -> None:
        self._set_retention(params, increase=True)

    def decrease_stream_retention_period(self, params: dict[str, Any]) -> None:
        self._set_retention(params, increase=False)

    def _set_retention(self, params: dict[str, Any], increase: bool) -> None:
        row = self.ctx.stream(params)
        hours = params["RetentionPeriodHours"]
        if hours < DEFAULT_RETENTION_HOURS:
            raise invalid(
                f"Minimum allowed retention period is {DEFAULT_RETENTION_HOURS} hours. "
                f"Requested retention period ({hours} hours) is too short."
            )
        if hours > MAX_RETENTION_HOURS:
            raise invalid(
                f"Maximum allowed retention period is {MAX_RETENTION_HOURS} hours. "
                f"Requested retention period ({hours} hours) is too long."
            )
        if increase and hours < row.retention_hours:
            raise invalid(
                f"Requested retention period ({hours} hours) for stream {row.name} can not be "
                f"shorter than existing retention period ({row.retention_hours} hours). "
                "Use DecreaseRetentionPeriod API."
            )
        if not increase and hours > row.retention_hours:
            raise invalid(
                f"Requested retention period ({hours} hours) for stream {row.name} can not be "
                f"longer than existing retention period ({row.retention_hours} hours). "
                "Use IncreaseRetentionPeriod API."
            )
        self.ctx.store.set_retention(row.id, hours)
