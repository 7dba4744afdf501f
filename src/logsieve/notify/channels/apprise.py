"""The ``apprise`` channel type: any service apprise knows, by URL (Teams, Discord, Telegram,
PagerDuty, ntfy, ...).

Sent by :class:`logsieve.notify.apprise_channel.AppriseChannel`; whether apprise knows the URL
is checked when the channel is built (the apprise library is only imported then).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from logsieve.config_values import Invalid
from logsieve.errors import ConfigError

from .base import BuildContext, Channel, ChannelConfig
from .checks import string

__all__ = ["CHECKS", "CONFIG", "DEFAULT_RATE_PER_MINUTE", "AppriseConfig", "build"]


@dataclass(frozen=True, kw_only=True)
class AppriseConfig(ChannelConfig):
    url: str = field(repr=False)  # often holds a token


def _url(value: Any) -> str:
    url = string(value, "quote the URL", True)
    if "://" not in url:
        raise Invalid(
            'must be an apprise URL such as "discord://webhook_id/token"',
            "see apprise's list of supported services",
        )
    return url


CONFIG = AppriseConfig
CHECKS: dict[str, Callable[[Any], Any]] = {"url": _url}
DEFAULT_RATE_PER_MINUTE: float | None = None


def build(config: AppriseConfig, context: BuildContext) -> Channel:
    from ..apprise_channel import AppriseChannel

    try:
        return AppriseChannel(config.name, config.url, policy=config.policy)
    except ValueError as exc:
        raise ConfigError(f"{config.where} url: {exc}") from None
