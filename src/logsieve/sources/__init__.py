"""Getting logs in from real AWS (and anything speaking its APIs): one module per source kind.

``[[sources]]`` entries (``config.py``) become supervised tasks (``supervisor.py``) that write
through one sink (``sink.py``): remote events land in local log groups and streams with the
source's position in the same transaction, so each event is stored exactly once and the same
subscription filters, metric filters and alert rules run on them. ``base.py`` is the seam a
kind implements; ``kinds.py`` the registry.
"""

from __future__ import annotations

from .base import Key, Source, SourceContext, SourceKind, SourceSpec
from .events import RemoteBatch, RemoteEvent
from .sink import LocalSink
from .status import SourceStatus
from .supervisor import Sources

__all__ = [
    "Key",
    "LocalSink",
    "RemoteBatch",
    "RemoteEvent",
    "Source",
    "SourceContext",
    "SourceKind",
    "SourceSpec",
    "SourceStatus",
    "Sources",
    "build_sources",
]


def build_sources(specs, store, positions, delivery) -> Sources:  # type: ignore[no-untyped-def]
    """The server's sources over its event log (``positions``: ``Stores.source_positions``)."""
    return Sources(specs, LocalSink(store, positions, delivery))
