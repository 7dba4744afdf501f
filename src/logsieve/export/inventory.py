"""The definitions on a server, read through its AWS API exactly as on AWS (boto3 clients), so
the export works against any compatible endpoint, not only logsieve's storage."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ACTION_KEYS", "Inventory", "Names", "lambda_actions", "read"]

ACTION_KEYS = ("AlarmActions", "OKActions", "InsufficientDataActions")


@dataclass
class Inventory:
    """API answers as boto3 returns them, in a stable order (by name)."""

    log_groups: list[dict[str, Any]] = field(default_factory=list)
    metric_filters: list[dict[str, Any]] = field(default_factory=list)
    subscription_filters: list[dict[str, Any]] = field(default_factory=list)
    topics: list[dict[str, Any]] = field(default_factory=list)  # {"TopicArn", "Name"}
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    alarms: list[dict[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        """Whether there is anything to export (CloudFormation refuses an empty template)."""
        return bool(self.log_groups or self.topics or self.alarms)


def _pages(client: Any, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    return [
        item for page in client.get_paginator(operation).paginate(**params) for item in page[key]
    ]


def read(logs: Any, cloudwatch: Any, sns: Any) -> Inventory:
    """Everything the export covers, from three boto3 clients of the same endpoint."""
    found = Inventory()
    found.log_groups = sorted(
        _pages(logs, "describe_log_groups", "logGroups"), key=lambda g: g["logGroupName"]
    )
    for group in found.log_groups:
        name = group["logGroupName"]
        found.metric_filters += _pages(
            logs, "describe_metric_filters", "metricFilters", logGroupName=name
        )
        found.subscription_filters += _pages(
            logs, "describe_subscription_filters", "subscriptionFilters", logGroupName=name
        )
    for topic in sorted(_pages(sns, "list_topics", "Topics"), key=lambda t: t["TopicArn"]):
        arn = topic["TopicArn"]
        found.topics.append({"TopicArn": arn, "Name": arn.rsplit(":", 1)[-1]})
        found.subscriptions += sorted(
            _pages(sns, "list_subscriptions_by_topic", "Subscriptions", TopicArn=arn),
            key=lambda s: (s["Protocol"], s["Endpoint"]),
        )
    found.alarms = sorted(
        _pages(cloudwatch, "describe_alarms", "MetricAlarms", AlarmTypes=["MetricAlarm"]),
        key=lambda a: a["AlarmName"],
    )
    return found


def lambda_actions(alarm: dict[str, Any]) -> list[str]:
    """The Lambda functions an alarm invokes: each needs a permission for CloudWatch alarms."""
    return sorted({arn for key in ACTION_KEYS for arn in alarm.get(key) or [] if ":lambda:" in arn})


class Names:
    """Readable, stable resource names from AWS names, unique within one export.

    ``style="cfn"``: CamelCase logical ids (``LogGroupAwsVpcFlow``); ``style="tf"``:
    snake_case resource names (``aws_vpc_flow``). The same input always gives the same name,
    and a collision after cleaning gets ``2``, ``3``... in the order names are asked for.
    """

    def __init__(self, style: str) -> None:
        self.style = style
        self.taken: set[tuple[str, str]] = set()
        self.given: dict[tuple[str, str], str] = {}

    def __call__(self, kind: str, name: str) -> str:
        if (kind, name) in self.given:
            return self.given[(kind, name)]
        words = [w for w in re.split(r"[^A-Za-z0-9]+", name) if w]
        if self.style == "cfn":
            base = (kind + "".join(w[:1].upper() + w[1:] for w in words))[:200]
        else:
            base = "_".join(w.lower() for w in words) or kind
            if not base[0].isalpha():
                base = f"{kind}_{base}"
        space = "" if self.style == "cfn" else kind  # logical ids share one namespace
        unique, count = base, 1
        while (space, unique) in self.taken:
            count += 1
            unique = f"{base}{count}" if self.style == "cfn" else f"{base}_{count}"
        self.taken.add((space, unique))
        self.given[(kind, name)] = unique
        return unique
