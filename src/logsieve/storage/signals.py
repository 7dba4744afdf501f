"""The storage interface of append signals: telling every node that a log group got events.

A pump wakes when events are appended to its log group. Appends through this node wake it
directly; with several nodes sharing a cluster, an append through another node reaches the
working node as a signal (JetStream: a core NATS message, at most once, so pumps still poll
the log as a safety net). One process (SQLite) has no other node: nothing to send.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

__all__ = ["AppendSignals", "LocalSignals"]


class AppendSignals(Protocol):
    """Best-effort, cluster-wide "log group ``group_id`` got events"."""

    def appended(self, group_id: int) -> None:
        """Tell every node (this one included); never blocks, never raises."""
        ...

    def listen(self, callback: Callable[[int], None]) -> None:
        """Call ``callback(group_id)`` (from any thread) for every signal from now on."""
        ...

    def close(self) -> None: ...


class LocalSignals:
    """One process: its appends wake its pumps directly, so there is nothing to send."""

    def appended(self, group_id: int) -> None:
        pass

    def listen(self, callback: Callable[[int], None]) -> None:
        pass

    def close(self) -> None:
        pass
