"""The ``sns`` channel type: a topic ARN, published to through this server's own SNS API.

Sent by :class:`logsieve.notify.sns_topic.SnsTopicChannel`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from logsieve.config_values import Invalid
from logsieve.errors import ConfigError

from .base import BuildContext, Channel, ChannelConfig
from .checks import shown, string

__all__ = ["CHECKS", "CONFIG", "DEFAULT_RATE_PER_MINUTE", "SnsConfig", "build"]

_TOPIC_ARN_RE = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?")
_ARN_HINT = 'use e.g. "arn:aws:sns:us-east-1:123456789012:alerts"'


@dataclass(frozen=True, kw_only=True)
class SnsConfig(ChannelConfig):
    topic_arn: str


def _topic_arn(value: Any) -> str:
    arn = string(value, _ARN_HINT)
    if not _TOPIC_ARN_RE.fullmatch(arn):
        raise Invalid(f"must be an SNS topic ARN (got {shown(value)})", _ARN_HINT)
    return arn


CONFIG = SnsConfig
CHECKS: dict[str, Callable[[Any], Any]] = {"topic_arn": _topic_arn}
DEFAULT_RATE_PER_MINUTE: float | None = None


def build(config: SnsConfig, context: BuildContext) -> Channel:
    if context.credential is None:
        raise ConfigError(
            f"{config.where} publishes to SNS but the server has no credentials to sign "
            "with; add a [[credentials]] entry or run logsieve serve once to generate one"
        )
    from ..sns_topic import SnsTopicChannel

    return SnsTopicChannel(
        config.name, config.topic_arn, context.server_endpoint, context.region,
        context.credential, policy=config.policy,
    )  # fmt: skip
