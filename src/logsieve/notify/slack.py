"""Slack channel: an incoming-webhook message with a ``text`` fallback and Block Kit blocks.

Layout: a header block (the title), a section with the body as mrkdwn, and a context block
with severity, source and time. Slack's limits are respected by truncating with "…": header
text 150 characters, section text 3000, top-level text 40,000. In mrkdwn, ``&``, ``<`` and
``>`` are escaped as Slack asks, so log content can never ping ``<!channel>`` or forge links.
"""

from __future__ import annotations

import json
from typing import Any

from .httpjson import JsonPoster
from .message import Notification
from .policy import DEFAULT_POLICY, DeliveryPolicy
from .render import ELLIPSIS, iso_time, truncate

__all__ = ["SlackChannel", "slack_payload"]

HEADER_LIMIT = 150
SECTION_LIMIT = 3000
TEXT_LIMIT = 40_000

_EMOJI = {
    "critical": ":rotating_light:",
    "error": ":red_circle:",
    "warning": ":warning:",
    "info": ":information_source:",
}


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters, and nothing else, as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit_mrkdwn(text: str, limit: int) -> str:
    """Escape, then cut to ``limit`` characters without splitting an ``&amp;``-style entity."""
    escaped = escape_mrkdwn(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    amp = cut.rfind("&", max(0, len(cut) - 4))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + ELLIPSIS


def slack_payload(note: Notification) -> dict[str, Any]:
    """The webhook body for ``note``."""
    header = truncate(" ".join(note.title.split()) or "(no title)", HEADER_LIMIT)
    body = note.text.strip() or " "
    context = [f"{_EMOJI.get(note.severity, '')} *{escape_mrkdwn(note.severity)}*".strip()]
    if note.source:
        context.append(f"source: {fit_mrkdwn(note.source, 200)}")
    if note.timestamp:
        # Slack shows <!date^...> in each reader's own time zone; the fallback is UTC.
        seconds = note.timestamp // 1000
        context.append(
            f"<!date^{seconds}^{{date_short_pretty}} {{time_secs}}|{iso_time(note.timestamp)}>"
        )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": fit_mrkdwn(body, SECTION_LIMIT)}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": c} for c in context]},
    ]
    fallback = fit_mrkdwn(f"{note.title}\n{note.text}".strip(), TEXT_LIMIT)
    return {"text": fallback, "blocks": blocks}


class SlackChannel:
    """Posts to one incoming-webhook URL (the URL is the secret: it is never logged)."""

    def __init__(
        self,
        name: str,
        webhook_url: str,
        timeout: float = 10.0,
        policy: DeliveryPolicy = DEFAULT_POLICY,
    ) -> None:
        self.name = name
        self.policy = policy
        self.webhook_url = webhook_url
        self._poster = JsonPoster(f"Slack ({name})", timeout)

    def __repr__(self) -> str:
        return f"SlackChannel(name={self.name!r})"

    def send(self, note: Notification) -> None:
        body = json.dumps(slack_payload(note), ensure_ascii=False).encode("utf-8")
        # Webhooks answer 200 "ok"; errors are 4xx/5xx with a short code such as
        # invalid_payload, channel_not_found or channel_is_archived (see JsonPoster).
        self._poster.post(self.webhook_url, body, {})

    def close(self) -> None:
        self._poster.close()
