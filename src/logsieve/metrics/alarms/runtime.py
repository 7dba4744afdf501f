"""The alarms part of the server, built from the stores: the API operations, the ticker on
the real clock, and the actions run on transitions (``build_alarms`` is app.py's one hook)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from logsieve.errors import Operation
from logsieve.metrics.reading import MetricReader
from logsieve.storage.factory import Stores

from .actions import AlarmActions, Invoker, Publisher, Queue
from .service import AlarmService
from .ticker import Ticker


class Alarms:
    """The alarm service, its ticker and its store's lifetime."""

    def __init__(self, service: AlarmService, ticker: Ticker) -> None:
        self.service = service
        self.ticker = ticker
        self.operations: dict[str, Operation] = service.operations

    def start(self) -> asyncio.Task[Any]:
        """Hand on the actions a crash left behind, then tick."""
        if self.service.actions is not None:
            self.service.actions.hand_on()
        return asyncio.create_task(self.ticker.run())

    async def stop(self, task: asyncio.Task[Any]) -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def close(self) -> None:
        """Close the store (after the outbox stopped: its sends write Action history)."""
        self.service.store.close()


def build_alarms(
    stores: Stores,
    region: str,
    account_id: str,
    queue: Queue,
    sns: Publisher | None,
    lambdas: Invoker | None,
    reader: MetricReader,
) -> Alarms:
    """The alarms of a server: actions sent through ``queue`` (the outbox) to SNS topics and
    Lambda functions; evaluated from ``reader``."""
    store = stores.alarms()
    service = AlarmService(store, region, account_id)
    actions = AlarmActions(store, region, account_id, queue, sns, lambdas)
    actions.register()
    service.actions = actions
    return Alarms(service, Ticker(service, reader))
