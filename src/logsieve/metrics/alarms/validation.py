"""PutMetricAlarm's rules beyond the model (which the API layer already checks: types, enums,
lengths, required members), and the configuration it stores.

The stored configuration holds the request's members as given, with AWS's defaults filled in
where DescribeAlarms shows them (ActionsEnabled true, empty action lists, empty Dimensions).
Messages follow CloudWatch's ``The parameter X ...`` wording; the ones not recorded from AWS
are marked as ours in the tests.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import combination, invalid, missing
from .model import BAND_OPERATORS

MAX_SPAN_SECONDS = 604_800  # Period x EvaluationPeriods, any period
MAX_SHORT_SPAN_SECONDS = 86_400  # ... when Period < 3600
_PERCENTILE = re.compile(r"p(\d{1,2}(\.\d{1,10})?|100(\.0{1,10})?)\Z")
_EXTENDED = re.compile(
    r"(p|tm|tc|ts|wm)(\d{1,2}(\.\d+)?|100)\Z|IQM\Z|(PR|TM|TC|TS|WM)\(.+:.*\)\Z|(PR|TM|TC|TS|WM)\(:.+\)\Z"
)
_METRIC_MEMBERS = ("MetricName", "Namespace", "Dimensions", "Period", "Unit", "Statistic",
                   "ExtendedStatistic")  # fmt: skip
_CONFIG_MEMBERS = (
    "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions",
    "InsufficientDataActions", "MetricName", "Namespace", "Statistic", "ExtendedStatistic",
    "Dimensions", "Period", "Unit", "EvaluationPeriods", "DatapointsToAlarm", "Threshold",
    "ComparisonOperator", "TreatMissingData", "EvaluateLowSampleCountPercentile", "Metrics",
    "ThresholdMetricId",
)  # fmt: skip


def valid_period(period: int) -> bool:
    """10, 20, 30 or a multiple of 60 (alarms' periods)."""
    return period in (10, 20, 30) or (period >= 60 and period % 60 == 0)


def is_percentile(statistic: str | None) -> bool:
    return statistic is not None and _PERCENTILE.match(statistic) is not None


def alarm_config(params: dict[str, Any]) -> dict[str, Any]:
    """The configuration to store for a PutMetricAlarm request, or the first rule it breaks."""
    name = params["AlarmName"]
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise invalid("The parameter AlarmName must not contain ASCII control characters.")
    operator = params["ComparisonOperator"]
    if operator in BAND_OPERATORS or params.get("ThresholdMetricId") is not None:
        raise invalid(
            f"ComparisonOperator {operator} and ThresholdMetricId are for anomaly detection "
            "alarms, which this server does not evaluate; use a fixed Threshold with "
            "GreaterThanThreshold, GreaterThanOrEqualToThreshold, LessThanThreshold or "
            "LessThanOrEqualToThreshold."
        )
    if params.get("Threshold") is None:
        raise missing("Threshold")
    period = _math_period(params) if params.get("Metrics") else _metric_period(params)
    evaluation_periods = params["EvaluationPeriods"]
    if evaluation_periods < 1:
        raise invalid("The parameter EvaluationPeriods must be greater than or equal to 1.")
    to_alarm = params.get("DatapointsToAlarm")
    if to_alarm is not None and not 1 <= to_alarm <= evaluation_periods:
        raise invalid(
            "DatapointsToAlarm must be greater than or equal to 1 and less than or equal to "
            "EvaluationPeriods."
        )
    span = period * evaluation_periods
    limit = MAX_SHORT_SPAN_SECONDS if period < 3600 else MAX_SPAN_SECONDS
    if span > limit:
        raise invalid(
            f"The evaluation period (Period x EvaluationPeriods) must not exceed {limit} seconds"
            f"{' for periods under an hour' if period < 3600 else ''}."
        )
    if params.get("EvaluateLowSampleCountPercentile") not in (None, "evaluate", "ignore"):
        raise invalid("Option EvaluateLowSampleCountPercentile must be one of: evaluate, ignore.")
    treat = params.get("TreatMissingData")
    if treat is not None and treat not in ("breaching", "notBreaching", "ignore", "missing"):
        raise invalid(
            "Option TreatMissingData must be one of: breaching, notBreaching, ignore, missing."
        )
    config = {key: params[key] for key in _CONFIG_MEMBERS if params.get(key) is not None}
    config.setdefault("ActionsEnabled", True)
    for key in ("OKActions", "AlarmActions", "InsufficientDataActions"):
        config.setdefault(key, [])
    if not params.get("Metrics"):
        config.setdefault("Dimensions", [])
    return config


def _metric_period(params: dict[str, Any]) -> int:
    for key in ("MetricName", "Namespace", "Period"):
        if params.get(key) is None:
            raise missing(key)
    statistic, extended = params.get("Statistic"), params.get("ExtendedStatistic")
    if statistic is not None and extended is not None:
        raise combination(
            "The parameters Statistic and ExtendedStatistic are mutually exclusive and you "
            "have specified both."
        )
    if statistic is None and extended is None:
        raise missing("Statistic or ExtendedStatistic")
    if extended is not None and not _EXTENDED.match(extended):
        raise invalid(f"The value {extended} for parameter ExtendedStatistic is not supported.")
    period = params["Period"]
    if not valid_period(period):
        raise invalid("The parameter Period must be 10, 20, 30 or a multiple of 60.")
    return int(period)


def _math_period(params: dict[str, Any]) -> int:
    given = [key for key in _METRIC_MEMBERS if params.get(key) not in (None, [])]
    if given:
        raise combination(
            f"The parameters Metrics and {given[0]} are mutually exclusive and you have "
            "specified both."
        )
    queries = params["Metrics"]
    returned = [q for q in queries if q.get("ReturnData", True)]
    if len(returned) != 1:
        raise invalid("Exactly one element of the metrics list should return data.")
    ids = [q["Id"] for q in queries]
    if len(set(ids)) != len(ids):
        raise invalid("The value of the Id field must be unique within Metrics.")
    for query in queries:
        has_stat, has_expression = "MetricStat" in query, "Expression" in query
        if has_stat == has_expression:
            raise invalid(
                "Exactly one of the fields MetricStat or Expression must be specified in "
                f"the metric {query['Id']}."
            )
    stat = returned[0].get("MetricStat")
    period = stat["Period"] if stat else returned[0].get("Period")
    if period is None:
        stats = [q["MetricStat"]["Period"] for q in queries if "MetricStat" in q]
        period = min(stats) if stats else None
    if period is None or not valid_period(period):
        raise invalid("The parameter Period must be 10, 20, 30 or a multiple of 60.")
    return int(period)
