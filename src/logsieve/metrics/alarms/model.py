"""What an alarm is on the wire: its names, enums, ARN, and the DescribeAlarms shape of a stored
alarm (``MetricAlarm``), built from the stored configuration in the model's member order."""

from __future__ import annotations

from typing import Any

from logsieve.storage.alarms import AlarmRow

STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
#: Comparison operators evaluated against a fixed threshold; the other three in the model are
#: for anomaly-detection bands, which logsieve refuses.
OPERATORS = {
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", lambda v, t: v >= t),
    "GreaterThanThreshold": ("greater than", lambda v, t: v > t),
    "LessThanThreshold": ("less than", lambda v, t: v < t),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda v, t: v <= t),
}
BAND_OPERATORS = (
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
)
TREAT_MISSING = ("breaching", "notBreaching", "ignore", "missing")

#: The configuration members of ``MetricAlarm`` in the model's order (state members apart).
_CONFIG_ORDER = (
    "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions",
    "InsufficientDataActions", "MetricName", "Namespace", "Statistic", "ExtendedStatistic",
    "Dimensions", "Period", "Unit", "EvaluationPeriods", "DatapointsToAlarm", "Threshold",
    "ComparisonOperator", "TreatMissingData", "EvaluateLowSampleCountPercentile", "Metrics",
    "ThresholdMetricId",
)  # fmt: skip


def alarm_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:cloudwatch:{region}:{account_id}:alarm:{name}"


def describe(row: AlarmRow, region: str, account_id: str) -> dict[str, Any]:
    """The ``MetricAlarm`` DescribeAlarms returns for ``row`` (timestamps in epoch seconds)."""
    config = row.config
    out: dict[str, Any] = {
        "AlarmName": row.name,
        "AlarmArn": alarm_arn(region, account_id, row.name),
    }
    if "AlarmDescription" in config:
        out["AlarmDescription"] = config["AlarmDescription"]
    out["AlarmConfigurationUpdatedTimestamp"] = row.config_updated_ms / 1000
    for key in _CONFIG_ORDER[1:]:
        if key in config:
            out[key] = config[key]
    out["StateValue"] = row.state_value
    out["StateReason"] = row.state_reason
    if row.state_reason_data is not None:
        out["StateReasonData"] = row.state_reason_data
    out["StateUpdatedTimestamp"] = row.state_updated_ms / 1000
    out["StateTransitionedTimestamp"] = row.state_transitioned_ms / 1000
    return out


def dimensions_of(config: dict[str, Any]) -> dict[str, str]:
    """The alarm's metric dimensions as a mapping (each combination is one metric)."""
    return {d["Name"]: d["Value"] for d in config.get("Dimensions") or []}
