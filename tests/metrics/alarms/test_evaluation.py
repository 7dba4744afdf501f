"""The evaluation engine against the user guide's rules (aws-wave2.md section 2), with a
deterministic clock: each row of the two missing-data tables, M of N, every operator, the
high-resolution cadence, low-sample percentiles, and AWS's reason wording."""

from __future__ import annotations

import json
from typing import Any

import pytest

from logsieve.metrics.alarms.evaluation import evaluate, evaluation_time
from tests.metrics.alarms.readers import FilledReader

NOW = 1_700_000_000 // 60 * 60 + 5  # 5 s after a minute boundary
END = NOW // 60 * 60


def config(**overrides: Any) -> dict[str, Any]:
    base = {
        "Namespace": "NS", "MetricName": "m", "Dimensions": [], "Statistic": "Maximum",
        "Period": 60, "EvaluationPeriods": 3, "Threshold": 10.0,
        "ComparisonOperator": "GreaterThanThreshold",
    }  # fmt: skip
    return {**base, **overrides}


def reader_for(pattern: str, period: int = 60) -> FilledReader:
    """``0 - X - X``, oldest on the left, ending at the evaluation boundary."""
    slots = pattern.split()
    reader = FilledReader()
    for i, mark in enumerate(slots):
        start = END - (len(slots) - i) * period
        if mark != "-":
            reader.put(start, 20.0 if mark == "X" else 1.0)
    return reader


def state_after(pattern: str, treat: str, m: int, start: str = "OK") -> str:
    cfg = config(TreatMissingData=treat, EvaluationPeriods=3)
    if m != 3:
        cfg["DatapointsToAlarm"] = m
    outcome = evaluate(cfg, start, reader_for(pattern), NOW)
    return "retain" if outcome is None else outcome.state


TABLE_1 = [  # M = N = 3: points, missing, ignore, breaching, notBreaching
    ("0 - X - X", "OK", "OK", "OK", "OK"),
    ("0 - - - -", "OK", "OK", "OK", "OK"),
    ("- - - - -", "INSUFFICIENT_DATA", "retain", "ALARM", "OK"),
    ("0 X X - X", "ALARM", "ALARM", "ALARM", "ALARM"),
    ("- - X - -", "ALARM", "retain", "ALARM", "OK"),
]
TABLE_2 = [  # M = 2, N = 3
    ("0 - X - X", "ALARM", "ALARM", "ALARM", "ALARM"),
    ("0 0 X 0 X", "ALARM", "ALARM", "ALARM", "ALARM"),
    ("0 - X - -", "OK", "OK", "ALARM", "OK"),
    ("- - - - 0", "OK", "OK", "ALARM", "OK"),
    ("- - - X -", "ALARM", "retain", "ALARM", "OK"),
]
TREATS = ("missing", "ignore", "breaching", "notBreaching")


@pytest.mark.parametrize(("m", "row"), [(3, r) for r in TABLE_1] + [(2, r) for r in TABLE_2])
def test_the_user_guide_missing_data_tables(m: int, row: tuple[str, ...]) -> None:
    pattern, *expected = row
    assert [state_after(pattern, treat, m) for treat in TREATS] == expected


@pytest.mark.parametrize("pattern", ["- - - - X", "- - - X -"])
def test_a_recent_breach_alone_does_not_alarm_prematurely(pattern: str) -> None:
    assert state_after(pattern, "missing", 3, start="INSUFFICIENT_DATA") == "retain"


@pytest.mark.parametrize(
    ("operator", "value", "breaches"),
    [
        ("GreaterThanThreshold", 10.0, False), ("GreaterThanThreshold", 10.5, True),
        ("GreaterThanOrEqualToThreshold", 10.0, True),
        ("GreaterThanOrEqualToThreshold", 9.9, False),
        ("LessThanThreshold", 10.0, False), ("LessThanThreshold", 9.5, True),
        ("LessThanOrEqualToThreshold", 10.0, True), ("LessThanOrEqualToThreshold", 10.1, False),
    ],
)  # fmt: skip
def test_every_fixed_threshold_operator(operator: str, value: float, breaches: bool) -> None:
    reader = FilledReader()
    reader.put(END - 60, value)
    cfg = config(ComparisonOperator=operator, EvaluationPeriods=1)
    outcome = evaluate(cfg, "INSUFFICIENT_DATA", reader, NOW)
    assert outcome is not None and outcome.state == ("ALARM" if breaches else "OK")


def test_m_of_n_need_not_be_consecutive() -> None:
    reader = reader_for("X 0 X 0 X")
    cfg = config(EvaluationPeriods=5, DatapointsToAlarm=3)
    assert evaluate(cfg, "OK", reader, NOW).state == "ALARM"  # type: ignore[union-attr]
    cfg["DatapointsToAlarm"] = 4
    assert evaluate(cfg, "OK", reader, NOW).state == "OK"  # type: ignore[union-attr]


def test_the_statistic_is_the_left_operand_and_read_per_period() -> None:
    reader = FilledReader()
    reader.put(END - 60, 1.0, 2.0, 30.0)  # average 11, max 30, min 1, sum 33, count 3
    for statistic, state in [("Average", "ALARM"), ("Minimum", "OK"), ("Sum", "ALARM"),
                             ("SampleCount", "OK")]:  # fmt: skip
        cfg = config(Statistic=statistic, EvaluationPeriods=1)
        assert evaluate(cfg, "OK", reader, NOW).state == state, statistic  # type: ignore[union-attr]
    namespace, name, dims, start, end, period = reader.asked[0]
    assert (namespace, name, dims, end, period) == ("NS", "m", {}, END, 60)
    assert start == END - 3 * 60  # N + max(N // 3, 2) periods


def test_sliding_windows_end_on_the_minute_for_long_periods() -> None:
    reader = FilledReader()
    cfg = config(Period=300, EvaluationPeriods=1)
    evaluate(cfg, "OK", reader, NOW)
    _, _, _, start, end, period = reader.asked[0]
    assert (end, period, start) == (END, 300, END - 3 * 300)


@pytest.mark.parametrize("period", [10, 20, 30])
def test_high_resolution_alarms_are_evaluated_every_10_seconds(period: int) -> None:
    cfg = config(Period=period, EvaluationPeriods=1)
    assert evaluation_time(cfg, NOW + 14) == NOW - 5 + 10
    assert evaluation_time(config(), NOW + 14) == END
    reader = FilledReader()
    reader.put(NOW - 5 + 10 - period, 50.0)
    outcome = evaluate(cfg, "OK", reader, NOW + 14)
    assert outcome is not None and outcome.state == "ALARM"


def test_low_sample_percentiles_are_ignored_only_when_asked() -> None:
    reader = FilledReader()
    reader.put(END - 60, *[20.0] * 50, percentiles={"p99": 20.0})
    cfg = config(Statistic=None, ExtendedStatistic="p99", EvaluationPeriods=1)
    del cfg["Statistic"]
    assert evaluate(cfg, "OK", reader, NOW).state == "ALARM"  # type: ignore[union-attr]
    cfg["EvaluateLowSampleCountPercentile"] = "ignore"
    assert evaluate(cfg, "OK", reader, NOW) is None  # p99 needs 1000 samples
    reader.put(END - 60, *[20.0] * 1000, percentiles={"p99": 20.0})
    assert evaluate(cfg, "OK", reader, NOW).state == "ALARM"  # type: ignore[union-attr]


def test_reason_with_datapoints_to_alarm_reads_like_aws() -> None:
    reader = FilledReader()
    reader.put(END - 60, 12.8)
    cfg = config(EvaluationPeriods=1, DatapointsToAlarm=1, Threshold=10.0,
                 ComparisonOperator="GreaterThanOrEqualToThreshold")  # fmt: skip
    outcome = evaluate(cfg, "OK", reader, NOW)
    stamp = _reason_stamp(END - 60)
    assert outcome is not None
    assert outcome.reason == (
        f"Threshold Crossed: 1 out of the last 1 datapoints [12.8 ({stamp})] was greater than "
        "or equal to the threshold (10.0) (minimum 1 datapoint for OK -> ALARM transition)."
    )


def test_reason_without_datapoints_to_alarm_and_going_back_to_ok() -> None:
    reader = FilledReader()
    reader.put(END - 60, 21.5)
    outcome = evaluate(config(EvaluationPeriods=1, Threshold=21.0), "OK", reader, NOW)
    assert outcome is not None
    assert outcome.reason == (
        f"Threshold Crossed: 1 datapoint [21.5 ({_reason_stamp(END - 60)})] was greater than "
        "the threshold (21.0)."
    )
    reader.put(END - 60, 3.0)
    cfg = config(EvaluationPeriods=1, Threshold=50.0, DatapointsToAlarm=1)
    outcome = evaluate(cfg, "ALARM", reader, NOW)
    assert outcome is not None and outcome.state == "OK"
    assert outcome.reason.endswith(
        "was not greater than the threshold (50.0) (minimum 1 datapoint for ALARM -> OK "
        "transition)."
    )


def test_reason_when_missing_datapoints_are_filled() -> None:
    reader = FilledReader()
    reader.put(END - 60, 613.0)
    cfg = config(EvaluationPeriods=20, DatapointsToAlarm=1, Threshold=1.0,
                 ComparisonOperator="GreaterThanOrEqualToThreshold",
                 TreatMissingData="notBreaching")  # fmt: skip
    outcome = evaluate(cfg, "OK", reader, NOW)
    assert outcome is not None
    assert outcome.reason == (
        f"Threshold Crossed: 1 out of the last 20 datapoints [613.0 ({_reason_stamp(END - 60)})]"
        " was greater than or equal to the threshold (1.0) and 19 missing datapoints were "
        "treated as [NonBreaching] (minimum 1 datapoint for OK -> ALARM transition)."
    )


def test_reasons_when_nothing_was_received() -> None:
    cfg = config(EvaluationPeriods=2, TreatMissingData="breaching")
    outcome = evaluate(cfg, "OK", FilledReader(), NOW)
    assert outcome is not None and outcome.reason == (
        "Threshold Crossed: no datapoints were received for 2 periods and 2 missing "
        "datapoints were treated as [Breaching]."
    )
    outcome = evaluate(config(EvaluationPeriods=1), "OK", FilledReader(), NOW)
    assert outcome is not None and outcome.state == "INSUFFICIENT_DATA"
    assert outcome.reason == "Insufficient Data: 1 datapoint was unknown."


def test_state_reason_data_carries_the_evaluated_datapoints() -> None:
    reader = FilledReader()
    reader.put(END - 120, 20000.0, 20000.0)
    reader.put(END - 60, 20000.0)
    cfg = config(EvaluationPeriods=2, Unit="Seconds", Statistic="Average", Threshold=0.0)
    outcome = evaluate(cfg, "OK", reader, NOW)
    assert outcome is not None
    data = json.loads(outcome.reason_data)
    assert list(data) == [
        "version", "queryDate", "startDate", "unit", "statistic", "period",
        "recentDatapoints", "threshold", "evaluatedDatapoints",
    ]  # fmt: skip
    assert data["startDate"] == _iso(END - 120)
    assert data["queryDate"] == _iso(NOW)
    assert data["recentDatapoints"] == [20000.0, 20000.0]
    assert data["evaluatedDatapoints"][0] == {
        "timestamp": _iso(END - 60), "sampleCount": 1.0, "value": 20000.0,
    }  # fmt: skip
    assert data["evaluatedDatapoints"][1]["sampleCount"] == 2.0


def _reason_stamp(seconds: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%d/%m/%y %H:%M:%S")


def _iso(seconds: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def test_long_evaluations_stay_within_the_reason_limits() -> None:
    reader = FilledReader()
    for i in range(1, 200):
        reader.put(END - i * 60, 20.0 + i / 7)
    cfg = config(EvaluationPeriods=180, DatapointsToAlarm=180)
    outcome = evaluate(cfg, "OK", reader, NOW)
    assert outcome is not None and outcome.state == "ALARM"
    assert len(outcome.reason) <= 1023
    data = json.loads(outcome.reason_data)
    assert len(outcome.reason_data) <= 4000
    assert data["evaluatedDatapoints"][0]["timestamp"] == _iso(END - 60)


def math_config(expression: str, **overrides: Any) -> dict[str, Any]:
    def stat(ident: str, name: str) -> dict[str, Any]:
        metric = {"Namespace": "NS", "MetricName": name, "Dimensions": []}
        return {"Id": ident, "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"},
                "ReturnData": False}  # fmt: skip

    base = {
        "Metrics": [stat("errors", "Errors"), stat("calls", "Calls"),
                    {"Id": "rate", "Expression": expression, "ReturnData": True}],
        "EvaluationPeriods": 1, "Threshold": 10.0,
        "ComparisonOperator": "GreaterThanThreshold",
    }  # fmt: skip
    return {**base, **overrides}


class TwoMetrics(FilledReader):
    """Errors and Calls per period, by metric name."""

    def __init__(self, errors: float, calls: float) -> None:
        super().__init__()
        self.by_name = {"Errors": errors, "Calls": calls}

    def period_statistics(self, namespace, metric_name, dimensions, start, end, period,
                          unit=None, percentiles=()):  # type: ignore[no-untyped-def]  # fmt: skip
        self.points = {}
        self.put(END - 60, self.by_name[metric_name])
        return super().period_statistics(
            namespace, metric_name, dimensions, start, end, period, unit, percentiles
        )


def test_metric_math_alarms_compare_the_returned_expression() -> None:
    cfg = math_config("100 * errors / calls")
    outcome = evaluate(cfg, "OK", TwoMetrics(errors=3, calls=20), NOW)  # 15 %
    assert outcome is not None and outcome.state == "ALARM"
    assert "[15.0 (" in outcome.reason
    assert "statistic" not in json.loads(outcome.reason_data)
    assert evaluate(cfg, "ALARM", TwoMetrics(errors=1, calls=20), NOW).state == "OK"  # type: ignore[union-attr]


def test_a_math_alarm_with_an_unsupported_expression_keeps_its_state() -> None:
    assert (
        evaluate(math_config("ANOMALY_DETECTION_BAND(errors)"), "OK", TwoMetrics(1, 2), NOW) is None
    )
