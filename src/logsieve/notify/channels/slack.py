"""The ``slack`` channel type: one incoming-webhook URL, at most a message a second by default.

Sent by :class:`logsieve.notify.slack.SlackChannel`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from .base import BuildContext, Channel, ChannelConfig
from .checks import http_url

__all__ = ["CHECKS", "CONFIG", "DEFAULT_RATE_PER_MINUTE", "SlackConfig", "build"]


@dataclass(frozen=True, kw_only=True)
class SlackConfig(ChannelConfig):
    webhook_url: str = field(repr=False)  # the URL is the secret


CONFIG = SlackConfig
CHECKS: dict[str, Callable[[Any], Any]] = {
    "webhook_url": partial(
        http_url, hint="paste the Incoming Webhook URL Slack shows for the app", secret=True
    )
}
# Slack allows one message per second per incoming webhook (short bursts are tolerated).
DEFAULT_RATE_PER_MINUTE: float | None = 60.0


def build(config: SlackConfig, context: BuildContext) -> Channel:
    from ..slack import SlackChannel

    return SlackChannel(config.name, config.webhook_url, policy=config.policy)
