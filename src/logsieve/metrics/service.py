"""The CloudWatch metrics operations: PutMetricData, ListMetrics, GetMetricStatistics.

Plain values in (validated against botocore's model by the API layer), plain values out,
``ServiceError`` with CloudWatch's Query codes (the protocols map them to the shape names and
the ``x-amzn-query-error`` header). Messages are AWS's, as recorded against real AWS
(aws-wave2.md section 1).

Retention: observations are kept 455 days (CloudWatch's longest tier, 15 months) at the
resolution they were published with; AWS's roll-ups to 5-minute and 1-hour data after 15 and
63 days are not emulated (older data stays readable at any period), and sub-minute periods
are answered for any age instead of for the last 3 hours only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from logsieve import tokens
from logsieve.errors import Operation, ServiceError
from logsieve.storage.metrics import MetricKey, MetricStore, Observation, dimension_key

from . import datums
from .metric_data import get_metric_data
from .periods import align_start, check_period, to_seconds
from .statistics import basic, parse_percentile, percentile

__all__ = [
    "INVALID_COMBINATION",
    "INVALID_VALUE",
    "RETENTION_SECONDS",
    "MetricsService",
]

INVALID_VALUE = "InvalidParameterValue"
INVALID_COMBINATION = "InvalidParameterCombination"
MISSING = "MissingParameter"
INVALID_TOKEN = "InvalidNextToken"

RETENTION_SECONDS = 455 * 86400
MAX_DATAPOINTS = 1440
LIST_PAGE = 500
_TWO_WEEKS = 14 * 86400
_TWO_HOURS = 2 * 3600
_LIMIT = datums.LIMIT


def _invalid(message: str) -> ServiceError:
    return ServiceError(INVALID_VALUE, message)


def _shown(value: float) -> str:
    """A number as AWS's messages show it (``NaN``, ``Infinity``, ``1.0E200``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def _dimensions(items: Sequence[Any] | None) -> dict[str, str]:
    """Dimensions as sent (dicts, or the JSON fast path's structs) as a name -> value map."""
    out = {}
    for item in items or ():
        if type(item) is dict or isinstance(item, Mapping):
            out[item["Name"]] = item["Value"]
        else:
            out[item.Name] = item.Value
    return out


class MetricsService:
    """CloudWatch's metric operations over a ``MetricStore``; ``now`` is the clock."""

    def __init__(self, store: MetricStore, now: Callable[[], float] = time.time) -> None:
        self.store = store
        self.now = now
        self.operations: dict[str, Operation] = {
            "PutMetricData": self.put_metric_data,
            "ListMetrics": self.list_metrics,
            "GetMetricStatistics": self.get_metric_statistics,
            "GetMetricData": self.get_metric_data,
        }

    # -- PutMetricData -------------------------------------------------------------------

    def put_metric_data(self, params: dict[str, Any]) -> None:
        namespace = params["Namespace"]
        data = list(params.get("MetricData") or ())
        for entity in params.get("EntityMetricData") or ():
            data.extend(entity.get("MetricData") or ())
        if len(data) > 1000:
            raise _invalid(
                f"The collection MetricData must not contain more than 1000 items; "
                f"it contains {len(data)}."
            )
        now = self.now()
        observations = datums.observe(
            namespace, data, now - _TWO_WEEKS, now + _TWO_HOURS, now,
            lambda datum, where: self.observations(namespace, datum, where, now),
        )  # fmt: skip
        self.store.put(observations)

    def observations(
        self, namespace: str, datum: Mapping[str, Any], where: str, now: float
    ) -> list[Observation]:
        """What one ``MetricDatum`` stores, after AWS's checks (``where`` names it in
        messages: ``MetricData.member.3``)."""
        value, values = datum.get("Value"), datum.get("Values")
        stats, counts = datum.get("StatisticValues"), datum.get("Counts")
        if value is not None and values:
            raise ServiceError(
                INVALID_COMBINATION,
                f"The parameters {where}.Value and {where}.Values are mutually exclusive and "
                "you have specified both.",
            )
        if stats is not None and (value is not None or values):
            other = "Value" if value is not None else "Values"
            raise ServiceError(
                INVALID_COMBINATION,
                f"The parameters {where}.{other} and {where}.StatisticValues are mutually "
                "exclusive and you have specified both.",
            )
        if counts and not values:
            raise ServiceError(
                INVALID_COMBINATION,
                f"The parameter {where}.Counts must be specified together with {where}.Values.",
            )
        if values and counts and len(values) != len(counts):
            raise _invalid(
                f"The parameters {where}.Values and {where}.Counts must be of the same size."
            )
        if values and len(values) > 150:
            raise _invalid(f"The collection {where}.Values must not contain more than 150 items.")
        resolution = datum.get("StorageResolution", 60)
        if resolution not in (1, 60):
            raise _invalid(
                f"The value {resolution} for parameter {where}.StorageResolution is invalid."
            )
        dims = datum.get("Dimensions") or ()
        names = [d["Name"] for d in dims]
        if len(set(names)) != len(names):
            raise _invalid(f"No metric may specify the same dimension name twice ({where}).")
        stamp = now if datum.get("Timestamp") is None else to_seconds(datum["Timestamp"])
        if stamp < now - _TWO_WEEKS or stamp > now + _TWO_HOURS:
            raise _invalid(
                f"The parameter {where}.Timestamp must specify a time within the past two weeks."
            )
        second = int(stamp) // resolution * resolution
        metric: MetricKey = (namespace, datum["MetricName"], dimension_key(_dimensions(dims)))
        unit = datum.get("Unit") or "None"
        if stats is not None:
            for key in ("SampleCount", "Sum", "Minimum", "Maximum"):
                _check_number(stats[key], f"{where}.StatisticValues.{key}")
            if stats["SampleCount"] <= 0:
                raise _invalid(
                    f"The value {_shown(stats['SampleCount'])} for parameter "
                    f"{where}.StatisticValues.SampleCount is invalid."
                )
            if stats["Minimum"] > stats["Maximum"]:
                raise _invalid(
                    f"The parameter {where}.StatisticValues.Maximum must be greater than or "
                    f"equal to {where}.StatisticValues.Minimum."
                )
            return [
                Observation(
                    metric,
                    second,
                    unit,
                    stats["SampleCount"],
                    stats["Sum"],
                    stats["Minimum"],
                    stats["Maximum"],
                )
            ]
        if values:
            out = []
            for i, v in enumerate(values):
                _check_number(v, f"{where}.Values.member.{i + 1}")
                c = counts[i] if counts else 1.0
                if not math.isfinite(c) or c < 0:
                    raise _invalid(
                        f"The value {_shown(c)} for parameter {where}.Counts.member.{i + 1} "
                        "is invalid."
                    )
                if c > 0:
                    out.append(Observation(metric, second, unit, c, v * c, v, v))
            return out
        if value is None:
            raise ServiceError(
                MISSING,
                f"The parameter {where}.Value, {where}.Values or {where}.StatisticValues is "
                "required.",
            )
        _check_number(value, f"{where}.Value")
        return [Observation(metric, second, unit, 1.0, value, value, value)]

    # -- ListMetrics ---------------------------------------------------------------------

    def list_metrics(self, params: dict[str, Any]) -> dict[str, Any]:
        wanted = params.get("Dimensions") or ()
        after = None
        if params.get("NextToken") is not None:
            state = tokens.decode(params["NextToken"], {"after": _is_key})
            if state is None:
                raise ServiceError(INVALID_TOKEN, "The service returned an invalid token.")
            after = state["after"]
        found = []
        listed = self.store.metrics(params.get("Namespace"), params.get("MetricName"))
        for metric in sorted(listed, key=_token_key):
            if after is not None and _token_key(metric) <= after:
                continue
            dims = dict(metric[2])
            if all(
                f["Name"] in dims and (f.get("Value") is None or dims[f["Name"]] == f["Value"])
                for f in wanted
            ):
                found.append(metric)
                if len(found) > LIST_PAGE:
                    break
        page = found[:LIST_PAGE]
        result: dict[str, Any] = {
            "Metrics": [
                {
                    "Namespace": ns,
                    "MetricName": name,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in dims],
                }
                for ns, name, dims in page
            ]
        }
        if len(found) > LIST_PAGE:
            result["NextToken"] = tokens.encode({"after": _token_key(page[-1])})
        return result

    # -- GetMetricData -------------------------------------------------------------------

    def get_metric_data(self, params: dict[str, Any]) -> dict[str, Any]:
        return get_metric_data(self.store, params, self.now())

    # -- GetMetricStatistics -------------------------------------------------------------

    def get_metric_statistics(self, params: dict[str, Any]) -> dict[str, Any]:
        statistics = params.get("Statistics") or []
        extended = params.get("ExtendedStatistics") or []
        if statistics and extended:
            raise ServiceError(
                INVALID_COMBINATION,
                "The parameters Statistics and ExtendedStatistics are mutually exclusive and "
                "you have specified both.",
            )
        if not statistics and not extended:
            raise ServiceError(MISSING, "Must specify either Statistics or ExtendedStatistics.")
        for name in extended:
            if parse_percentile(name) is None:
                raise _invalid(
                    f"The value {name} for parameter ExtendedStatistics is not supported."
                )
        period = params["Period"]
        check_period(period)
        start, end = to_seconds(params["StartTime"]), to_seconds(params["EndTime"])
        if start >= end:
            raise _invalid("The parameter StartTime must be less than the parameter EndTime.")
        requested = math.ceil((end - start) / period)
        if requested > MAX_DATAPOINTS:
            raise ServiceError(
                INVALID_COMBINATION,
                f"You have requested up to {requested} datapoints, which exceeds the limit of "
                f"{MAX_DATAPOINTS}. You may reduce the datapoints requested by increasing "
                "Period, or decreasing the time range.",
            )
        aligned = align_start(start, period, self.now())
        metric: MetricKey = (
            params["Namespace"],
            params["MetricName"],
            dimension_key(_dimensions(params.get("Dimensions"))),
        )
        buckets = self.store.buckets(
            metric, aligned, math.ceil(end), period, params.get("Unit"),
            per_unit=True, raw_values=bool(extended),
        )  # fmt: skip
        points = []
        for bucket in buckets:
            point: dict[str, Any] = {"Timestamp": float(bucket.start), "Unit": bucket.unit}
            for name in statistics:
                point[name] = basic(bucket, name)
            if extended:
                found = {}
                for name in extended:
                    value = percentile(bucket.values, parse_percentile(name) or 0.0)
                    if value is not None:
                        found[name] = value
                point["ExtendedStatistics"] = found
            points.append(point)
        return {"Label": params["MetricName"], "Datapoints": points}


def _check_number(value: float, where: str) -> None:
    if not math.isfinite(value) or abs(value) > _LIMIT or (value and abs(value) < 1 / _LIMIT):
        raise _invalid(f"The value {_shown(value)} for parameter {where} is invalid.")


def _token_key(metric: MetricKey) -> list[str]:
    ns, name, dims = metric
    return [ns, name, "\x00".join(f"{k}\x01{v}" for k, v in dims)]


def _is_key(value: Any) -> bool:
    return type(value) is list and len(value) == 3 and all(type(v) is str for v in value)
