"""Channels wired to the outbox: build them from config, register them, queue notifications.

A notification for channel ``ops`` is queued under outbox kind ``channel:ops`` as the JSON of
the Notification (:mod:`..codec`), so it survives restarts and is retried with the channel's
``policy``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from logsieve.errors import ConfigError

from ..codec import notification_from_json, notification_to_json
from ..message import Notification
from .base import BuildContext, Channel, ChannelConfig
from .registry import CHANNEL_TYPES

if TYPE_CHECKING:
    from ..outbox import Outbox

__all__ = ["build_channels", "channel_kind", "register_channels", "send_notification"]


def channel_kind(name: str) -> str:
    """The outbox kind of channel ``name``."""
    return f"channel:{name}"


def build_channels(
    channels: Iterable[ChannelConfig],
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
    context = BuildContext(smtp_url, smtp_sender, server_endpoint, region, credential)
    built: dict[str, Channel] = {}
    for config in channels:
        channel_type = CHANNEL_TYPES.get(config.type)
        if channel_type is None:
            raise ConfigError(f"{config.where} has unknown type {config.type!r}")
        built[config.name] = channel_type.build(config, context)
    return built


def _sender(channel: Channel) -> Callable[[bytes], None]:
    def send(payload: bytes) -> None:
        from ..outbox import DeliveryFailed

        try:
            note = notification_from_json(payload)
        except (ValueError, TypeError) as exc:
            raise DeliveryFailed(f"not a notification: {exc}", retryable=False) from None
        channel.send(note)

    return send


def register_channels(outbox: Outbox, channels: Mapping[str, Channel]) -> None:
    """Register kind ``channel:<name>`` for each channel, paced and retried by its policy."""
    for name, channel in channels.items():
        policy = channel.policy
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
