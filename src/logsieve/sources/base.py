"""The seam between the framework and one kind of source.

A kind is a module of this package exporting ``KIND`` (a :class:`SourceKind`): the keys its
``[[sources]]`` entry takes and a ``build(spec, ctx)`` returning a :class:`Source`. A source
reads its stored position with ``ctx.positions()``, writes what it read with ``await
ctx.write(events, positions)`` (events and positions commit together: exactly once) and
reports lag with ``ctx.status.lag_seconds``. ``run()`` is supervised: an exception is
recorded as the last error and ``run()`` is called again after a backoff, so a source
re-reads its positions at the top of ``run()`` and keeps no state it cannot rebuild. A
source that only answers requests (firehose) returns ``routes()`` and a ``run()`` that waits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute

from .events import RemoteBatch, RemoteEvent
from .sink import LocalSink
from .status import SourceStatus

__all__ = ["Key", "Source", "SourceContext", "SourceKind", "SourceSpec"]


@dataclass(frozen=True)
class SourceSpec:
    """One validated ``[[sources]]`` entry: its name, type and its kind's keys (defaults
    filled in)."""

    name: str
    type: str
    options: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.options[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.options.get(key, default)


@dataclass(frozen=True)
class Key:
    """A key a kind accepts: its check (raises ``config_values.Invalid``), whether it must be
    given, and its default."""

    check: Callable[[Any], Any]
    required: bool = False
    default: Any = None


class SourceContext:
    """What a running source is given: its status, positions and the sink."""

    def __init__(self, name: str, status: SourceStatus, sink: LocalSink) -> None:
        self.name = name
        self.status = status
        self.sink = sink
        self.progressed: Callable[[], None] = lambda: None  # the supervisor resets its backoff

    def positions(self) -> dict[str, str]:
        """Everything this source committed (blocking; call at the top of ``run``)."""
        return self.sink.stored_positions(self.name)

    def write_now(
        self, events: Iterable[RemoteEvent | RemoteBatch], positions: Mapping[str, str | None]
    ) -> int:
        """Blocking ``write`` (for request handlers already off the event loop)."""
        count = self.sink.write(self.name, events, positions)
        self.status.events_received += count
        if count:
            self.status.last_event_time = time.time()
        for key, value in positions.items():
            if value is None:
                self.status.position.pop(key, None)
            else:
                self.status.position[key] = value
        self.progressed()
        return count

    async def write(
        self, events: Iterable[RemoteEvent | RemoteBatch], positions: Mapping[str, str | None]
    ) -> int:
        """Store ``events`` with the position after them, durably; how many were stored."""
        return await run_in_threadpool(self.write_now, list(events), dict(positions))


class Source(Protocol):
    async def run(self) -> None:
        """Read the remote until cancelled; raise to be retried after a backoff."""
        ...

    def routes(self) -> list[BaseRoute]:
        """HTTP routes this source answers on the server ([] for pull sources)."""
        ...


@dataclass(frozen=True)
class SourceKind:
    keys: Mapping[str, Key]
    build: Callable[[SourceSpec, SourceContext], Source]
    # A check across keys (e.g. "stream_name or stream_arn"): raises Invalid naming the key.
    check: Callable[[dict[str, Any]], None] | None = None
    describe: str = ""  # one line for the docs and errors
