"""What every channel type shares: the common config keys, the shape of a built channel, and
what a channel type module declares (:class:`ChannelType`).

Standard library only: the registry imports every type module while the config file loads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..message import Notification
from ..policy import DeliveryPolicy

__all__ = ["COMMON_KEYS", "BuildContext", "Channel", "ChannelConfig", "ChannelType"]

COMMON_KEYS = ("name", "type", "rate_per_minute", "retry_seconds")


class Channel(Protocol):
    """Something that delivers a Notification. ``send`` blocks; it raises DeliveryFailed.

    ``policy`` is how the outbox paces and retries it (see :func:`register_channels`).
    """

    name: str
    policy: DeliveryPolicy

    def send(self, note: Notification) -> None: ...


@dataclass(frozen=True)
class ChannelConfig:
    """One ``[[channels]]`` table: the keys every type has. Each type module subclasses it
    (``kw_only``) with its own keys; secrets are kept out of repr, so logging a config never
    leaks them."""

    name: str
    type: str  # a name in the registry
    rate_per_minute: float | None = None  # None: no limit
    retry_seconds: float = 86_400.0  # keep retrying this long, then give up (visibly)
    source: Path | None = field(default=None, compare=False)  # the file, for error messages

    @property
    def policy(self) -> DeliveryPolicy:
        """The outbox policy these keys ask for."""
        rate = self.rate_per_minute / 60 if self.rate_per_minute else None
        return DeliveryPolicy(rate_per_second=rate, give_up_after=self.retry_seconds)

    @property
    def where(self) -> str:
        """The table, for errors found while building: ``<file>: [[channels]] <name>``."""
        if self.source:
            return f"{self.source}: [[channels]] {self.name}"
        return f"channel {self.name}"


@dataclass(frozen=True)
class BuildContext:
    """What building a channel may need besides its own table."""

    smtp_url: str | None  # [smtp] url, for email
    smtp_sender: str  # [smtp] sender, the default From of email
    server_endpoint: str  # this server's URL, which SNS channels publish to
    region: str
    credential: Any  # a logsieve.config.Credential SNS channels sign with, or None


class ChannelType(Protocol):
    """What a channel type module declares; the registry maps its type name to it.

    ``CONFIG`` is its ChannelConfig subclass: its fields beyond the common ones are the type's
    keys, those without a default the required ones. ``CHECKS`` has one check per key, taking
    the raw TOML value and returning the clean one or raising ``config_values.Invalid``.
    ``build`` imports the channel's libraries, so parsing a config never does.
    """

    CONFIG: type[ChannelConfig]
    CHECKS: Mapping[str, Callable[[Any], Any]]
    DEFAULT_RATE_PER_MINUTE: float | None

    def build(self, config: Any, context: BuildContext) -> Channel: ...
