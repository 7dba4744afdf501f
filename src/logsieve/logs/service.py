"""The CloudWatch Logs service: every supported operation by its AWS name."""

from __future__ import annotations

from logsieve.errors import Operation

from .context import LogsContext
from .groups import Groups
from .ingest import Ingest
from .metrics import MetricFilters
from .reads import Reads
from .subscription_filters import SubscriptionFilters


class LogsService:
    """Plain values in, plain values out, ``ServiceError`` for AWS errors: no HTTP here."""

    def __init__(self, ctx: LogsContext) -> None:
        self.ctx = ctx
        groups, ingest, reads, metrics = Groups(ctx), Ingest(ctx), Reads(ctx), MetricFilters(ctx)
        subscriptions = SubscriptionFilters(ctx)
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
        }

    def expire(self) -> int:
        """Apply retention policies now; returns the number of events deleted."""
        return self.ctx.store.expire(self.ctx.clock())
