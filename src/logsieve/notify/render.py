"""Small text helpers every channel needs: fit a service's length limits, show a time."""

from __future__ import annotations

import html
from datetime import UTC, datetime

__all__ = ["ELLIPSIS", "html_from_text", "iso_time", "truncate", "truncate_bytes"]

ELLIPSIS = "…"


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in "…" when it was cut."""
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    return text[: limit - 1].rstrip() + ELLIPSIS


def truncate_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes (never inside a character), with "…"."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = limit - len(ELLIPSIS.encode("utf-8"))
    return data[: max(room, 0)].decode("utf-8", "ignore").rstrip() + ELLIPSIS


def iso_time(timestamp_ms: int) -> str:
    """Milliseconds since the epoch as ISO 8601 UTC, e.g. ``2024-05-01T12:00:00Z``."""
    moment = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def html_from_text(title: str, text: str, details: list[tuple[str, str]] | None = None) -> str:
    """A small HTML rendering of a plain-text body: escaped, line breaks kept.

    Plain text goes in as text, never as markup, so a log line like ``<script>`` is shown,
    not run. ``details`` are label/value rows shown under the body (severity, source...).
    """
    rows = "".join(
        f'<tr><td style="color:#666;padding-right:12px">{html.escape(label)}</td>'
        f"<td>{html.escape(value)}</td></tr>"
        for label, value in (details or [])
    )
    table = f'<table style="font-size:13px;margin-top:16px">{rows}</table>' if rows else ""
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>'
        '<body style="font-family:sans-serif">'
        f'<h2 style="font-size:18px">{html.escape(title)}</h2>'
        f'<div style="white-space:pre-wrap;font-family:monospace">{html.escape(text)}</div>'
        f"{table}</body></html>\n"
    )
