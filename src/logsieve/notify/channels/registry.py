"""The channel types by name. Adding a channel is one module in this package (see
:class:`.base.ChannelType` for what it declares) and one line in ``CHANNEL_TYPES``."""

from __future__ import annotations

from dataclasses import MISSING, fields

from . import apprise, datadog, email, slack, sns, webhook
from .base import ChannelConfig, ChannelType

__all__ = ["CHANNEL_TYPES", "own_keys", "required_keys"]

# The order is the order error messages list the types in.
CHANNEL_TYPES: dict[str, ChannelType] = {
    "email": email,
    "slack": slack,
    "datadog": datadog,
    "webhook": webhook,
    "sns": sns,
    "apprise": apprise,
}

_COMMON_FIELDS = frozenset(f.name for f in fields(ChannelConfig))


def own_keys(channel_type: ChannelType) -> tuple[str, ...]:
    """The keys of one type beyond the common ones, in declaration order."""
    return tuple(f.name for f in fields(channel_type.CONFIG) if f.name not in _COMMON_FIELDS)


def required_keys(channel_type: ChannelType) -> tuple[str, ...]:
    """The type's own keys that have no default."""
    return tuple(
        f.name
        for f in fields(channel_type.CONFIG)
        if f.name not in _COMMON_FIELDS and f.default is MISSING and f.default_factory is MISSING
    )
