"""Tasks started and not awaited (a refresh after a change), kept referenced until they end:
asyncio keeps only weak references to tasks, so an unreferenced one may vanish mid-run."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

__all__ = ["Background"]


class Background:
    """The running background tasks of one component (on its event loop)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def running(self) -> list[asyncio.Task[None]]:
        """The tasks not yet ended (to cancel them on stop)."""
        return list(self._tasks)
