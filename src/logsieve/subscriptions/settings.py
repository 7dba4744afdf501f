"""The ``[delivery]`` section: how subscription deliveries batch and retry.

Registered in ``logsieve/sections.py``; read back with ``DELIVERY.of(config)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from logsieve.config import Section
from logsieve.config_values import number, read, section

__all__ = ["DELIVERY", "DeliverySettings"]


@dataclass(frozen=True)
class DeliverySettings:
    """Subscription delivery tuning: the ``[delivery]`` section."""

    # Batching: a window closes this long after its first new event (or when it is full).
    linger_seconds: float = 0.02
    # Uncompressed payload JSON cap. Lambda takes 1 MB async events, Kinesis 1 MiB records,
    # Firehose 1,000 KiB; logs compress 5-10x, so payloads stay far below every limit.
    max_payload_bytes: int = 900_000
    max_window_events: int = 20_000  # events read at once (memory bound per subscription)
    # Retries: exponential backoff with jitter, for up to 24 hours as AWS retries.
    retry_base_seconds: float = 0.5
    retry_max_backoff_seconds: float = 60.0
    retry_window_seconds: float = 86_400.0
    max_attempts: int = 0  # 0: only the retry window limits the attempts


_CHECKS = {
    "linger_seconds": partial(number, low=0, high=10, hint="use e.g. 0.02 (20 ms)"),
    "max_payload_bytes": partial(
        number, low=1024, high=1_000_000, integer=True,
        hint="use at most 1000000 (AWS's payload limit)",
    ),
    "max_window_events": partial(
        number, low=1, high=1_000_000, integer=True, hint="use e.g. 20000"
    ),
    "retry_base_seconds": partial(number, low=0.001, high=3600, hint="use e.g. 0.5"),
    "retry_max_backoff_seconds": partial(number, low=0.001, high=86_400, hint="use e.g. 60"),
    "retry_window_seconds": partial(
        number, low=0, high=7 * 86_400, hint="use 86400 (AWS retries for 24 hours)"
    ),
    "max_attempts": partial(
        number, low=0, high=1_000_000, integer=True,
        hint="use 0 for no limit besides the retry window",
    ),
}  # fmt: skip


def parse_delivery(path: Path, raw: Any) -> DeliverySettings:
    return DeliverySettings(**read(path, "[delivery]", section(path, "delivery", raw), _CHECKS))


DELIVERY: Section[DeliverySettings] = Section("delivery", parse_delivery, DeliverySettings)
