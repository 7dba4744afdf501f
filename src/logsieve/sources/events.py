"""What a source hands to the local store: one remote event, names and time kept as they were."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["RemoteEvent"]


class RemoteEvent(NamedTuple):
    group: str  # the local log group name (a source's into_prefix already applied)
    stream: str
    timestamp: int  # milliseconds since the epoch, as the remote stamped it
    message: str
