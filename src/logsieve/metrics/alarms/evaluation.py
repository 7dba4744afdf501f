"""Alarm evaluation as CloudWatch does it (aws-wave2.md section 2), pure: a configuration, the
current state, a ``MetricReader`` and a time in; the state the alarm should have out.

The last R = N + max(N // 3, 2) periods before the evaluation time form the *evaluation
range*. With no missing period, or at least N real datapoints in the range, the N most recent
real datapoints are evaluated. With fewer, ``TreatMissingData`` fills the gap: ``breaching`` and
``notBreaching`` fill the fewest missing periods needed to make N; ``missing`` and ``ignore``
fill none, and then AWS's tables say: M breaching datapoints alarm; otherwise a real
non-breaching datapoint means OK; otherwise ``ignore`` keeps the state, and ``missing`` goes
to INSUFFICIENT_DATA when nothing at all was received, to ALARM by the premature-alarm rule
(the oldest breaching datapoint in the last N periods is at least M periods old and every
newer one is breaching or missing), and keeps the state otherwise. This reproduces every row
of the user guide's two tables (tests/metrics/alarms/test_evaluation.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from logsieve.metrics import math as metric_math
from logsieve.metrics.reading import MetricReader, PeriodStats

from .model import OPERATORS, dimensions_of
from .times import iso_millis, java_double, reason_time
from .validation import is_percentile

__all__ = ["Outcome", "evaluate", "evaluation_range", "evaluation_time", "interval"]


MAX_REASON = 1023  # StateReason's length limit in the model
MAX_REASON_DATA = 4000  # StateReasonData's


@dataclass(frozen=True)
class Outcome:
    """The state an evaluation arrived at, with AWS's StateReason and StateReasonData."""

    state: str
    reason: str
    reason_data: str


@dataclass(frozen=True)
class _Point:
    start: float
    value: float | None  # None: no datapoint in this period
    samples: float = 0.0
    filled: bool = False  # a missing datapoint treated as breaching or not breaching


def interval(config: dict[str, Any]) -> int:
    """How often the alarm is evaluated: every 10 s for periods under a minute, else 60 s."""
    return 10 if period_of(config) < 60 else 60


def period_of(config: dict[str, Any]) -> int:
    """The alarm's period; a math alarm's is its returned query's (an expression's own
    Period, else the shortest of its metrics', as PutMetricAlarm checked it)."""
    if "Period" in config:
        return int(config["Period"])
    returned = _returned_query(config) or {}
    if "MetricStat" in returned:
        return int(returned["MetricStat"]["Period"])
    if "Period" in returned:
        return int(returned["Period"])
    stats = [q["MetricStat"]["Period"] for q in config.get("Metrics") or [] if "MetricStat" in q]
    return int(min(stats)) if stats else 60


def evaluation_time(config: dict[str, Any], now: float) -> float:
    """The end of the evaluation range: ``now`` floored to the evaluation interval."""
    step = interval(config)
    return math.floor(now / step) * step


def evaluation_range(config: dict[str, Any]) -> int:
    n = int(config["EvaluationPeriods"])
    return n + max(n // 3, 2)


def _returned_query(config: dict[str, Any]) -> dict[str, Any] | None:
    for query in config.get("Metrics") or []:
        if query.get("ReturnData", True):
            return dict(query)
    return None


_SIMPLE = ("SampleCount", "Sum", "Minimum", "Maximum", "Average")


def _statistic(config: dict[str, Any]) -> str:
    return str(config.get("Statistic") or config["ExtendedStatistic"])


def _value(stats: PeriodStats, statistic: str) -> float | None:
    simple = {
        "SampleCount": stats.sample_count,
        "Sum": stats.sum,
        "Minimum": stats.minimum,
        "Maximum": stats.maximum,
        "Average": stats.average,
    }
    if statistic in simple:
        return simple[statistic]
    return stats.percentiles.get(statistic)


def _read(
    config: dict[str, Any], reader: MetricReader, start: float, end: float
) -> tuple[list[PeriodStats], str] | None:
    """The datapoints the alarm compares and the statistic they carry; None when they cannot
    be computed (a math expression using what is not supported: the alarm stays as it is)."""
    if "MetricName" not in config:
        return _read_math(config, reader, start, end)
    statistic = _statistic(config)
    stats = reader.period_statistics(
        config["Namespace"], config["MetricName"], dimensions_of(config), start, end,
        period_of(config), config.get("Unit"), _extended(statistic),
    )  # fmt: skip
    return list(stats), statistic


def _extended(statistic: str) -> list[str]:
    return [] if statistic in _SIMPLE else [statistic]


def _read_math(
    config: dict[str, Any], reader: MetricReader, start: float, end: float
) -> tuple[list[PeriodStats], str] | None:
    """A metric math alarm: each MetricStat query read per period, then the expressions
    (GetMetricData's metric math, ``metrics/math.py``) in dependency order; the query that
    returns data is compared."""
    period = period_of(config)
    grid = list(range(int(start), int(end), period))
    values: dict[str, metric_math.Value] = {}
    expressions = []
    for query in config["Metrics"]:
        if "MetricStat" not in query:
            expressions.append(query)
            continue
        stat, metric = query["MetricStat"], query["MetricStat"]["Metric"]
        name = stat["Stat"]
        rows = reader.period_statistics(
            metric.get("Namespace", ""), metric.get("MetricName", ""),
            {d["Name"]: d["Value"] for d in metric.get("Dimensions") or []},
            start, end, int(stat["Period"]), stat.get("Unit"), _extended(name),
        )  # fmt: skip
        values[query["Id"]] = {
            int(row.start): value for row in rows if (value := _value(row, name)) is not None
        }
    while expressions:
        done = []
        for query in expressions:
            try:
                needed = metric_math.references(query["Expression"]) - {"REPEAT", "LINEAR"}
            except metric_math.MathError:
                return None
            if needed - values.keys():
                continue  # needs another expression first
            try:
                values[query["Id"]] = metric_math.evaluate(query["Expression"], values, grid)
            except metric_math.MathError:
                return None
            done.append(query)
        if not done:
            return None  # a reference that nothing defines
        expressions = [q for q in expressions if q not in done]
    returned = _returned_query(config)
    series = values.get(returned["Id"]) if returned else None
    if not isinstance(series, dict):
        return None
    stats = [
        PeriodStats(float(t), 1.0, v, v, v) for t, v in sorted(series.items()) if not math.isnan(v)
    ]
    return stats, "Sum"


def _low_sample_floor(statistic: str) -> float:
    """How many samples a percentile needs when EvaluateLowSampleCountPercentile=ignore."""
    p = float(statistic[1:]) / 100
    if p <= 0 or p >= 1:
        return 0.0
    return 10 / (1 - p) if p >= 0.5 else 10 / p


def evaluate(
    config: dict[str, Any], state: str, reader: MetricReader, now: float
) -> Outcome | None:
    """The state the alarm should be in at ``now``, or None to keep the current one."""
    period = period_of(config)
    n = int(config["EvaluationPeriods"])
    m = int(config.get("DatapointsToAlarm") or n)
    end = evaluation_time(config, now)
    size = evaluation_range(config)
    start = end - size * period
    read = _read(config, reader, start, end)
    if read is None:
        return None
    stats, statistic = read
    by_start = {s.start: s for s in stats}
    points = []
    for i in range(size):
        slot = start + i * period
        found = by_start.get(slot)
        value = None if found is None else _value(found, statistic)
        samples = 0.0 if found is None else found.sample_count
        points.append(_Point(slot, value, samples))
    if (
        is_percentile(statistic)
        and config.get("EvaluateLowSampleCountPercentile") == "ignore"
        and any(p.value is not None and p.samples < _low_sample_floor(statistic) for p in points)
    ):
        return None
    return _decide(config, state, points, n, m, statistic, now)


def _decide(
    config: dict[str, Any],
    state: str,
    points: list[_Point],
    n: int,
    m: int,
    statistic: str,
    now: float,
) -> Outcome | None:
    threshold = float(config["Threshold"])
    _, compare = OPERATORS[config["ComparisonOperator"]]
    real = [p for p in points if p.value is not None]
    treat = config.get("TreatMissingData") or "missing"
    if config.get("Namespace") == "AWS/DynamoDB":
        treat = "ignore"
    report = _Report(config, state, points, n, m, threshold, statistic, now)

    def breaching(p: _Point) -> bool:
        return p.value is not None and compare(p.value, threshold)

    if len(real) >= n:
        evaluated = real[-n:]
        bad = sum(map(breaching, evaluated))
        return report.crossed("ALARM" if bad >= m else "OK", evaluated, [])
    if treat in ("breaching", "notBreaching"):
        missing_slots = [p for p in points if p.value is None]
        fills = missing_slots[len(missing_slots) - (n - len(real)) :]
        bad = sum(map(breaching, real)) + (len(fills) if treat == "breaching" else 0)
        new = "ALARM" if bad >= m else "OK"
        if not real:
            return report.nothing_received(new, len(fills), treat)
        return report.crossed(new, real, fills, treat)
    bad = sum(map(breaching, real))
    if bad >= m:
        return report.crossed("ALARM", real, [])
    if any(not breaching(p) for p in real):
        return report.crossed("OK", real, [])
    if treat == "ignore":
        return None
    if not real:
        return report.unknown()
    last = points[-n:]
    oldest = next((i for i, p in enumerate(last) if breaching(p)), None)
    if oldest is not None and n - oldest >= m:
        return report.crossed("ALARM", [p for p in last if p.value is not None], [])
    return None


class _Report:
    """StateReason and StateReasonData for one evaluation, in AWS's wording."""

    def __init__(
        self,
        config: dict[str, Any],
        state: str,
        points: Sequence[_Point],
        n: int,
        m: int,
        threshold: float,
        statistic: str,
        now: float,
    ) -> None:
        self.config, self.state, self.points = config, state, points
        self.n, self.m, self.threshold, self.statistic, self.now = n, m, threshold, statistic, now

    def _data(self, evaluated: Sequence[_Point]) -> str:
        period = period_of(self.config)
        recent = self.points[-self.n :]
        data: dict[str, Any] = {"version": "1.0", "queryDate": iso_millis(self.now * 1000)}
        data["startDate"] = iso_millis(recent[0].start * 1000)
        if self.config.get("Unit"):
            data["unit"] = self.config["Unit"]
        if "Metrics" in self.config:
            pass  # a math alarm compares an expression, not a statistic
        elif self.statistic not in _SIMPLE:
            data["extendedStatistic"] = self.statistic
        else:
            data["statistic"] = self.statistic
        data["period"] = period
        data["recentDatapoints"] = [p.value for p in recent if p.value is not None]
        data["threshold"] = self.threshold
        shown = []
        for p in sorted(evaluated, key=lambda p: -p.start):
            item: dict[str, Any] = {"timestamp": iso_millis(p.start * 1000)}
            if p.value is not None:
                item["sampleCount"] = float(p.samples)
                item["value"] = p.value
            shown.append(item)
        data["evaluatedDatapoints"] = shown
        text = json.dumps(data, separators=(",", ":"))
        while len(text) > MAX_REASON_DATA and shown:  # long ranges: the newest points fit
            shown.pop()
            text = json.dumps(data, separators=(",", ":"))
        return text

    def crossed(
        self,
        new: str,
        real: Sequence[_Point],
        fills: Sequence[_Point],
        treat: str | None = None,
    ) -> Outcome:
        """``Threshold Crossed: k out of the last N datapoints [...] was ...``."""
        words, compare = OPERATORS[self.config["ComparisonOperator"]]
        alarm = new == "ALARM"
        listed = [p for p in real if compare(p.value, self.threshold) == alarm]
        listed.sort(key=lambda p: -p.start)
        shown = ", ".join(f"{java_double(p.value)} ({reason_time(p.start)})" for p in listed)  # type: ignore[arg-type]
        verb = "was" if len(listed) == 1 else "were"
        negation = "" if alarm else "not "
        phrase = f"{verb} {negation}{words} the threshold ({java_double(self.threshold)})"
        if "DatapointsToAlarm" in self.config:
            head = f"{len(listed)} out of the last {self.n} datapoints [{shown}] {phrase}"
        else:
            plural = "datapoint" if len(listed) == 1 else "datapoints"
            head = f"{len(listed)} {plural} [{shown}] {phrase}"
        reason = f"Threshold Crossed: {head}"
        if fills:
            kind = "Breaching" if treat == "breaching" else "NonBreaching"
            reason += f" and {len(fills)} missing datapoints were treated as [{kind}]"
        if "DatapointsToAlarm" in self.config:
            needed = f"{self.m} datapoint{'s' if self.m != 1 else ''}"
            reason += f" (minimum {needed} for {self.state} -> {new} transition)"
        reason += "."
        if len(reason) > MAX_REASON:
            reason = reason[: MAX_REASON - 3] + "..."
        return Outcome(new, reason, self._data([*real[-self.n :], *fills]))

    def nothing_received(self, new: str, filled: int, treat: str) -> Outcome:
        kind = "Breaching" if treat == "breaching" else "NonBreaching"
        periods = f"{self.n} period{'s' if self.n != 1 else ''}"
        reason = (
            f"Threshold Crossed: no datapoints were received for {periods} and {filled} "
            f"missing datapoint{'s' if filled != 1 else ''} {'was' if filled == 1 else 'were'} "
            f"treated as [{kind}]."
        )
        return Outcome(new, reason, self._data(self.points[-self.n :]))

    def unknown(self) -> Outcome:
        count = f"{self.n} datapoint{'s' if self.n != 1 else ''}"
        reason = f"Insufficient Data: {count} {'was' if self.n == 1 else 'were'} unknown."
        return Outcome("INSUFFICIENT_DATA", reason, self._data(self.points[-self.n :]))
