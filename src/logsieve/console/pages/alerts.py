"""Alerts: each rule (pattern, log groups, mode, dedup and digest windows) with the events its
standing subscription handed the engine, its lag and errors, and what the engine did with them
since the server started (processed, duplicates suppressed, notifications, ingest-to-alert
latency); the digest windows still open; the notification outbox per channel kind (pending,
sent, failed attempts, given up, failing destinations); given-up notifications, redrivable one
by one or all.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from logsieve.alerts.activity import HandedOver
from logsieve.notify.codec import notification_from_json
from logsieve.storage import LogsStore
from logsieve.storage.records import parse_event_id

from ..page import Page, form, query, services
from ..render import render, url


def latencies(store: LogsStore, recent: Sequence[HandedOver]) -> list[int]:
    """Ingest-to-alert latency (ms) of each notification an event caused: from the event's
    ``ingestionTime`` (the server committed it) to the engine handing the notification to
    the outbox. Events since deleted are left out."""
    groups: dict[str, Any] = {}
    found = []
    for item in recent:
        if item.log_group not in groups:
            groups[item.log_group] = store.group(item.log_group)
        group = groups[item.log_group]
        try:
            _, seq = parse_event_id(item.event_id)
        except ValueError:
            continue
        events = store.read_after(seq - 1, 1, group.id) if group is not None and seq else []
        if events and events[0][1] == seq:
            found.append(item.handed_over - events[0][4])
    return found


def _latency_text(values: list[int]) -> str:
    if not values:
        return ""
    return f"{statistics.median(values):.0f} / {max(values)} ms ({len(values)})"


def _rules(request: Request) -> tuple[list[dict[str, Any]], list[Any]]:
    """Each rule with its standing subscription's figures (``alert:<rule>``) and the engine's
    activity; and the open digest windows."""
    found = services(request)
    if found.alerts is None:
        return [], []
    status = {}
    if found.dispatcher is not None:
        status = {s["filterName"]: s for s in found.dispatcher.status()}
    engine = found.alerts.engine
    activity, windows = engine.activity(), engine.open_windows()
    store = found.logs.ctx.store
    rules = []
    for rule in found.alerts.rules:
        done = activity.get(rule.name)
        rules.append({
            "rule": rule, "status": status.get(f"alert:{rule.name}"), "activity": done,
            "latency": _latency_text(latencies(store, done.recent) if done else []),
            "windows": sum(1 for w in windows if w.rule == rule.name),
        })  # fmt: skip
    return rules, windows


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
    rules, windows = await run_in_threadpool(_rules, request)
    channels = await run_in_threadpool(outbox.status) if outbox else []
    failures = await run_in_threadpool(_failures, request) if outbox else []
    return await render(
        request, "alerts.html.j2", active="alerts", rules=rules, windows=windows,
        channels=channels,
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
