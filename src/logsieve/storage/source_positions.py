"""Where each source (``sources/``) is in its remote feed, committed with what it appended.

A source's position and the events it read up to that position go into the event log in ONE
transaction: after a crash either both are there or neither, so a restarted source resumes
exactly where its stored events end (no loss, no duplicate). That is why positions live in the
event log's own database, not a file of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Chunk", "SourcePositions"]


@dataclass(frozen=True)
class Chunk:
    """Events for one log stream: sorted timestamps spanning <= 24 h, at most 16,384 events
    (``size`` = UTF-8 bytes of the messages), as ``EventLog.append`` takes them."""

    group_id: int
    stream_id: int
    timestamps: Sequence[int]
    messages: Sequence[str]
    size: int


class SourcePositions(Protocol):
    """Positions of the sources, by source name then key (a shard id, a request id, ...)."""

    def append_at(
        self,
        source: str,
        chunks: Sequence[Chunk],
        positions: Mapping[str, str | None],
        now: int,
    ) -> list[int]:
        """Append ``chunks`` and set ``source``'s ``positions`` (None deletes a key) in one
        durable transaction; the first sequence number of each chunk.

        Raises ``Deleted`` (nothing stored, positions unchanged) if a stream is gone.
        """
        ...

    def positions(self, source: str) -> dict[str, str]:
        """Everything ``source`` committed ({} for a new source)."""
        ...

    def forget(self, source: str) -> None:
        """Drop ``source``'s positions (a source removed from the configuration for good)."""
        ...
