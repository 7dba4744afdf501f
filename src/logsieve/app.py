"""The composition root: build every part from the configuration."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from .api.awsjson import JsonProtocol
from .api.server import AwsApi, JsonService, build_app
from .config import Config
from .logs import LogsContext, LogsService
from .storage import SqliteStore

log = logging.getLogger("logsieve")

DATABASE_FILE = "logsieve.db"


async def _enforce_retention(logs: LogsService, every: float) -> None:
    while True:
        try:
            deleted = await run_in_threadpool(logs.expire)
            if deleted:
                log.info("retention deleted=%d", deleted)
        except Exception:  # keep the loop alive; the next pass retries
            log.exception("retention pass failed")
        await asyncio.sleep(every)


def create_app(config: Config) -> Starlette:
    store = SqliteStore(config.data_dir / DATABASE_FILE)
    logs = LogsService(LogsContext(store, config.region, config.account_id))
    api = AwsApi(
        [JsonService(JsonProtocol("logs", "InvalidParameterException"), logs.operations)],
        config.secret_for,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(_enforce_retention(logs, config.retention_check_seconds))
        try:
            yield
        finally:
            task.cancel()
            store.close()

    return build_app(api, lifespan)
