"""Subscriptions: each subscription's state, lag in events and seconds, deliveries, failed
attempts and errors (the dispatcher's status); the dead letters, decoded, redrivable one by
one or all at once (the dispatcher's redrive: the destination they were meant for).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from logsieve.api.admin import describe_letter
from logsieve.destinations import DeliveryError

from ..page import Page, form, query, services
from ..render import render, url


def _status(request: Request) -> list[dict[str, Any]]:
    dispatcher = services(request).dispatcher
    return [] if dispatcher is None else dispatcher.status()


def _letters(request: Request, everything: bool) -> list[dict[str, Any]]:
    """Dead letters with their payload decoded and pretty-printed for the page."""
    store = services(request).dead_letters
    if store is None:
        return []
    letters = []
    for letter in store.list(everything):
        described = describe_letter(letter, with_payload=True)
        payload = described.get("payload")
        described["pretty"] = json.dumps(payload, indent=2) if payload else described["data"]
        letters.append(described)
    return letters


async def subscriptions(request: Request) -> Response:
    everything = query(request, "all") == "1"
    status = await run_in_threadpool(_status, request)
    letters = await run_in_threadpool(_letters, request, everything)
    return await render(
        request, "subscriptions.html.j2", active="subscriptions", status=status,
        letters=letters, everything=everything, error=query(request, "error"),
        notice=query(request, "notice"), present=services(request).dispatcher is not None,
    )  # fmt: skip


async def status_fragment(request: Request) -> Response:
    """The status table alone: the page refreshes it every few seconds (htmx)."""
    status = await run_in_threadpool(_status, request)
    return await render(request, "_subscription_status.html.j2", status=status)


def _redrive(request: Request, letter_id: int) -> str:
    """Deliver one dead letter again; what happened, in words (a worker thread)."""
    try:
        letter = services(request).dispatcher.redrive(letter_id)
    except LookupError:
        return f"No dead letter {letter_id}."
    except DeliveryError as exc:
        return f"Dead letter {letter_id} failed again: {exc}"
    return f"Dead letter {letter_id}: delivered {letter.event_count} events."


async def redrive(request: Request) -> Response:
    raw = (await form(request)).get("id", "")
    if not raw.isdigit() or services(request).dispatcher is None:
        return RedirectResponse(url("/subscriptions", error=f"No dead letter {raw}."), 303)
    said = await run_in_threadpool(_redrive, request, int(raw))
    key = "notice" if ": delivered" in said else "error"
    return RedirectResponse(url("/subscriptions", **{key: said}), 303)


async def redrive_all(request: Request) -> Response:
    """Every pending dead letter, oldest first; a failure does not stop the others."""
    store, dispatcher = services(request).dead_letters, services(request).dispatcher
    if store is None or dispatcher is None:
        return RedirectResponse(url("/subscriptions"), 303)
    pending = await run_in_threadpool(store.list, False)
    said = [await run_in_threadpool(_redrive, request, letter.id) for letter in pending]
    failed = [s for s in said if ": delivered" not in s]
    done = len(said) - len(failed)
    notice = f"Redrove {done} of {len(said)} dead letters."
    return RedirectResponse(url("/subscriptions", notice=notice, error=" ".join(failed[:5])), 303)


PAGE = Page(
    name="subscriptions",
    title="Subscriptions",
    nav="/subscriptions",
    order=50,
    routes=[
        Route("/subscriptions", subscriptions, methods=["GET"]),
        Route("/subscriptions/status", status_fragment, methods=["GET"]),
        Route("/subscriptions/redrive", redrive, methods=["POST"]),
        Route("/subscriptions/redrive-all", redrive_all, methods=["POST"]),
    ],
)
