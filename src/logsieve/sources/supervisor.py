"""Sources as supervised tasks in the server: each ``run()`` retried with backoff on errors,
its last error kept for ``logsieve sources``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute

from .base import Source, SourceContext, SourceSpec
from .kinds import kind
from .sink import LocalSink
from .status import SourceStatus

__all__ = ["Sources"]

log = logging.getLogger("logsieve.sources")

BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 30.0


class _Run:
    def __init__(self, spec: SourceSpec, sink: LocalSink) -> None:
        self.spec = spec
        self.status = SourceStatus(spec.name, spec.type)
        self.ctx = SourceContext(spec.name, self.status, sink)
        self.ctx.progressed = self._progressed
        self.source: Source = kind(spec.type).build(spec, self.ctx)
        self.failures = 0
        self.task: asyncio.Task[None] | None = None

    def _progressed(self) -> None:
        self.failures = 0
        if self.status.state == "retrying":
            self.status.state = "running"

    async def supervise(self) -> None:
        while True:
            self.status.state = "running"
            try:
                await self.source.run()
                self.status.state = "stopped"
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure: recorded, retried with backoff
                self.failures += 1
                self.status.failed(error)
                self.status.state = "retrying"
                delay = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** (self.failures - 1))
                delay *= 0.5 + random.random() / 2  # jitter: sources sharing a remote spread out
                log.warning(
                    "source failed name=%s error=%s retry_in=%.1fs",
                    self.spec.name, self.status.last_error, delay,
                )  # fmt: skip
                await asyncio.sleep(delay)


class Sources:
    """Every configured source: built at startup, run as tasks while the server runs."""

    def __init__(self, specs: Sequence[SourceSpec], sink: LocalSink) -> None:
        self.sink = sink
        self._runs = [_Run(spec, sink) for spec in specs]

    def routes(self) -> list[BaseRoute]:
        return [route for run in self._runs for route in run.source.routes()]

    async def start(self) -> None:
        for run in self._runs:
            run.task = asyncio.create_task(run.supervise(), name=f"source-{run.spec.name}")

    async def stop(self) -> None:
        tasks = [run.task for run in self._runs if run.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def status(self) -> list[dict[str, Any]]:
        return [run.status.to_dict() for run in self._runs]
