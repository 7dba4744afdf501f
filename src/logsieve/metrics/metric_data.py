"""GetMetricData: MetricStat queries and metric math, ordered, capped and paged.

Each ``MetricStat`` query reads its metric per period (aligned as GetMetricStatistics aligns
StartTime); each ``Expression`` is metric math over the other queries (``math``), evaluated
after the queries it names (a cycle is refused). Results are the queries with ``ReturnData``
(default true), newest first unless ``ScanBy`` is ``TimestampAscending``. ``MaxDatapoints``
caps the points of one answer over all results; the rest comes with ``NextToken`` (the
request must be repeated unchanged, as on AWS), and results cut short say ``PartialData``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from logsieve import tokens
from logsieve.errors import ServiceError
from logsieve.storage.metrics import MetricKey, MetricStore, dimension_key

from .math import MathError, Series, Value, evaluate, references
from .periods import align_start, check_period, to_seconds
from .statistics import BASIC, basic, parse_percentile, percentile

__all__ = ["MAX_DATAPOINTS", "get_metric_data"]

MAX_DATAPOINTS = 100_800
_INVALID = "InvalidParameterValue"
_COMBINATION = "InvalidParameterCombination"


def _where(index: int) -> str:
    return f"MetricDataQueries.member.{index}"


def get_metric_data(
    store: MetricStore,
    params: Mapping[str, Any],
    now: float,
) -> dict[str, Any]:
    queries = list(params["MetricDataQueries"])
    start, end = to_seconds(params["StartTime"]), to_seconds(params["EndTime"])
    if start >= end:
        raise ServiceError(
            _INVALID, "The parameter StartTime must be less than the parameter EndTime."
        )
    if len(queries) > 500:
        raise ServiceError(
            _INVALID, "The collection MetricDataQueries must not contain more than 500 items."
        )
    offset = 0
    if params.get("NextToken") is not None:
        state = tokens.decode(params["NextToken"], {"o": tokens.is_int})
        if state is None or state["o"] < 0:
            raise ServiceError("InvalidNextToken", "The service returned an invalid token.")
        offset = state["o"]
    by_id: dict[str, tuple[int, Mapping[str, Any]]] = {}
    for index, query in enumerate(queries, 1):
        if query["Id"] in by_id:
            raise ServiceError(
                _INVALID,
                f"The value {query['Id']} for parameter {_where(index)}.Id is a duplicate.",
            )
        if (query.get("MetricStat") is None) == (query.get("Expression") is None):
            raise ServiceError(
                _COMBINATION,
                f"Exactly one of {_where(index)}.MetricStat and {_where(index)}.Expression must "
                "be specified.",
            )
        by_id[query["Id"]] = (index, query)

    periods = [q["MetricStat"]["Period"] for q in queries if q.get("MetricStat")]
    periods += [q["Period"] for q in queries if q.get("Expression") and q.get("Period")]
    period = min(periods) if periods else 60
    grid_start = align_start(start, period, now)
    grid = list(range(grid_start, math.ceil(end), period))

    values: dict[str, Value] = {}
    labels: dict[str, str] = {}
    for qid, (index, query) in by_id.items():
        stat = query.get("MetricStat")
        if stat is not None:
            values[qid] = _metric_stat(store, stat, index, start, end, now)
            labels[qid] = query.get("Label") or stat["Metric"]["MetricName"]
    pending = {qid for qid, (_, q) in by_id.items() if q.get("Expression") is not None}
    needs = {}
    for qid in pending:
        index, query = by_id[qid]
        try:
            needs[qid] = references(query["Expression"]) - {"REPEAT", "LINEAR"}
        except MathError as error:
            raise _expression_error(index, query, error) from None
    while pending:
        ready = [qid for qid in sorted(pending) if not (needs[qid] & pending)]
        if not ready:
            raise ServiceError(
                _INVALID, "Circular dependency between metric math expressions: "
                + ", ".join(sorted(pending)) + ".",
            )  # fmt: skip
        for qid in ready:
            index, query = by_id[qid]
            try:
                values[qid] = evaluate(query["Expression"], values, grid)
            except MathError as error:
                raise _expression_error(index, query, error) from None
            labels[qid] = query.get("Label") or qid
            pending.discard(qid)

    ascending = params.get("ScanBy") == "TimestampAscending"
    budget = params.get("MaxDatapoints") or MAX_DATAPOINTS
    skipped, sent = offset, 0
    results, more = [], False
    for qid, (index, query) in by_id.items():
        if query.get("ReturnData") is False:
            continue
        series = _as_series(values[qid], grid, index, query)
        stamps = sorted((t for t, v in series.items() if not math.isnan(v)), reverse=not ascending)
        drop = min(skipped, len(stamps))
        skipped -= drop
        stamps = stamps[drop:]
        take = stamps[: max(budget - sent, 0)]
        sent += len(take)
        partial = len(take) < len(stamps)
        more = more or partial
        results.append(
            {
                "Id": qid,
                "Label": labels[qid],
                "Timestamps": [float(t) for t in take],
                "Values": [series[t] for t in take],
                "StatusCode": "PartialData" if partial else "Complete",
                "Messages": [],
            }
        )
    answer: dict[str, Any] = {"MetricDataResults": results, "Messages": []}
    if more:
        answer["NextToken"] = tokens.encode({"o": offset + sent})
    return answer


def _metric_stat(
    store: MetricStore,
    stat: Mapping[str, Any],
    index: int,
    start: float,
    end: float,
    now: float,
) -> Series:
    period, name = stat["Period"], stat["Stat"]
    check_period(period)
    p = parse_percentile(name)
    if name not in BASIC and p is None:
        raise ServiceError(
            _INVALID,
            f"The value {name} for parameter {_where(index)}.MetricStat.Stat is not supported "
            "by logsieve (SampleCount, Average, Sum, Minimum, Maximum and pNN are).",
        )
    metric = stat["Metric"]
    key: MetricKey = (
        metric.get("Namespace", ""),
        metric.get("MetricName", ""),
        dimension_key({d["Name"]: d["Value"] for d in metric.get("Dimensions") or ()}),
    )
    buckets = store.buckets(
        key, align_start(start, period, now), math.ceil(end), period, stat.get("Unit"),
        per_unit=False, raw_values=p is not None,
    )  # fmt: skip
    out: Series = {}
    for bucket in buckets:
        value = basic(bucket, name) if p is None else percentile(bucket.values, p)
        if value is not None:
            out[bucket.start] = value
    return out


def _as_series(value: Value, grid: list[int], index: int, query: Mapping[str, Any]) -> Series:
    if isinstance(value, dict):
        return value
    if isinstance(value, float):
        return dict.fromkeys(grid, value)  # a number is drawn as a line over the range
    raise ServiceError(
        _INVALID,
        f"The expression {query.get('Expression')} in {_where(index)}.Expression returns an "
        "array of time series; reduce it with SUM, AVG, MIN or MAX.",
    )


def _expression_error(index: int, query: Mapping[str, Any], error: MathError) -> ServiceError:
    return ServiceError(
        _INVALID,
        f"Error in expression {query['Id']} ({_where(index)}.Expression): {error}.",
    )
