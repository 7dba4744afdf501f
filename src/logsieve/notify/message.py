"""What a notification is, independent of the channel that carries it.

Alert rules and recipes produce these; every channel (email, Slack, Datadog, webhook, SNS,
apprise) renders the same fields in its own documented shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("info", "warning", "error", "critical")


@dataclass(frozen=True)
class Notification:
    title: str  # one line: email subject, Slack header, Datadog event title
    text: str  # the readable body, plain text (Markdown-friendly)
    severity: str = "info"  # one of SEVERITIES
    source: str = ""  # the rule or topic that produced it
    timestamp: int = 0  # ms since the epoch: when the (first) matching event happened
    html: str | None = None  # an HTML rendering of ``text`` for email, when there is one
    tags: tuple[str, ...] = ()  # "key:value" strings (Datadog tags, email headers)
    aggregation_key: str | None = None  # groups related events (Datadog, Slack threads)
    fields: dict[str, Any] = field(default_factory=dict)  # structured extras (event fields)
