"""An :class:`Inventory` as Terraform (HCL, AWS provider), written with the HCL emitter
``logsieve aws-setup`` uses.

The same choices as the CloudFormation export: names as on the server, references between
exported resources as Terraform references, destinations not exported kept as given, and an
``aws_lambda_permission`` for every Lambda destination.
"""

from __future__ import annotations

from typing import Any

from logsieve.sources.aws_setup import Raw, hcl_block

from .inventory import Inventory, Names, lambda_actions

__all__ = ["terraform"]

#: DescribeAlarms key -> aws_cloudwatch_metric_alarm argument, for the plain ones.
_ALARM_ARGS = {
    "AlarmName": "alarm_name", "AlarmDescription": "alarm_description",
    "ActionsEnabled": "actions_enabled", "Namespace": "namespace", "MetricName": "metric_name",
    "Statistic": "statistic", "ExtendedStatistic": "extended_statistic", "Period": "period",
    "Unit": "unit", "EvaluationPeriods": "evaluation_periods",
    "DatapointsToAlarm": "datapoints_to_alarm", "Threshold": "threshold",
    "ComparisonOperator": "comparison_operator", "TreatMissingData": "treat_missing_data",
    "EvaluateLowSampleCountPercentile": "evaluate_low_sample_count_percentiles",
    "ThresholdMetricId": "threshold_metric_id",
}  # fmt: skip
_ACTION_ARGS = {
    "AlarmActions": "alarm_actions", "OKActions": "ok_actions",
    "InsufficientDataActions": "insufficient_data_actions",
}  # fmt: skip


def _resource(kind: str, name: str, body: dict[str, Any], blocks: list | None = None) -> str:
    return hcl_block(f'resource "{kind}" "{name}"', body, blocks or [])


def _transformation(t: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": t["metricName"], "namespace": t["metricNamespace"], "value": t["metricValue"],
    }  # fmt: skip
    if t.get("defaultValue") is not None:
        body["default_value"] = str(t["defaultValue"])
    if t.get("unit") and t["unit"] != "None":
        body["unit"] = t["unit"]
    if t.get("dimensions"):
        body["dimensions"] = dict(sorted(t["dimensions"].items()))
    return body


def _metric_query(query: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"id": query["Id"]}
    for key, arg in (("Expression", "expression"), ("Label", "label"),
                     ("ReturnData", "return_data"), ("Period", "period"),
                     ("AccountId", "account_id")):  # fmt: skip
        if query.get(key) is not None:
            body[arg] = query[key]
    if "MetricStat" in query:
        stat, metric = query["MetricStat"], query["MetricStat"]["Metric"]
        inner: dict[str, Any] = {
            "metric_name": metric["MetricName"], "namespace": metric.get("Namespace", ""),
            "period": stat["Period"], "stat": stat["Stat"],
        }  # fmt: skip
        if stat.get("Unit"):
            inner["unit"] = stat["Unit"]
        if metric.get("Dimensions"):
            inner["dimensions"] = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
        body["metric"] = (inner,)
    return body


def terraform(inventory: Inventory) -> str:
    """The definitions as HCL text."""
    name = Names("tf")
    parts: list[str] = []
    groups: dict[str, str] = {}
    for group in inventory.log_groups:
        ref = name("log_group", group["logGroupName"])
        groups[group["logGroupName"]] = f"aws_cloudwatch_log_group.{ref}"
        body: dict[str, Any] = {"name": group["logGroupName"]}
        if group.get("retentionInDays"):
            body["retention_in_days"] = group["retentionInDays"]
        parts.append(_resource("aws_cloudwatch_log_group", ref, body))
    for mf in inventory.metric_filters:
        group = mf["logGroupName"]
        blocks = [
            ("metric_transformation", _transformation(t)) for t in mf["metricTransformations"]
        ]
        parts.append(_resource("aws_cloudwatch_log_metric_filter",
                               name("metric_filter", f"{group} {mf['filterName']}"), {
            "name": mf["filterName"], "log_group_name": Raw(groups[group] + ".name"),
            "pattern": mf.get("filterPattern", ""),
        }, blocks))  # fmt: skip
    topics: dict[str, Raw] = {}
    for topic in inventory.topics:
        ref = name("topic", topic["Name"])
        topics[topic["TopicArn"]] = Raw(f"aws_sns_topic.{ref}.arn")
        parts.append(_resource("aws_sns_topic", ref, {"name": topic["Name"]}))
    for sub in inventory.subscriptions:
        topic = sub["TopicArn"].rsplit(":", 1)[-1]
        ref = name("subscription", f"{topic} {sub['Protocol']} {sub['Endpoint']}")
        parts.append(_resource("aws_sns_topic_subscription", ref, {
            "topic_arn": topics.get(sub["TopicArn"], sub["TopicArn"]),
            "protocol": sub["Protocol"], "endpoint": sub["Endpoint"],
        }))  # fmt: skip
        if sub["Protocol"] == "lambda" and sub["TopicArn"] in topics:
            function_name = sub["Endpoint"].split(":function:", 1)[-1]
            parts.append(_resource("aws_lambda_permission",
                                   name("permission", f"topic {topic} {function_name}"), {
                "action": "lambda:InvokeFunction", "function_name": sub["Endpoint"],
                "principal": "sns.amazonaws.com", "source_arn": topics[sub["TopicArn"]],
            }))  # fmt: skip
    for sf in inventory.subscription_filters:
        group = sf["logGroupName"]
        ref = name("subscription_filter", f"{group} {sf['filterName']}")
        body = {
            "name": sf["filterName"], "log_group_name": Raw(groups[group] + ".name"),
            "filter_pattern": sf.get("filterPattern", ""), "destination_arn": sf["destinationArn"],
        }  # fmt: skip
        optional = (("roleArn", "role_arn"), ("distribution", "distribution"))
        body |= {arg: sf[key] for key, arg in optional if sf.get(key)}
        if ":lambda:" in sf["destinationArn"]:
            permission = name("permission", f"{group} {sf['filterName']}")
            parts.append(_resource("aws_lambda_permission", permission, {
                "action": "lambda:InvokeFunction", "function_name": sf["destinationArn"],
                "principal": "logs.amazonaws.com",
                "source_arn": Raw(f'"${{{groups[group]}.arn}}:*"'),
            }))  # fmt: skip
            body["depends_on"] = Raw(f"[aws_lambda_permission.{permission}]")
        parts.append(_resource("aws_cloudwatch_log_subscription_filter", ref, body))
    for alarm in inventory.alarms:
        body = {arg: alarm[key] for key, arg in _ALARM_ARGS.items()
                if alarm.get(key) not in (None, "", [])}  # fmt: skip
        for key, arg in _ACTION_ARGS.items():
            if alarm.get(key):
                body[arg] = [topics.get(arn, arn) for arn in alarm[key]]
        if alarm.get("Dimensions"):
            body["dimensions"] = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        blocks = [("metric_query", _metric_query(q)) for q in alarm.get("Metrics") or []]
        ref = name("alarm", alarm["AlarmName"])
        parts.append(_resource("aws_cloudwatch_metric_alarm", ref, body, blocks))
        for function in lambda_actions(alarm):
            function_name = function.split(":function:", 1)[-1]
            permission = name("permission", f"alarm {alarm['AlarmName']} {function_name}")
            parts.append(_resource("aws_lambda_permission", permission, {
                "action": "lambda:InvokeFunction", "function_name": function,
                "principal": "lambda.alarms.cloudwatch.amazonaws.com",
                "source_arn": Raw(f"aws_cloudwatch_metric_alarm.{ref}.arn"),
            }))  # fmt: skip
    header = "# Generated by logsieve export: what the server defines, for real AWS.\n\n"
    return header + "\n\n".join(parts) + "\n"
