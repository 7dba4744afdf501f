"""The composition root: build every part from the configuration."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from .alerts.service import AlertService
from .api.admin import AdminApi
from .api.protocols import PROTOCOLS
from .api.server import AwsApi, Service, build_app
from .config import Config, client_credential, endpoint_url
from .destinations import Destinations, FirehoseSink
from .destinations.firehose import publish_when_due
from .errors import ConfigError
from .kinesis import KinesisContext, KinesisService
from .lambdas import (
    MAX_REQUEST_BYTES,
    DirectoryFunctionStore,
    FunctionKeys,
    LambdaService,
    LogsSink,
    Sandbox,
    first_known,
    protect_server,
    worker_environment,
)
from .lambdas.runtime import FunctionRuntime
from .logs import LogsContext, LogsService
from .notify.channels import build_channels, register_channels
from .notify.outbox import Outbox
from .notify.smtp import SmtpSettings
from .sns import SnsService
from .sns.delivery import EmailSettings, SnsDeliveries
from .sns.signing import Signer
from .sources import build_sources
from .storage import datadir
from .storage.disk import DiskFull
from .storage.factory import open_stores
from .subscriptions import Dispatcher, PumpContext

log = logging.getLogger("logsieve")


def _channels(config: Config) -> dict[str, Any]:
    """The configured channels; a setting only a channel can check is a one-line ConfigError."""
    credential = client_credential(config)
    if config.smtp_url:
        try:
            SmtpSettings.from_url(config.smtp_url)
        except ValueError as exc:
            raise ConfigError(f"SMTP URL: {exc}; fix [smtp] url or LOGSIEVE_SMTP_URL") from None
    return build_channels(
        config.channels, config.smtp_url, config.smtp_sender, endpoint_url(config),
        config.region, credential,
    )  # fmt: skip


async def _enforce_retention(
    logs: LogsService, every: float, kinesis: KinesisService | None = None
) -> None:
    while True:
        try:
            deleted = await run_in_threadpool(logs.expire)
            if deleted:
                log.info("retention deleted=%d", deleted)
        except DiskFull:  # logged once by the disk state; the next pass retries
            pass
        except Exception:  # keep the loop alive; the next pass retries
            log.exception("retention pass failed")
        if kinesis is not None:
            try:
                trimmed = await run_in_threadpool(kinesis.expire)
                if trimmed:
                    log.info("kinesis retention deleted=%d", trimmed)
            except DiskFull:
                pass
            except Exception:  # a separate try: one failing store never starves the other
                log.exception("kinesis retention pass failed")
        await asyncio.sleep(every)


def create_app(config: Config) -> Starlette:
    """The server's app. Claims the data directory first (private, one server at a time:
    ``DataDirInUse`` before anything is opened, bound or started); the lock is held until the
    app shuts down or the process ends."""
    lock = datadir.claim(config.data_dir)
    try:
        return _build(config, lock)
    except DiskFull:
        lock.release()
        raise ConfigError(
            f"the disk holding data directory {config.data_dir} is full, so its databases "
            "cannot be opened; free space on it and start again"
        ) from None
    except BaseException:
        lock.release()
        raise


def _build(config: Config, lock: datadir.DataDirLock) -> Starlette:
    stores = open_stores(config.data_dir)  # every store's engine and file: storage/factory.py
    store = stores.logs()
    logs = LogsService(LogsContext(store, config.region, config.account_id))
    # The Kinesis-compatible streams; the subscription dispatcher delivers through this
    # instance (``kinesis.put_internal``), so it is the one to hand over.
    stream_store = stores.streams()
    kinesis = KinesisService(KinesisContext(stream_store, config.region, config.account_id))
    # Lambda: handlers run in worker processes that log to /aws/lambda/<name>; the subscription
    # dispatcher delivers through this instance (resolve / allows_logs / invoke).
    # Each function signs with a key of its own (accepted on the AWS APIs, not on the operator
    # routes) and runs in a sandbox away from the data directory; see lambdas/sandbox.py.
    protect_server()
    function_keys = FunctionKeys(
        config.credentials[0].secret_access_key if config.credentials else None
    )
    runtime = FunctionRuntime(
        worker_environment(config),
        LogsSink(logs.operations),
        keys=function_keys,
        sandbox=Sandbox(protected=[config.data_dir], salt=str(config.data_dir.resolve())),
    )
    lambdas = LambdaService(
        DirectoryFunctionStore(config.data_dir / "lambda"),
        runtime,
        config.region,
        config.account_id,
        config.functions,
    )
    lambda_threads = ThreadPoolExecutor(64, thread_name_prefix="lambda-api")  # Invoke may block
    # Notifications: channels send from the durable outbox; alert rules feed it.
    outbox = Outbox(stores.outbox())
    register_channels(outbox, _channels(config))
    alerts = AlertService(config.alerts, stores.alert_state(), outbox, config.channels)
    # Subscription delivery: one pump per filter, destinations resolved by ARN.
    sinks = {stream.name: FirehoseSink(stream) for stream in config.firehose}
    dead_letters = stores.dead_letters()
    reads, deliveries = Dispatcher.executors()
    dispatcher = Dispatcher(
        PumpContext(
            store,
            Destinations(
                config.region, config.account_id, lambdas, kinesis, sinks, alerts.destinations()
            ),
            dead_letters,
            config.delivery,
            config.account_id,
            reads,
            deliveries,
        ),
        config.region,
        alerts.standing(),
    )
    logs.ctx.delivery = dispatcher
    logs.ctx.max_subscription_filters = config.max_subscription_filters
    # Sources: remote events appended with their positions, exactly once (sources/).
    sources = build_sources(
        config.sources, store, stores.source_positions(store), logs.ctx.writer()
    )  # the writer wakes subscription pumps and live tail sessions alike
    # SNS-compatible topics; their deliveries (email, http/https, lambda) go through the outbox.
    topic_store = stores.topics()
    sns_deliveries = SnsDeliveries(
        topic_store,
        outbox,
        Signer(config.data_dir),
        config.sns_public_url or endpoint_url(config),
        EmailSettings(config.smtp_url, config.smtp_sender),
        lambdas,
    )
    sns_deliveries.register()
    sns = SnsService(
        topic_store, config.region, config.account_id, sns_deliveries, config.sns_auto_confirm
    )
    api = AwsApi(
        [
            Service(PROTOCOLS["json"]("logs", "InvalidParameterException"), logs.operations),
            Service(PROTOCOLS["json"]("kinesis", "ValidationException"), kinesis.operations),
            Service(
                PROTOCOLS["rest-json"]("lambda"),
                lambdas.operations,
                MAX_REQUEST_BYTES,
                lambda_threads,
            ),
            Service(PROTOCOLS["query"]("sns"), sns.operations, anonymous=sns.anonymous),
        ],
        first_known(config.secret_for, function_keys.secret_for),
        config.region,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(
            _enforce_retention(logs, config.retention_check_seconds, kinesis)
        )
        publisher = asyncio.create_task(publish_when_due(list(sinks.values())))
        outbox_task = asyncio.create_task(outbox.run())
        ticker = asyncio.create_task(alerts.tick_forever())
        await dispatcher.start()
        await sources.start()
        try:
            yield
        finally:
            task.cancel()
            publisher.cancel()
            await sources.stop()
            await dispatcher.stop()
            ticker.cancel()
            alerts.close()
            outbox_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await outbox_task
            outbox.close()
            sns_deliveries.close()
            topic_store.close()
            for sink in sinks.values():
                sink.close()
            dead_letters.close()
            lambdas.close()
            runtime.close()  # before the stores: the workers' last log lines still go in
            lambda_threads.shutdown(wait=False, cancel_futures=True)
            store.close()
            stream_store.close()
            lock.release()

    admin = AdminApi(dispatcher, outbox, config.secret_for, config.region, sources)
    routes = admin.routes() + sns_deliveries.routes() + sources.routes()
    return build_app(api, lifespan, routes)
