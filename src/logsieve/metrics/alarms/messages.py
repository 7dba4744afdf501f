"""What alarm actions send: the SNS message (JSON in AWS's key order), its Subject, the email
text an email subscription receives, and the event a Lambda action gets."""

from __future__ import annotations

import datetime as _dt
import json
import uuid
from typing import Any

from logsieve.storage.alarms import AlarmRow

from .evaluation import period_of
from .regions import region_name
from .times import iso_millis, java_double

_ACTION_KEYS = {
    "OK": "OKActions",
    "ALARM": "AlarmActions",
    "INSUFFICIENT_DATA": "InsufficientDataActions",
}


def actions_for(row: AlarmRow) -> list[str]:
    """The ARNs run when ``row`` enters its state (none with actions disabled)."""
    if not row.config.get("ActionsEnabled", True):
        return []
    return list(row.config.get(_ACTION_KEYS[row.state_value], []))


def subject(row: AlarmRow, region: str) -> str:
    return f'{row.state_value}: "{row.name}" in {region_name(region)}'[:100]


def _upper_statistic(statistic: str) -> str:
    return {"SampleCount": "SAMPLE_COUNT"}.get(statistic, statistic.upper())


def _dimensions(dimensions: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{"value": d["Value"], "name": d["Name"]} for d in dimensions]


def _trigger(config: dict[str, Any]) -> dict[str, Any]:
    trigger: dict[str, Any] = {}
    if "Metrics" in config:
        trigger["Metrics"] = [_math_query(q) for q in config["Metrics"]]
    else:
        trigger["MetricName"] = config["MetricName"]
        trigger["Namespace"] = config["Namespace"]
        if "ExtendedStatistic" in config:
            trigger["StatisticType"] = "ExtendedStatistic"
            trigger["ExtendedStatistic"] = config["ExtendedStatistic"]
        else:
            trigger["StatisticType"] = "Statistic"
            trigger["Statistic"] = _upper_statistic(config["Statistic"])
        trigger["Unit"] = config.get("Unit")
        trigger["Dimensions"] = _dimensions(config.get("Dimensions", []))
        trigger["Period"] = config["Period"]
    trigger["EvaluationPeriods"] = config["EvaluationPeriods"]
    if "DatapointsToAlarm" in config:
        trigger["DatapointsToAlarm"] = config["DatapointsToAlarm"]
    trigger["ComparisonOperator"] = config["ComparisonOperator"]
    trigger["Threshold"] = float(config["Threshold"])
    trigger["TreatMissingData"] = config.get("TreatMissingData", "missing")
    trigger["EvaluateLowSampleCountPercentile"] = config.get("EvaluateLowSampleCountPercentile", "")
    return trigger


def _math_query(query: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in query.items() if k != "MetricStat"}
    if "MetricStat" in query:
        stat = dict(query["MetricStat"])
        metric = dict(stat["Metric"])
        metric["Dimensions"] = _dimensions(metric.get("Dimensions", []))
        stat["Metric"] = metric
        out["MetricStat"] = stat
    out.setdefault("ReturnData", True)
    return out


def sns_message(row: AlarmRow, old_state: str, region: str, account_id: str, arn: str) -> str:
    """The Message of the SNS notification (compact JSON, AWS's key order)."""
    config = row.config
    message = {
        "AlarmName": row.name,
        "AlarmDescription": config.get("AlarmDescription"),
        "AWSAccountId": account_id,
        "AlarmConfigurationUpdatedTimestamp": iso_millis(row.config_updated_ms),
        "NewStateValue": row.state_value,
        "NewStateReason": row.state_reason,
        "StateChangeTime": iso_millis(row.state_updated_ms),
        "Region": region_name(region),
        "AlarmArn": arn,
        "OldStateValue": old_state,
        "OKActions": config.get("OKActions", []),
        "AlarmActions": config.get("AlarmActions", []),
        "InsufficientDataActions": config.get("InsufficientDataActions", []),
        "Trigger": _trigger(config),
    }
    return json.dumps(message, separators=(",", ":"))


def _email_time(ms: int) -> str:
    moment = _dt.datetime.fromtimestamp(ms / 1000, _dt.UTC)
    return moment.strftime("%A %d %B, %Y %H:%M:%S UTC")


def email_text(row: AlarmRow, old_state: str, region: str, account_id: str, arn: str) -> str:
    """The body an email subscription gets (the layout of CloudWatch's alarm emails)."""
    config = row.config
    when = _email_time(row.state_updated_ms)
    place = region_name(region)
    to_alarm = config.get("DatapointsToAlarm", config["EvaluationPeriods"])
    lines = [
        f'You are receiving this email because your Amazon CloudWatch Alarm "{row.name}" in '
        f"the {place} region has entered the {row.state_value} state, because "
        f'"{row.state_reason}" at "{when}".',
        "",
        "View this alarm in the AWS Management Console:",
        f"https://{region}.console.aws.amazon.com/cloudwatch/deeplink.js?region={region}"
        f"#alarmsV2:alarm/{row.name}",
        "",
        "Alarm Details:",
        f"- Name:                       {row.name}",
        f"- Description:                {config.get('AlarmDescription', '')}",
        f"- State Change:               {old_state} -> {row.state_value}",
        f"- Reason for State Change:    {row.state_reason}",
        f"- Timestamp:                  {when}",
        f"- AWS Account:                {account_id}",
        f"- Alarm Arn:                  {arn}",
        "",
        "Threshold:",
        f"- The alarm is in the ALARM state when the metric is {config['ComparisonOperator']} "
        f"{java_double(float(config['Threshold']))} for at least {to_alarm} of the last "
        f"{config['EvaluationPeriods']} period(s) of {period_of(config)} seconds.",
        "",
    ]
    if "MetricName" in config:
        dims = ", ".join(f"{d['Name']} = {d['Value']}" for d in config.get("Dimensions", []))
        lines += [
            "Monitored Metric:",
            f"- MetricNamespace:                     {config['Namespace']}",
            f"- MetricName:                          {config['MetricName']}",
            f"- Dimensions:                          [{dims}]",
            f"- Period:                              {config['Period']} seconds",
            f"- Statistic:                           "
            f"{config.get('Statistic') or config.get('ExtendedStatistic')}",
            f"- Unit:                                {config.get('Unit', 'not specified')}",
            f"- TreatMissingData:                    {config.get('TreatMissingData', 'missing')}",
            "",
        ]
    lines += [
        "",
        "State Change Actions:",
        f"- OK: {_listed(config.get('OKActions', []))}",
        f"- ALARM: {_listed(config.get('AlarmActions', []))}",
        f"- INSUFFICIENT_DATA: {_listed(config.get('InsufficientDataActions', []))}",
    ]
    return "\n".join(lines) + "\n"


def _listed(arns: list[str]) -> str:
    return f"[{', '.join(arns)}]" if arns else ""


def lambda_event(
    row: AlarmRow, before: AlarmRow, region: str, account_id: str, arn: str
) -> dict[str, Any]:
    """The event a Lambda alarm action receives (AWS's "Invoke a Lambda function from an
    alarm" example)."""
    config = row.config
    previous: dict[str, Any] = {"value": before.state_value, "reason": before.state_reason}
    if before.state_reason_data is not None:
        previous["reasonData"] = before.state_reason_data
    previous["timestamp"] = iso_millis(before.state_updated_ms)
    state: dict[str, Any] = {"value": row.state_value, "reason": row.state_reason}
    if row.state_reason_data is not None:
        state["reasonData"] = row.state_reason_data
    state["timestamp"] = iso_millis(row.state_updated_ms)
    configuration: dict[str, Any] = {}
    if "AlarmDescription" in config:
        configuration["description"] = config["AlarmDescription"]
    configuration["metrics"] = _event_metrics(row)
    return {
        "source": "aws.cloudwatch",
        "alarmArn": arn,
        "accountId": account_id,
        "time": iso_millis(row.state_updated_ms),
        "region": region,
        "alarmData": {
            "alarmName": row.name,
            "state": state,
            "previousState": previous,
            "configuration": configuration,
        },
    }


def _event_metrics(row: AlarmRow) -> list[dict[str, Any]]:
    config = row.config
    if "Metrics" in config:
        return [_event_query(q) for q in config["Metrics"]]
    stat: dict[str, Any] = {
        "metric": {
            "namespace": config["Namespace"],
            "name": config["MetricName"],
            "dimensions": {d["Name"]: d["Value"] for d in config.get("Dimensions", [])},
        },
        "period": config["Period"],
        "stat": config.get("Statistic") or config.get("ExtendedStatistic"),
    }
    if "Unit" in config:
        stat["unit"] = config["Unit"]
    ident = str(uuid.uuid5(uuid.NAMESPACE_URL, f"alarm:{row.name}"))
    return [{"id": ident, "metricStat": stat, "returnData": True}]


def _event_query(query: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": query["Id"]}
    if "MetricStat" in query:
        stat, metric = query["MetricStat"], query["MetricStat"]["Metric"]
        out["metricStat"] = {
            "metric": {
                "namespace": metric.get("Namespace"),
                "name": metric.get("MetricName"),
                "dimensions": {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])},
            },
            "period": stat["Period"],
            "stat": stat["Stat"],
        }
        if "Unit" in stat:
            out["metricStat"]["unit"] = stat["Unit"]
    else:
        out["expression"] = query["Expression"]
    if "Label" in query:
        out["label"] = query["Label"]
    out["returnData"] = query.get("ReturnData", True)
    return out
