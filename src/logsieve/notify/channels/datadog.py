"""The ``datadog`` channel type: an API key and a site (or the events URL itself).

Sent by :class:`logsieve.notify.datadog.DatadogChannel`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from logsieve.config_values import Invalid

from .base import BuildContext, Channel, ChannelConfig
from .checks import http_url, shown, string, strings

__all__ = ["CHECKS", "CONFIG", "DEFAULT_RATE_PER_MINUTE", "DatadogConfig", "build"]

_SITE_RE = re.compile(r"((app|api)\.)?([a-z0-9-]+\.)?(datadoghq\.com|datadoghq\.eu|ddog-gov\.com)")
_KNOWN_SITES = (
    "datadoghq.com, us3.datadoghq.com, us5.datadoghq.com, datadoghq.eu, ap1.datadoghq.com, "
    "ap2.datadoghq.com, ddog-gov.com"
)


@dataclass(frozen=True, kw_only=True)
class DatadogConfig(ChannelConfig):
    api_key: str = field(repr=False)
    site: str = "datadoghq.com"
    api_url: str | None = None
    tags: tuple[str, ...] = ()


def _api_key(value: Any) -> str:
    text = string(value, "paste a Datadog API key (not an application key)", secret=True)
    if any(c.isspace() for c in text):
        raise Invalid("must not contain spaces", "paste the API key exactly")
    return text


def _site(value: Any) -> str:
    site = string(value, f"use one of {_KNOWN_SITES}").lower()
    if not _SITE_RE.fullmatch(site):
        raise Invalid(f"is not a Datadog site (got {shown(value)})", f"use one of {_KNOWN_SITES}")
    return site


CONFIG = DatadogConfig
CHECKS: dict[str, Callable[[Any], Any]] = {
    "api_key": _api_key,
    "site": _site,
    "api_url": partial(
        http_url, hint='write the full events URL, e.g. "https://api.datadoghq.com/api/v1/events"'
    ),
    "tags": partial(strings, hint='write tags = ["env:prod", "team:sec"]'),
}
DEFAULT_RATE_PER_MINUTE: float | None = None


def build(config: DatadogConfig, context: BuildContext) -> Channel:
    from ..datadog import DatadogChannel

    return DatadogChannel(
        config.name, config.api_key, site=config.site, api_url=config.api_url,
        tags=config.tags, policy=config.policy,
    )  # fmt: skip
