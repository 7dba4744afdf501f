"""Notifications to people: one module per channel, a durable outbox that retries them.

Import-light on purpose: ``logsieve.notify.config`` is imported while the config file loads,
which imports this package first, so the heavier names (sqlite3/asyncio, httpx, apprise) are
only imported when first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .message import SEVERITIES, Notification

if TYPE_CHECKING:
    from .channels import Channel, build_channels, register_channels
    from .channels import send_notification as send_notification
    from .codec import notification_from_json, notification_to_json
    from .config import ChannelConfig, parse_channels
    from .outbox import DeliveryFailed, Outbox
    from .policy import DeliveryPolicy

__all__ = [
    "SEVERITIES",
    "Channel",
    "ChannelConfig",
    "DeliveryFailed",
    "DeliveryPolicy",
    "Notification",
    "Outbox",
    "build_channels",
    "notification_from_json",
    "notification_to_json",
    "parse_channels",
    "register_channels",
    "send_notification",
]

_LAZY = {
    "Outbox": "outbox",
    "DeliveryFailed": "outbox",
    "ChannelConfig": "config",
    "parse_channels": "config",
    "notification_to_json": "codec",
    "notification_from_json": "codec",
    "Channel": "channels",
    "DeliveryPolicy": "policy",
    "build_channels": "channels",
    "register_channels": "channels",
    "send_notification": "channels",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
