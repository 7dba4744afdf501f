"""Channels wired to the outbox: build them from config, register them, queue notifications.

A notification for channel ``ops`` is queued under outbox kind ``channel:ops`` as the JSON of
the Notification (:mod:`.codec`), so it survives restarts and is retried with the channel's
policy. Light on imports: each channel module is imported only when a channel of its type is
built.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from logsieve.errors import ConfigError

from .codec import notification_from_json, notification_to_json
from .message import Notification

if TYPE_CHECKING:
    from .config import ChannelConfig
    from .outbox import Outbox

__all__ = [
    "Channel",
    "DeliveryPolicy",
    "build_channels",
    "channel_kind",
    "register_channels",
    "send_notification",
]


class Channel(Protocol):
    """Something that delivers a Notification. ``send`` blocks; it raises DeliveryFailed."""

    name: str

    def send(self, note: Notification) -> None: ...


@dataclass(frozen=True)
class DeliveryPolicy:
    """How the outbox paces and retries one channel (``channel.policy``; optional)."""

    rate_per_second: float | None = None
    give_up_after: float = 86_400.0
    retry_base: float = 1.0
    retry_max_backoff: float = 300.0


def channel_kind(name: str) -> str:
    """The outbox kind of channel ``name``."""
    return f"channel:{name}"


def _where(config: ChannelConfig) -> str:
    return (
        f"{config.source}: [[channels]] {config.name}"
        if config.source
        else (f"channel {config.name}")
    )


def _build_one(
    config: ChannelConfig,
    smtp_url: str | None,
    smtp_sender: str,
    server_endpoint: str,
    region: str,
    credential: Any,
) -> Any:
    def module(name: str) -> Any:
        return importlib.import_module(f"logsieve.notify.{name}")

    kind = config.type
    if kind == "email":
        if not smtp_url:
            raise ConfigError(
                f"{_where(config)} sends email but no SMTP server is configured; set [smtp] "
                "url in the config file or LOGSIEVE_SMTP_URL (smtp://host:port)"
            )
        smtp = module("smtp")
        try:
            settings = smtp.SmtpSettings.from_url(smtp_url)
        except ValueError as exc:
            raise ConfigError(f"the SMTP URL is not valid: {exc}") from None
        return module("email").EmailChannel(
            config.name, settings, config.sender or smtp_sender, config.to
        )
    if kind == "slack":
        return module("slack").SlackChannel(config.name, config.webhook_url)
    if kind == "datadog":
        return module("datadog").DatadogChannel(
            config.name, config.api_key, site=config.site, api_url=config.api_url,
            tags=config.tags,
        )  # fmt: skip
    if kind == "webhook":
        return module("webhook").WebhookChannel(
            config.name, config.url, secret=config.secret, headers=dict(config.headers)
        )
    if kind == "sns":
        if credential is None:
            raise ConfigError(
                f"{_where(config)} publishes to SNS but the server has no credentials to sign "
                "with; add a [[credentials]] entry or run logsieve serve once to generate one"
            )
        return module("sns_topic").SnsTopicChannel(
            config.name, config.topic_arn, server_endpoint, region, credential
        )
    if kind == "apprise":
        try:
            return module("apprise_channel").AppriseChannel(config.name, config.url)
        except ValueError as exc:
            raise ConfigError(f"{_where(config)} url: {exc}") from None
    raise ConfigError(f"{_where(config)} has unknown type {kind!r}")


def build_channels(
    channels: tuple[ChannelConfig, ...],
    smtp_url: str | None,
    smtp_sender: str,
    server_endpoint: str,
    region: str,
    credential: Any,
) -> dict[str, Channel]:
    """The channel objects for the configured ``[[channels]]``, by name.

    ``server_endpoint``, ``region`` and ``credential`` (a ``logsieve.config.Credential``) are
    what SNS channels sign their Publish calls to this server with. Raises ConfigError (one
    line) for what could not be checked while parsing (no SMTP server, an apprise URL that
    apprise does not know).
    """
    built: dict[str, Channel] = {}
    for config in channels:
        channel = _build_one(config, smtp_url, smtp_sender, server_endpoint, region, credential)
        channel.policy = DeliveryPolicy(
            rate_per_second=config.rate_per_minute / 60 if config.rate_per_minute else None,
            give_up_after=config.retry_seconds,
        )
        built[config.name] = channel
    return built


def _sender(channel: Channel) -> Callable[[bytes], None]:
    def send(payload: bytes) -> None:
        from .outbox import DeliveryFailed

        try:
            note = notification_from_json(payload)
        except (ValueError, TypeError) as exc:
            raise DeliveryFailed(f"not a notification: {exc}", retryable=False) from None
        channel.send(note)

    return send


def register_channels(outbox: Outbox, channels: Mapping[str, Channel]) -> None:
    """Register kind ``channel:<name>`` for each channel, with its DeliveryPolicy."""
    for name, channel in channels.items():
        policy = getattr(channel, "policy", None) or DeliveryPolicy()
        outbox.register(
            channel_kind(name),
            _sender(channel),
            rate_per_second=policy.rate_per_second,
            retry_base=policy.retry_base,
            retry_max_backoff=policy.retry_max_backoff,
            give_up_after=policy.give_up_after,
        )


def send_notification(
    outbox: Outbox, channel_name: str, note: Notification, key: str | None = None
) -> bool:
    """Queue ``note`` for ``channel_name``; False if ``key`` was already queued for it.

    Durable on return (blocks for an fsync). A channel that is not configured keeps its items
    queued until it is.
    """
    return outbox.enqueue(channel_kind(channel_name), notification_to_json(note), key)
