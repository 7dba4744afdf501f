"""Checks: ``logsieve check``'s logging-posture checks run against this server's own API (its
VPCs and their flow logs, Client VPN endpoints, trails and their delivery to CloudWatch Logs,
log groups and subscriptions), pass, fail or skipped, each failure with the resources it
names, why it matters and the fix (the aws CLI lines ``logsieve check`` prints).

The checks call the API over HTTP with boto3 at the URL the page was asked on, signed with
the server's first key pair: the same requests ``logsieve check --endpoint-url`` makes.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..page import Page, services
from ..render import render


async def checks(request: Request) -> Response:
    run = services(request).extra.get("checks")
    if run is None:
        return await render(request, "checks.html.j2", active="checks", results=None,
                            caller=None, counts={})  # fmt: skip
    endpoint = str(request.base_url).rstrip("/")
    caller, results = await run_in_threadpool(run, endpoint)
    counts = {status: sum(r.status == status for r in results)
              for status in ("pass", "fail", "skipped")}  # fmt: skip
    return await render(request, "checks.html.j2", active="checks", results=results,
                        caller=caller, counts=counts, endpoint=endpoint)  # fmt: skip


PAGE = Page(
    name="checks",
    title="Checks",
    nav="/checks",
    order=90,
    routes=[Route("/checks", checks, methods=["GET"])],
)
