"""Notification channels: one module per type, a registry of them, and their outbox wiring.

* ``base``: the common config keys, the :class:`Channel` shape, what a type module declares;
* ``email``, ``slack``, ``datadog``, ``webhook``, ``sns``, ``apprise``: one module per type,
  declaring its keys (a ChannelConfig subclass), their checks, its default rate and
  ``build()``; the senders they build live in ``logsieve.notify.<type>`` and are imported only
  by ``build()``, so loading the config file imports no HTTP, AWS or apprise library;
* ``registry``: type name -> module;
* ``wiring``: build the configured channels, register them with the outbox, queue notes.
"""

from __future__ import annotations

from ..policy import DeliveryPolicy
from .base import BuildContext, Channel, ChannelConfig, ChannelType
from .registry import CHANNEL_TYPES
from .wiring import build_channels, channel_kind, register_channels, send_notification

__all__ = [
    "CHANNEL_TYPES",
    "BuildContext",
    "Channel",
    "ChannelConfig",
    "ChannelType",
    "DeliveryPolicy",
    "build_channels",
    "channel_kind",
    "register_channels",
    "send_notification",
]
