"""The ``email`` channel type: a list of addresses, sent through the ``[smtp]`` server.

Sent by :class:`logsieve.notify.email.EmailChannel`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from logsieve.config_values import Invalid
from logsieve.errors import ConfigError

from .base import BuildContext, Channel, ChannelConfig
from .checks import address, strings

__all__ = ["CHECKS", "CONFIG", "DEFAULT_RATE_PER_MINUTE", "EmailConfig", "build"]


@dataclass(frozen=True, kw_only=True)
class EmailConfig(ChannelConfig):
    to: tuple[str, ...]
    sender: str | None = None  # default: the [smtp] sender


def _to(value: Any) -> tuple[str, ...]:
    hint = 'write to = ["ops@example.com"]'
    found = strings(value, hint)
    if not found:
        raise Invalid("must list at least one address (got an empty array)", hint)
    return tuple(address(v, hint) for v in found)


CONFIG = EmailConfig
CHECKS: dict[str, Callable[[Any], Any]] = {
    "to": _to,
    "sender": partial(address, hint='write sender = "logsieve@example.com"'),
}
DEFAULT_RATE_PER_MINUTE: float | None = None


def build(config: EmailConfig, context: BuildContext) -> Channel:
    if not context.smtp_url:
        raise ConfigError(
            f"{config.where} sends email but no SMTP server is configured; set [smtp] "
            "url in the config file or LOGSIEVE_SMTP_URL (smtp://host:port)"
        )
    from ..email import EmailChannel
    from ..smtp import SmtpSettings

    try:
        settings = SmtpSettings.from_url(context.smtp_url)
    except ValueError as exc:
        raise ConfigError(f"the SMTP URL is not valid: {exc}") from None
    sender = config.sender or context.smtp_sender
    return EmailChannel(config.name, settings, sender, config.to, policy=config.policy)
