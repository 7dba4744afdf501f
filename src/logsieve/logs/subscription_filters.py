"""Subscription filters: Put/Describe/DeleteSubscriptionFilter with AWS's rules.

The definitions live here; delivery is the subscription dispatcher's job (a higher layer),
reached through ``LogsContext.delivery``: it resolves and test-delivers to the destination
inside PutSubscriptionFilter, as AWS does, and hears about every change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from logsieve import tokens
from logsieve.errors import ServiceError
from logsieve.storage import SubscriptionFilter

from .context import LogsContext, group_token, invalid, not_found, resume_in_group
from .reads import compile_filter
from .regex_quota import check_regex_quota

_ARN = re.compile(
    r"arn:aws:(?P<service>lambda|kinesis|firehose|logs):(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"(?:function:(?P<function>[A-Za-z0-9_-]+)(?::(?P<qualifier>[A-Za-z0-9$_-]+))?"
    r"|stream/(?P<stream>[A-Za-z0-9_.-]+)"
    r"|deliverystream/(?P<delivery>[A-Za-z0-9_.-]+)"
    r"|destination:(?P<destination>[^:*]+))"
)


@dataclass(frozen=True)
class DestinationArn:
    """A parsed destination ARN: its kind (lambda, kinesis, firehose, logs) and name."""

    kind: str
    region: str
    account: str
    name: str
    arn: str


def parse_destination(arn: str) -> DestinationArn | None:
    match = _ARN.fullmatch(arn)
    if match is None:
        return None
    service = match["service"]
    name = match["function"] or match["stream"] or match["delivery"] or match["destination"]
    valid = {
        "lambda": match["function"],
        "kinesis": match["stream"],
        "firehose": match["delivery"],
        "logs": match["destination"],
    }[service]
    if not valid or match["qualifier"] not in (None, "$LATEST"):
        return None
    return DestinationArn(service, match["region"], match["account"], name, arn)


class SubscriptionFilters:
    def __init__(self, ctx: LogsContext) -> None:
        self.ctx = ctx

    def _destination(self, arn: str, role_arn: str | None) -> DestinationArn:
        destination = parse_destination(arn)
        if destination is None:
            raise invalid(
                f"Invalid destinationArn {arn}: use a Lambda function, Kinesis stream or "
                "Firehose delivery stream ARN."
            )
        if destination.kind == "logs":
            raise invalid(
                "Cross-account log destinations (PutDestination) are not supported; subscribe "
                "the Kinesis stream, Firehose delivery stream or Lambda function directly."
            )
        if destination.kind in ("kinesis", "firehose") and not role_arn:
            raise invalid(
                f"destinationArn for vendor {destination.kind} cannot be used without roleArn"
            )
        return destination

    def put_subscription_filter(self, params: dict[str, Any]) -> None:
        ctx = self.ctx
        group = ctx.group(params)
        name = params["filterName"]
        pattern = compile_filter(params["filterPattern"])
        self._destination(params["destinationArn"], params.get("roleArn"))
        existing = {f.name: f for f in ctx.store.subscription_filters(group.id)}
        if name not in existing and len(existing) >= ctx.max_subscription_filters:
            raise ServiceError("LimitExceededException", "Resource limit exceeded.")
        check_regex_quota(ctx, group, pattern, "subscription", name)
        options = {
            key: params[key]
            for key in ("applyOnTransformedLogs", "fieldSelectionCriteria", "emitSystemFields")
            if key in params
        }
        item = SubscriptionFilter(
            group.id,
            group.name,
            name,
            params["filterPattern"],
            params["destinationArn"],
            params.get("roleArn"),
            params.get("distribution") or "ByLogStream",
            existing[name].creation_time if name in existing else ctx.clock(),
            options,
        )
        if ctx.delivery is None:
            raise invalid("Subscription delivery is not running on this server.")
        ctx.delivery.check_destination(item)
        ctx.store.put_subscription_filter(item)
        ctx.delivery.subscriptions_changed()

    def describe_subscription_filters(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self.ctx.group(params)
        limit = params.get("limit") or 50
        after = resume_in_group(params, group.id, tokens.strs(1))
        found = self.ctx.store.subscription_filters(
            group.id, params.get("filterNamePrefix"), after[0] if after else None, limit + 1
        )
        page = found[:limit]
        result: dict[str, Any] = {"subscriptionFilters": [_describe(f) for f in page]}
        if len(found) > limit:
            result["nextToken"] = group_token(group.id, [page[-1].name])
        return result

    def delete_subscription_filter(self, params: dict[str, Any]) -> None:
        group = self.ctx.group(params)
        if not self.ctx.store.delete_subscription_filter(group.id, params["filterName"]):
            raise not_found("The specified subscription filter does not exist.")
        if self.ctx.delivery is not None:
            self.ctx.delivery.subscriptions_changed()


def _describe(item: SubscriptionFilter) -> dict[str, Any]:
    described: dict[str, Any] = {
        "filterName": item.name,
        "logGroupName": item.group_name,
        "filterPattern": item.pattern,
        "destinationArn": item.destination_arn,
        "distribution": item.distribution,
        "applyOnTransformedLogs": item.options.get("applyOnTransformedLogs", False),
        "creationTime": item.creation_time,
    }
    if item.role_arn:
        described["roleArn"] = item.role_arn
    for key in ("fieldSelectionCriteria", "emitSystemFields"):
        if key in item.options:
            described[key] = item.options[key]
    return described
