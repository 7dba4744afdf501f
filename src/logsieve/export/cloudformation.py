"""An :class:`Inventory` as a CloudFormation template (JSON or YAML).

Names stay as on the server (log group, filter, topic and alarm names), so the template creates
the same definitions; references between them (a metric filter's group, an alarm's topic) become
``Ref``/``GetAtt`` so CloudFormation orders the creation. Destinations that are not exported
(Lambda functions, Kinesis streams) stay the ARNs given; a Lambda destination gets the
``AWS::Lambda::Permission`` CloudWatch Logs needs to invoke it.
"""

from __future__ import annotations

import json
from typing import Any

from .inventory import ACTION_KEYS, Inventory, Names, lambda_actions

__all__ = ["cloudformation", "template", "template_text"]

_ALARM_KEYS = (
    "AlarmName", "AlarmDescription", "ActionsEnabled", "Namespace", "MetricName", "Statistic",
    "ExtendedStatistic", "Period", "Unit", "EvaluationPeriods", "DatapointsToAlarm", "Threshold",
    "ComparisonOperator", "TreatMissingData", "EvaluateLowSampleCountPercentile",
    "ThresholdMetricId",
)  # fmt: skip


def _present(source: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: source[k] for k in keys if source.get(k) not in (None, "", [])}


def _transformation(t: dict[str, Any]) -> dict[str, Any]:
    out = _present(t, ("MetricName", "MetricNamespace", "MetricValue", "DefaultValue", "Unit"))
    if t.get("Unit") == "None":
        out.pop("Unit")
    if t.get("dimensions"):
        out["Dimensions"] = [{"Key": k, "Value": v} for k, v in sorted(t["dimensions"].items())]
    return out


def _metric_transformation(t: dict[str, Any]) -> dict[str, Any]:
    # DescribeMetricFilters answers in camelCase; CloudFormation wants PascalCase.
    return _transformation({
        "MetricName": t["metricName"], "MetricNamespace": t["metricNamespace"],
        "MetricValue": t["metricValue"], "DefaultValue": t.get("defaultValue"),
        "Unit": t.get("unit"), "dimensions": t.get("dimensions"),
    })  # fmt: skip


def template(inventory: Inventory) -> dict[str, Any]:
    """The template as a dict (what :func:`cloudformation` serialises)."""
    name = Names("cfn")
    resources: dict[str, Any] = {}
    group_ids: dict[str, str] = {}
    for group in inventory.log_groups:
        logical = name("LogGroup", group["logGroupName"])
        group_ids[group["logGroupName"]] = logical
        properties: dict[str, Any] = {"LogGroupName": group["logGroupName"]}
        if group.get("retentionInDays"):
            properties["RetentionInDays"] = group["retentionInDays"]
        resources[logical] = {"Type": "AWS::Logs::LogGroup", "Properties": properties}
    for mf in inventory.metric_filters:
        group = mf["logGroupName"]
        resources[name("MetricFilter", f"{group} {mf['filterName']}")] = {
            "Type": "AWS::Logs::MetricFilter",
            "Properties": {
                "FilterName": mf["filterName"],
                "LogGroupName": {"Ref": group_ids[group]},
                "FilterPattern": mf.get("filterPattern", ""),
                "MetricTransformations": [
                    _metric_transformation(t) for t in mf["metricTransformations"]
                ],
            },
        }
    topic_refs: dict[str, dict[str, str]] = {}
    for topic in inventory.topics:
        logical = name("Topic", topic["Name"])
        topic_refs[topic["TopicArn"]] = {"Ref": logical}  # Ref of a topic is its ARN
        resources[logical] = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": topic["Name"]}}
    for sub in inventory.subscriptions:
        topic = sub["TopicArn"].rsplit(":", 1)[-1]
        resources[name("Subscription", f"{topic} {sub['Protocol']} {sub['Endpoint']}")] = {
            "Type": "AWS::SNS::Subscription",
            "Properties": {
                "TopicArn": topic_refs.get(sub["TopicArn"], sub["TopicArn"]),
                "Protocol": sub["Protocol"], "Endpoint": sub["Endpoint"],
            },
        }  # fmt: skip
        if sub["Protocol"] == "lambda" and sub["TopicArn"] in topic_refs:
            function_name = sub["Endpoint"].split(":function:", 1)[-1]
            resources[name("Permission", f"{topic} {function_name}")] = {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "Action": "lambda:InvokeFunction", "FunctionName": sub["Endpoint"],
                    "Principal": "sns.amazonaws.com", "SourceArn": topic_refs[sub["TopicArn"]],
                },
            }  # fmt: skip
    for sf in inventory.subscription_filters:
        group = sf["logGroupName"]
        logical = name("SubscriptionFilter", f"{group} {sf['filterName']}")
        properties = {
            "FilterName": sf["filterName"], "LogGroupName": {"Ref": group_ids[group]},
            "FilterPattern": sf.get("filterPattern", ""), "DestinationArn": sf["destinationArn"],
        }  # fmt: skip
        properties |= {
            k[0].upper() + k[1:]: sf[k] for k in ("roleArn", "distribution") if sf.get(k)
        }
        resource: dict[str, Any] = {
            "Type": "AWS::Logs::SubscriptionFilter",
            "Properties": properties,
        }
        if ":lambda:" in sf["destinationArn"]:
            permission = name("Permission", f"{group} {sf['filterName']}")
            resources[permission] = {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "Action": "lambda:InvokeFunction", "FunctionName": sf["destinationArn"],
                    "Principal": "logs.amazonaws.com",
                    "SourceArn": {"Fn::GetAtt": [group_ids[group], "Arn"]},
                    "SourceAccount": {"Ref": "AWS::AccountId"},
                },
            }  # fmt: skip
            resource["DependsOn"] = [permission]
        resources[logical] = resource
    for alarm in inventory.alarms:
        properties = _present(alarm, _ALARM_KEYS)
        for key in ACTION_KEYS:
            if alarm.get(key):
                properties[key] = [topic_refs.get(arn, arn) for arn in alarm[key]]
        if alarm.get("Dimensions"):
            properties["Dimensions"] = alarm["Dimensions"]
        if alarm.get("Metrics"):
            properties["Metrics"] = alarm["Metrics"]
        logical = name("Alarm", alarm["AlarmName"])
        resources[logical] = {"Type": "AWS::CloudWatch::Alarm", "Properties": properties}
        for function in lambda_actions(alarm):
            function_name = function.split(":function:", 1)[-1]
            resources[name("Permission", f"{alarm['AlarmName']} {function_name}")] = {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "Action": "lambda:InvokeFunction", "FunctionName": function,
                    "Principal": "lambda.alarms.cloudwatch.amazonaws.com",
                    "SourceArn": {"Fn::GetAtt": [logical, "Arn"]},
                    "SourceAccount": {"Ref": "AWS::AccountId"},
                },
            }  # fmt: skip
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Log groups, metric filters, alarms, topics and subscription filters "
        "(generated by logsieve export)",
        "Resources": resources,
    }


def cloudformation(inventory: Inventory, yaml_format: bool = False) -> str:
    """The template as JSON (default) or YAML text."""
    return template_text(template(inventory), yaml_format)


def template_text(document: dict[str, Any], yaml_format: bool = False) -> str:
    """A template document as JSON (default) or YAML text (intrinsics in their long form)."""
    if yaml_format:
        import yaml

        class NoAliases(yaml.SafeDumper):
            """CloudFormation rejects YAML aliases (a topic Ref used twice would become one)."""

            def ignore_aliases(self, data: Any) -> bool:
                return True

        return yaml.dump(document, Dumper=NoAliases, sort_keys=False, default_flow_style=False)
    return json.dumps(document, indent=2) + "\n"
