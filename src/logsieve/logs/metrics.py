"""Metric filters: definitions (Put/Describe/Delete) and TestMetricFilter."""

from __future__ import annotations

from typing import Any

from logsieve import tokens
from logsieve.errors import ServiceError
from logsieve.patterns import FilterPattern, PatternError
from logsieve.storage import MetricFilter

from .context import LogsContext, invalid, not_found, resume_after
from .reads import compile_filter
from .regex_quota import check_regex_quota

MAX_METRIC_FILTERS = 100
MAX_DIMENSIONS = 3


def _check_transformation(pattern: FilterPattern, transformation: dict[str, Any]) -> None:
    dimensions = transformation.get("dimensions") or {}
    if dimensions and transformation.get("defaultValue") is not None:
        raise invalid("A metric transformation cannot have both dimensions and a defaultValue.")
    if dimensions and pattern.kind not in ("json", "space"):
        raise invalid("Dimensions are only supported with JSON or space-delimited filter patterns.")
    if len(dimensions) > MAX_DIMENSIONS:
        raise invalid(f"A metric filter can have at most {MAX_DIMENSIONS} dimensions.")
    for selector in (transformation["metricValue"], *dimensions.values()):
        try:
            pattern.selector(selector)
        except PatternError as exc:
            raise invalid(f"Invalid metric value or dimension {selector!r}: {exc.message}") from exc


class MetricFilters:
    def __init__(self, ctx: LogsContext) -> None:
        self.ctx = ctx

    def put_metric_filter(self, params: dict[str, Any]) -> None:
        group = self.ctx.group(params)
        pattern = compile_filter(params["filterPattern"])
        transformations = params["metricTransformations"]
        for transformation in transformations:
            _check_transformation(pattern, transformation)
        store = self.ctx.store
        existing = {
            f.name: f
            for f in store.metric_filters(group.name, None, None, None, MAX_METRIC_FILTERS + 1)
        }
        name = params["filterName"]
        if name not in existing and len(existing) >= MAX_METRIC_FILTERS:
            raise ServiceError("LimitExceededException", "Resource limit exceeded.")
        check_regex_quota(self.ctx, group, pattern, "metric", name)
        created = existing[name].creation_time if name in existing else self.ctx.clock()
        store.put_metric_filter(
            group.id,
            MetricFilter(group.name, name, params["filterPattern"], transformations, created),
        )
        self._changed()

    def _changed(self) -> None:
        """Counting follows the filters (the delivery side starts and stops counters)."""
        if self.ctx.delivery is not None:
            self.ctx.delivery.subscriptions_changed()

    def delete_metric_filter(self, params: dict[str, Any]) -> None:
        group = self.ctx.group(params)
        if not self.ctx.store.delete_metric_filter(group.id, params["filterName"]):
            raise not_found("The specified metric filter does not exist.")
        self._changed()

    def describe_metric_filters(self, params: dict[str, Any]) -> dict[str, Any]:
        group_name = params.get("logGroupName")
        prefix = params.get("filterNamePrefix")
        if prefix is not None and group_name is None:
            raise invalid("filterNamePrefix can only be used together with logGroupName.")
        metric_name, namespace = params.get("metricName"), params.get("metricNamespace")
        if (metric_name is None) != (namespace is None):
            raise invalid("metricName and metricNamespace must be specified together.")
        if group_name is not None and self.ctx.store.group(group_name) is None:
            raise not_found("The specified log group does not exist.")
        limit = params.get("limit") or 50
        after = resume_after(params, tokens.strs(2))
        metric = (metric_name, namespace) if metric_name is not None else None
        found = self.ctx.store.metric_filters(group_name, prefix, metric, after, limit + 1)
        page = found[:limit]
        result: dict[str, Any] = {
            "metricFilters": [
                {
                    "filterName": f.name,
                    "filterPattern": f.pattern,
                    "metricTransformations": f.transformations,
                    "creationTime": f.creation_time,
                    "logGroupName": f.group_name,
                    "applyOnTransformedLogs": False,
                }
                for f in page
            ]
        }
        if len(found) > limit:
            result["nextToken"] = tokens.encode({"after": [page[-1].name, page[-1].group_name]})
        return result

    def test_metric_filter(self, params: dict[str, Any]) -> dict[str, Any]:
        pattern = compile_filter(params["filterPattern"])
        matches = []
        for number, message in enumerate(params["logEventMessages"], 1):
            values = pattern.extract(message)
            if values is not None:
                matches.append(
                    {"eventNumber": number, "eventMessage": message, "extractedValues": values}
                )
        return {"matches": matches}
