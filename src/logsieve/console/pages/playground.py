"""Pattern playground: a pattern tried on sample lines (pasted, a bundled sample, or the last
N events of a stream), per line matched or not with the extracted values marked; the filter
as aws CLI / boto3 / Terraform; and a button that creates it (a metric filter, or a
subscription filter, granting CloudWatch Logs permission on a Lambda destination first, as
AWS's console does).

Without JavaScript the form posts and the page answers whole; with it, htmx posts on every
change (debounced) and swaps the results alone (``/playground/results``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from logsieve.errors import ServiceError

from ..page import Page, form, logs_call, services
from ..playground import (
    Target,
    copy_as,
    logs_principal,
    sample,
    samples,
    split_lines,
    statement_id,
    trial,
)
from ..render import render, url

FIELDS = ("pattern", "lines", "sample", "group", "stream", "n", "kind", "name", "namespace",
          "metric", "value", "destination")  # fmt: skip
MAX_N = 1000


def _values(raw: Any) -> dict[str, str]:
    values = {name: str(raw.get(name, "")) for name in FIELDS}
    values["kind"] = "subscription" if values["kind"] == "subscription" else "metric"
    values["value"] = values["value"] or "1"
    values["n"] = values["n"] or "50"
    return values


def _target(request: Request, values: dict[str, str]) -> Target:
    ctx = services(request).logs.ctx
    group = values["group"]
    return Target(
        values["kind"], group, values["name"] or "playground", values["pattern"],
        namespace=values["namespace"] or "LogMetrics", metric=values["metric"] or "Matches",
        value=values["value"], destination=values["destination"], region=ctx.region,
        source_arn=f"{ctx.group_arn(group)}:*",
    )  # fmt: skip


async def _stream_lines(request: Request, values: dict[str, str]) -> str:
    """The last N events of the chosen stream, one per line (AWS's errors raise)."""
    n = max(1, min(MAX_N, int(values["n"]) if values["n"].isdigit() else 50))
    found = await logs_call(
        request, "GetLogEvents", logGroupName=values["group"],
        logStreamName=values["stream"], limit=n, startFromHead=False,
    )  # fmt: skip
    return "\n".join(e["message"].replace("\n", " ") for e in found.get("events", []))


async def _results(request: Request, values: dict[str, str]) -> dict[str, Any]:
    """What the results part shows: the trial, and the filter written out."""
    tried = await run_in_threadpool(trial, values["pattern"], split_lines(values["lines"]))
    snippets = copy_as(_target(request, values)) if values["group"] and not tried.error else {}
    return {"v": values, "trial": tried, "snippets": snippets}


async def _page(request: Request, values: dict[str, str], error: str = "", status: int = 200,
                notice: str = "") -> Response:  # fmt: skip
    return await render(
        request, "playground.html.j2", status, active="playground", samples=samples(),
        error=error, notice=notice, **await _results(request, values),
    )  # fmt: skip


async def playground(request: Request) -> Response:
    """GET: a link's choice (a sample or a stream to load); POST: the form without htmx."""
    raw = await form(request) if request.method == "POST" else request.query_params
    values = _values(raw)
    error = ""
    if request.method == "GET" and values["sample"]:
        values["lines"] = sample(values["sample"])
        if not values["lines"]:
            error = f"No bundled sample {values['sample']}."
    elif request.method == "GET" and values["group"] and values["stream"]:
        try:
            values["lines"] = await _stream_lines(request, values)
        except ServiceError as failure:
            error = f"{failure.code}: {failure.message}"
    notice = request.query_params.get("notice", "")
    return await _page(request, values, error, 400 if error else 200, notice)


async def results(request: Request) -> Response:
    """The results alone, for htmx."""
    values = _values(await form(request))
    return await render(request, "_playground_results.html.j2", **await _results(request, values))


async def create(request: Request) -> Response:
    """Create the metric or subscription filter the form describes."""
    values = _values(await form(request))
    target = _target(request, values)
    try:
        if target.kind == "metric":
            await logs_call(
                request, "PutMetricFilter", logGroupName=target.group, filterName=target.name,
                filterPattern=target.pattern, metricTransformations=[{
                    "metricName": target.metric, "metricNamespace": target.namespace,
                    "metricValue": target.value}],
            )  # fmt: skip
            what = f"metric filter {target.name} ({target.namespace}/{target.metric})"
        else:
            granted = await _grant(request, target)
            await logs_call(
                request, "PutSubscriptionFilter", logGroupName=target.group,
                filterName=target.name, filterPattern=target.pattern,
                destinationArn=target.destination,
            )  # fmt: skip
            what = f"subscription filter {target.name} to {target.destination}"
            if granted:
                what += f" (granted {logs_principal(target.region)} lambda:InvokeFunction)"
    except ServiceError as failure:
        return await _page(request, values, f"{failure.code}: {failure.message}", 400)
    kept = {k: values[k] for k in FIELDS if k != "lines" and values[k]}
    return RedirectResponse(
        url("/playground") + "?" + urlencode({**kept, "notice": f"Created {what}."}), 303
    )


async def _grant(request: Request, target: Target) -> bool:
    """Allow CloudWatch Logs to invoke a Lambda destination (already allowed: no change)."""
    function = target.lambda_function
    lambdas = services(request).extra.get("lambdas")
    if function is None or lambdas is None:
        return False
    params = {"FunctionName": function, "StatementId": statement_id(target),
              "Action": "lambda:InvokeFunction", "Principal": logs_principal(target.region),
              "SourceArn": target.source_arn}  # fmt: skip
    try:
        await run_in_threadpool(lambdas.operations["AddPermission"], params)
    except ServiceError as failure:
        if failure.code == "ResourceConflictException":  # this statement exists already
            return False
        raise
    return True


PAGE = Page(
    name="playground",
    title="Pattern playground",
    nav="/playground",
    order=40,
    routes=[
        Route("/playground", playground, methods=["GET", "POST"]),
        Route("/playground/results", results, methods=["POST"]),
        Route("/playground/create", create, methods=["POST"]),
    ],
)
