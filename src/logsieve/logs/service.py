"""The CloudWatch Logs service: every supported operation by its AWS name."""

from __future__ import annotations

import functools
from typing import Any

from logsieve.errors import Operation
from logsieve.storage import Deleted

from .context import GROUP_NOT_FOUND, STREAM_NOT_FOUND, LogsContext, not_found
from .groups import Groups
from .ingest import Ingest
from .live_tail import LiveTail
from .metrics import MetricFilters
from .reads import Reads
from .subscription_filters import SubscriptionFilters


class LogsService:
    """Plain values in, plain values out, ``ServiceError`` for AWS errors: no HTTP here."""

    def __init__(self, ctx: LogsContext) -> None:
        self.ctx = ctx
        groups, ingest, reads, metrics = Groups(ctx), Ingest(ctx), Reads(ctx), MetricFilters(ctx)
        subscriptions = SubscriptionFilters(ctx)
        self.live_tail = LiveTail(ctx)
        ctx.followers.append(self.live_tail.appended)
        self.operations: dict[str, Operation] = {
            "CreateLogGroup": groups.create_log_group,
            "DeleteLogGroup": groups.delete_log_group,
            "DescribeLogGroups": groups.describe_log_groups,
            "CreateLogStream": groups.create_log_stream,
            "DeleteLogStream": groups.delete_log_stream,
            "DescribeLogStreams": groups.describe_log_streams,
            "PutRetentionPolicy": groups.put_retention_policy,
            "DeleteRetentionPolicy": groups.delete_retention_policy,
            "TagResource": groups.tag_resource,
            "UntagResource": groups.untag_resource,
            "ListTagsForResource": groups.list_tags_for_resource,
            "TagLogGroup": groups.tag_log_group,
            "UntagLogGroup": groups.untag_log_group,
            "ListTagsLogGroup": groups.list_tags_log_group,
            "PutLogEvents": ingest.put_log_events,
            "GetLogEvents": reads.get_log_events,
            "FilterLogEvents": reads.filter_log_events,
            "PutMetricFilter": metrics.put_metric_filter,
            "DeleteMetricFilter": metrics.delete_metric_filter,
            "DescribeMetricFilters": metrics.describe_metric_filters,
            "TestMetricFilter": metrics.test_metric_filter,
            "PutSubscriptionFilter": subscriptions.put_subscription_filter,
            "DescribeSubscriptionFilters": subscriptions.describe_subscription_filters,
            "DeleteSubscriptionFilter": subscriptions.delete_subscription_filter,
            "StartLiveTail": self.live_tail.start_live_tail,
        }
        self.operations = {name: _gone_is_not_found(op) for name, op in self.operations.items()}

    def expire(self) -> int:
        """Apply retention policies now; returns the number of events deleted."""
        return self.ctx.store.expire(self.ctx.clock())


def _gone_is_not_found(operation: Operation) -> Operation:
    """A group or stream deleted between an operation's lookup and its write answers as if
    the lookup had come after the delete: ResourceNotFoundException with AWS's message."""

    @functools.wraps(operation)
    def run(params: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return operation(params)
        except Deleted as gone:
            raise not_found(GROUP_NOT_FOUND if gone.kind == "group" else STREAM_NOT_FOUND) from None

    return run
