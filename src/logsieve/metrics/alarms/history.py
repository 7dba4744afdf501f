"""The history items CloudWatch records for an alarm: configuration updates (create, update,
delete), state updates and actions, with AWS's summaries and HistoryData JSON."""

from __future__ import annotations

import json
from typing import Any

from logsieve.storage.alarms import AlarmRow, HistoryRow

from .times import iso_millis

_CAMEL = {
    "AlarmDescription": "alarmDescription", "Namespace": "namespace",
    "MetricName": "metricName", "Statistic": "statistic",
    "ExtendedStatistic": "extendedStatistic", "Period": "period", "Unit": "unit",
    "Threshold": "threshold", "ComparisonOperator": "comparisonOperator",
    "EvaluationPeriods": "evaluationPeriods", "DatapointsToAlarm": "datapointsToAlarm",
    "TreatMissingData": "treatMissingData",
    "EvaluateLowSampleCountPercentile": "evaluateLowSampleCountPercentile",
}  # fmt: skip


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def alarm_snapshot(row: AlarmRow, arn: str) -> dict[str, Any]:
    """An alarm as ConfigurationUpdate items show it (``createdAlarm``...)."""
    config = row.config
    out: dict[str, Any] = {"alarmName": row.name}
    if "AlarmDescription" in config:
        out["alarmDescription"] = config["AlarmDescription"]
    out["alarmArn"] = arn
    out["alarmConfigurationUpdatedTimestamp"] = iso_millis(row.config_updated_ms)
    for key, camel in _CAMEL.items():
        if key in config and key != "AlarmDescription":
            out[camel] = config[key]
    if "Dimensions" in config:
        out["dimensions"] = [{"value": d["Value"], "name": d["Name"]} for d in config["Dimensions"]]
    out["stateValue"] = row.state_value
    out["stateUpdatedTimestamp"] = iso_millis(row.state_updated_ms)
    out["actionsEnabled"] = config.get("ActionsEnabled", True)
    out["alarmActions"] = config.get("AlarmActions", [])
    out["insufficientDataActions"] = config.get("InsufficientDataActions", [])
    out["okactions"] = config.get("OKActions", [])
    return out


def configuration_update(
    kind: str, row: AlarmRow, arn: str, at_ms: int, before: AlarmRow | None = None
) -> HistoryRow:
    """``kind`` is Create, Update or Delete."""
    verb = {"Create": "created", "Update": "updated", "Delete": "deleted"}[kind]
    data: dict[str, Any] = {"version": "1.0", "type": kind}
    if kind == "Update" and before is not None:
        data["originalAlarm"] = alarm_snapshot(before, arn)
        data["updatedAlarm"] = alarm_snapshot(row, arn)
    else:
        data[f"{verb}Alarm"] = alarm_snapshot(row, arn)
    return HistoryRow(
        row.name, at_ms, "ConfigurationUpdate", f'Alarm "{row.name}" {verb}', _compact(data)
    )


def state_update(
    name: str,
    old: AlarmRow,
    value: str,
    reason: str,
    reason_data: str | None,
    at_ms: int,
) -> HistoryRow:
    new: dict[str, Any] = {"stateValue": value, "stateReason": reason}
    if reason_data is not None:
        try:
            new["stateReasonData"] = json.loads(reason_data)
        except ValueError:
            new["stateReasonData"] = reason_data
    data = {
        "version": "1.0",
        "oldState": {"stateValue": old.state_value, "stateReason": old.state_reason},
        "newState": new,
    }
    summary = f"Alarm updated from {old.state_value} to {value}"
    return HistoryRow(name, at_ms, "StateUpdate", summary, _compact(data))


def action(name: str, arn: str, at_ms: int, error: str | None = None) -> HistoryRow:
    if error is None:
        summary = f"Successfully executed action {arn}"
        data = {"actionState": "Succeeded", "notificationResource": arn}
    else:
        summary = f"Failed to execute action {arn}"
        data = {"actionState": "Failed", "notificationResource": arn, "error": error}
    return HistoryRow(name, at_ms, "Action", summary[:255], _compact(data))
