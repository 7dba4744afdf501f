"""What a source hands to the local store: one remote event, names and time kept as they were."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["RemoteBatch", "RemoteEvent"]


class RemoteEvent(NamedTuple):
    group: str  # the local log group name (a source's into_prefix already applied)
    stream: str
    timestamp: int  # milliseconds since the epoch, as the remote stamped it
    message: str


class RemoteBatch(NamedTuple):
    """Events of one remote log stream (an awslogs payload is one): the fast path, without an
    object per event. Timestamps need not be sorted."""

    group: str
    stream: str
    timestamps: list[int]
    messages: list[str]
