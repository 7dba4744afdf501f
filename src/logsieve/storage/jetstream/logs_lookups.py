"""This node's cache of the group and stream records PutLogEvents looks up on every call.

A KV read each cost ~0.5 ms of CPU and ~1 ms of wall time per call (bench/RESULTS.md), so the
records read are kept: a stream's (immutable but for its deletion) until a deletion marker
names it or its group, which every node's index applies (logs_index.py); a group's also at
most ``GROUP_FOR`` seconds, since its retention can change on another node. Deletions are
therefore seen within the index's lag, and an append checks after publishing that no marker
before its chunk deleted its target (logs_events.py), so a put that starts after a delete
returned, on any node, is refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .logs_index import ChunkIndex

__all__ = ["GROUP_FOR", "Lookups"]

GROUP_FOR = 1.0  # seconds a group's record is trusted (its retention set on another node)
_MOST = 100_000  # records kept per kind; past it the cache starts again (deleted ones linger)


class Lookups:
    """Group records by name and stream records by (group id, name)."""

    def __init__(self, index_of: Callable[[int], ChunkIndex]) -> None:
        self._index_of = index_of  # a group's partition's index
        self._groups: dict[str, tuple[dict[str, Any], float]] = {}
        self._streams: dict[tuple[int, str], dict[str, Any]] = {}

    def group(self, name: str) -> dict[str, Any] | None:
        """The group's record if known and not deleted since; None: read it."""
        known = self._groups.get(name)
        if known is None:
            return None
        record, until = known
        if until < time.monotonic() or record["id"] in self._index_of(record["id"]).deleted_groups:
            self._groups.pop(name, None)
            return None
        return record

    def keep_group(self, record: dict[str, Any]) -> None:
        if len(self._groups) >= _MOST:
            self._groups.clear()
        self._groups[record["name"]] = (record, time.monotonic() + GROUP_FOR)

    def forget_group(self, name: str) -> None:
        """After this node changed the group (its next read must be the new record)."""
        self._groups.pop(name, None)

    def stream(self, group_id: int, name: str) -> dict[str, Any] | None:
        """The stream's record if known and neither it nor its group deleted since."""
        record = self._streams.get((group_id, name))
        if record is None:
            return None
        index = self._index_of(group_id)
        if record["id"] in index.deleted_streams or group_id in index.deleted_groups:
            self._streams.pop((group_id, name), None)
            return None
        return record

    def keep_stream(self, group_id: int, record: dict[str, Any]) -> None:
        if len(self._streams) >= _MOST:
            self._streams.clear()
        self._streams[(group_id, record["name"])] = record
