"""Metrics and alarms: a metric's statistic over a time range (a uPlot chart, and the same
points as a table without JavaScript), with the thresholds of the alarms on it drawn; every
alarm's state, and a chosen alarm's history. All through the CloudWatch operations in
process (``extra["cloudwatch"]``), so the console reads what GetMetricStatistics returns.
"""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from logsieve.errors import ServiceError

from ..page import Page, query, services
from ..render import render

RANGES = {"1h": 3600, "3h": 3 * 3600, "12h": 12 * 3600, "24h": 86400, "7d": 7 * 86400}
STATISTICS = ("Sum", "Average", "Maximum", "Minimum", "SampleCount")
MAX_POINTS = 1440  # GetMetricStatistics allows 1440 datapoints per call


def _dimensions(text: str) -> list[dict[str, str]]:
    """``"a=1,b=2"`` as CloudWatch's Dimensions list."""
    pairs = [part.split("=", 1) for part in text.split(",") if "=" in part]
    return [{"Name": k.strip(), "Value": v.strip()} for k, v in pairs]


def _period(seconds: int) -> int:
    """The smallest whole minute period that keeps the range within ``MAX_POINTS``."""
    minutes = max(1, -(-seconds // (60 * MAX_POINTS)))
    return minutes * 60


def _call(request: Request, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    return services(request).extra["cloudwatch"][operation](params) or {}


def _read(request: Request, chosen: dict[str, Any]) -> dict[str, Any]:
    """Metrics, alarms, and the chosen metric's points and alarm history (a worker thread)."""
    found: dict[str, Any] = {"points": [], "history": [], "thresholds": []}
    listed = _call(request, "ListMetrics", {"Namespace": chosen["namespace"]} if
                   chosen["namespace"] else {})  # fmt: skip
    found["metrics"] = listed.get("Metrics", [])
    found["alarms"] = _call(request, "DescribeAlarms", {}).get("MetricAlarms", [])
    for alarm in found["alarms"]:  # the chart link's dimensions box
        dims = alarm.get("Dimensions", [])
        alarm["dimsText"] = ",".join(f"{d['Name']}={d['Value']}" for d in dims)
        alarm["updatedMs"] = _ms(alarm.get("StateUpdatedTimestamp"))
    if chosen["namespace"] and chosen["name"]:
        end = time.time()
        seconds = RANGES[chosen["range"]]
        stats = _call(request, "GetMetricStatistics", {
            "Namespace": chosen["namespace"], "MetricName": chosen["name"],
            "Dimensions": _dimensions(chosen["dims"]), "StartTime": end - seconds,
            "EndTime": end, "Period": _period(seconds), "Statistics": [chosen["stat"]],
        })  # fmt: skip
        points = sorted(stats.get("Datapoints", []), key=lambda p: _seconds(p["Timestamp"]))
        found["points"] = [(_seconds(p["Timestamp"]), p[chosen["stat"]]) for p in points]
        dims = sorted((d["Name"], d["Value"]) for d in _dimensions(chosen["dims"]))
        found["thresholds"] = [
            {"alarm": a["AlarmName"], "value": a["Threshold"], "state": a["StateValue"]}
            for a in found["alarms"]
            if a.get("Namespace") == chosen["namespace"] and a.get("MetricName") ==
            chosen["name"] and sorted((d["Name"], d["Value"]) for d in a.get("Dimensions", []))
            == dims and "Threshold" in a
        ]  # fmt: skip
    if chosen["alarm"]:
        history = _call(request, "DescribeAlarmHistory", {"AlarmName": chosen["alarm"]})
        found["history"] = history.get("AlarmHistoryItems", [])
        for item in found["history"]:
            item["ms"] = _ms(item.get("Timestamp"))
    return found


def _seconds(value: Any) -> float:
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def _ms(value: Any) -> int | None:
    return None if value is None else int(_seconds(value) * 1000)


async def metrics(request: Request) -> Response:
    chosen = {
        "namespace": query(request, "namespace"), "name": query(request, "name"),
        "dims": query(request, "dims"), "alarm": query(request, "alarm"),
        "range": query(request, "range", "3h"), "stat": query(request, "stat", "Sum"),
    }  # fmt: skip
    chosen["range"] = chosen["range"] if chosen["range"] in RANGES else "3h"
    chosen["stat"] = chosen["stat"] if chosen["stat"] in STATISTICS else "Sum"
    if "cloudwatch" not in services(request).extra:
        what = "CloudWatch metrics on this server"
        return await render(request, "missing.html.j2", 404, what=what)
    error, found = "", {"metrics": [], "alarms": [], "points": [], "history": [],
                        "thresholds": []}  # fmt: skip
    try:
        found = await run_in_threadpool(_read, request, chosen)
    except ServiceError as failure:
        error = f"{failure.code}: {failure.message}"
    chart = {"points": found["points"], "thresholds": found["thresholds"],
             "label": f"{chosen['name']} ({chosen['stat']})"}  # fmt: skip
    return await render(
        request, "metrics.html.j2", 400 if error else 200, active="metrics", c=chosen,
        ranges=list(RANGES), statistics=STATISTICS, chart=json.dumps(chart), error=error,
        notice="", **found,
    )  # fmt: skip


PAGE = Page(
    name="metrics",
    title="Metrics and alarms",
    nav="/metrics",
    order=70,
    routes=[Route("/metrics", metrics, methods=["GET"])],
)
