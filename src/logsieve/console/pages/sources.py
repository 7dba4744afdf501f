"""Sources: each ``[[sources]]`` entry this server runs (``Sources.status()``, as ``logsieve
sources`` and ``GET /_logsieve/sources`` show it): kind, state, events received since the
server started, the last event written, lag behind the remote, position (checkpoint) and the
last error. A server without sources says how to add one.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..page import Page, services
from ..render import render


def ago(seconds_epoch: float | None, now: float) -> str:
    """``12.3 s ago`` (``never`` for None): how long since a wall-clock time in seconds."""
    if seconds_epoch is None:
        return "never"
    elapsed = max(0.0, now - seconds_epoch)
    return f"{elapsed:.1f} s ago" if elapsed < 60 else f"{elapsed / 60:.0f} min ago"


def position_text(position: dict[str, Any]) -> str:
    """A source's position as ``key=value`` pairs (shards, tokens, timestamps)."""
    return ", ".join(f"{key}={value}" for key, value in sorted(position.items()))


async def sources(request: Request) -> Response:
    running = services(request).extra.get("sources")
    now = time.time()
    found = []
    for item in running.status() if running is not None else []:
        found.append({
            **item, "last_event": ago(item["lastEventTime"], now),
            "position_text": position_text(item.get("position") or {}),
            "error_ms": int(item["lastErrorTime"] * 1000) if item["lastErrorTime"] else None,
        })  # fmt: skip
    return await render(request, "sources.html.j2", active="sources", sources=found)


PAGE = Page(
    name="sources",
    title="Sources",
    nav="/sources",
    order=80,
    routes=[Route("/sources", sources, methods=["GET"])],
)
