"""Alerts: each rule (pattern, log groups, mode, dedup and digest windows) with the events its
standing subscription handed the engine, its lag and errors; the notification outbox per
channel kind (pending, sent, failed attempts, given up, failing destinations); given-up
notifications, redrivable one by one or all.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from logsieve.notify.codec import notification_from_json

from ..page import Page, form, query, services
from ..render import render, url


def _rules(request: Request) -> list[dict[str, Any]]:
    """Each rule with its standing subscription's figures (``alert:<rule>``)."""
    found = services(request)
    if found.alerts is None:
        return []
    status = {}
    if found.dispatcher is not None:
        status = {s["filterName"]: s for s in found.dispatcher.status()}
    return [{"rule": rule, "status": status.get(f"alert:{rule.name}")}
            for rule in found.alerts.rules]  # fmt: skip


def _failures(request: Request) -> list[dict[str, Any]]:
    """Given-up notifications with their title (an SNS delivery has none)."""
    failed = []
    for item in services(request).outbox.failures():
        described = {k: v for k, v in item.items() if k != "payload"}
        try:
            described["title"] = notification_from_json(item["payload"]).title
        except (ValueError, TypeError):
            described["title"] = ""
        failed.append(described)
    return failed


async def alerts(request: Request) -> Response:
    outbox = services(request).outbox
    rules = await run_in_threadpool(_rules, request)
    channels = await run_in_threadpool(outbox.status) if outbox else []
    failures = await run_in_threadpool(_failures, request) if outbox else []
    return await render(
        request, "alerts.html.j2", active="alerts", rules=rules, channels=channels,
        failures=failures, error=query(request, "error"), notice=query(request, "notice"),
    )  # fmt: skip


async def redrive(request: Request) -> Response:
    """Put one given-up notification (``id``) or all of them back in the queue."""
    outbox = services(request).outbox
    raw = (await form(request)).get("id", "")
    if outbox is None or (raw and not raw.isdigit()):
        return RedirectResponse(url("/alerts", error=f"No notification {raw}."), 303)
    ids = [int(raw)] if raw else None
    count = await run_in_threadpool(outbox.redrive, ids)
    if raw and not count:
        return RedirectResponse(url("/alerts", error=f"No given-up notification {raw}."), 303)
    return RedirectResponse(url("/alerts", notice=f"Requeued {count} notifications."), 303)


PAGE = Page(
    name="alerts",
    title="Alerts",
    nav="/alerts",
    order=60,
    routes=[
        Route("/alerts", alerts, methods=["GET"]),
        Route("/alerts/redrive", redrive, methods=["POST"]),
    ],
)
