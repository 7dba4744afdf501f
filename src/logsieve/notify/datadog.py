"""Datadog channel: Events API v1, ``POST https://api.<site>/api/v1/events``.

Body fields as documented: ``title`` (≤100 characters here), ``text`` (≤4000, sent as Markdown
between ``%%% \\n`` and ``\\n %%%``), ``tags``, ``alert_type`` (error|warning|info|success),
``aggregation_key`` (≤100), ``source_type_name`` and ``date_happened`` (POSIX seconds; Datadog
accepts events up to 18 hours old). The API key goes in the ``DD-API-KEY`` header.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from typing import Any

from .httpjson import JsonPoster
from .message import Notification
from .policy import DEFAULT_POLICY, DeliveryPolicy
from .render import iso_time, truncate

__all__ = ["DEFAULT_SITE", "DatadogChannel", "datadog_event", "events_url"]

DEFAULT_SITE = "datadoghq.com"
TITLE_LIMIT = 100
TEXT_LIMIT = 4000
KEY_LIMIT = 100
MAX_AGE_SECONDS = 18 * 3600
_MARKDOWN_OPEN, _MARKDOWN_CLOSE = "%%% \n", "\n %%%"

ALERT_TYPES = {"critical": "error", "error": "error", "warning": "warning", "info": "info"}


def events_url(site: str = DEFAULT_SITE) -> str:
    """The v1 events endpoint of a Datadog site (``datadoghq.eu``, ``us3.datadoghq.com``...).

    The site is what users see in their browser; ``app.`` in front of it is dropped.
    """
    host = site.strip().lower().removeprefix("https://").rstrip("/")
    host = host.removeprefix("app.").removeprefix("api.")
    return f"https://api.{host}/api/v1/events"


def _aggregation_key(key: str) -> str:
    """At most 100 characters; a longer key keeps its start and a hash of the whole, so two
    different long keys never collapse into one group."""
    if len(key) <= KEY_LIMIT:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"{key[: KEY_LIMIT - 33]}-{digest}"


def datadog_event(
    note: Notification,
    tags: Sequence[str] = (),
    source_type_name: str = "my_apps",
    now: float | None = None,
) -> dict[str, Any]:
    """The event body for ``note`` (``tags`` are the channel's own, added to the note's)."""
    now = time.time() if now is None else now
    body = note.text.strip()
    happened = note.timestamp // 1000 if note.timestamp else None
    if happened is not None and happened < now - MAX_AGE_SECONDS + 60:
        # Too old for Datadog to accept: post it as of now, and say when it happened.
        body = f"{body}\n\n(happened at {iso_time(note.timestamp)})"
        happened = None
    room = TEXT_LIMIT - len(_MARKDOWN_OPEN) - len(_MARKDOWN_CLOSE)
    event: dict[str, Any] = {
        "title": truncate(" ".join(note.title.split()) or "(no title)", TITLE_LIMIT),
        "text": _MARKDOWN_OPEN + truncate(body, room) + _MARKDOWN_CLOSE,
        "tags": list(dict.fromkeys([*note.tags, *tags])),
        "alert_type": ALERT_TYPES.get(note.severity, "info"),
        "source_type_name": source_type_name,
    }
    if note.aggregation_key:
        event["aggregation_key"] = _aggregation_key(note.aggregation_key)
    if happened is not None:
        event["date_happened"] = int(happened)
    return event


class DatadogChannel:
    """Posts events to one Datadog site (or ``api_url``, e.g. a proxy or a test receiver)."""

    def __init__(
        self,
        name: str,
        api_key: str,
        site: str = DEFAULT_SITE,
        api_url: str | None = None,
        tags: Sequence[str] = (),
        source_type_name: str = "my_apps",
        timeout: float = 10.0,
        policy: DeliveryPolicy = DEFAULT_POLICY,
    ) -> None:
        self.name = name
        self.policy = policy
        self.api_key = api_key
        self.url = api_url or events_url(site)
        self.tags = tuple(tags)
        self.source_type_name = source_type_name
        self._poster = JsonPoster(f"Datadog ({name})", timeout)

    def __repr__(self) -> str:
        return f"DatadogChannel(name={self.name!r}, url={self.url!r})"

    def send(self, note: Notification) -> None:
        event = datadog_event(note, self.tags, self.source_type_name)
        body = json.dumps(event, ensure_ascii=False).encode("utf-8")
        # 202 {"status": "ok", ...} on success; 400 bad event, 403 bad key (not retried).
        self._poster.post(
            self.url, body, {"DD-API-KEY": self.api_key, "Accept": "application/json"}
        )

    def close(self) -> None:
        self._poster.close()
