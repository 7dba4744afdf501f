"""The composition root: build every part from the configuration."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from .alerts.config import ALERTS
from .alerts.service import AlertService
from .api.admin import AdminApi
from .api.ec2_operator import ec2_routes
from .api.protocols import PROTOCOLS
from .api.server import AwsApi, Service, build_app
from .api.sns_certificate import certificate_routes
from .check.own import own_checks
from .cloudtrail import Identities, build_cloudtrail
from .cluster import CLUSTER, build_ownership
from .config import Config, client_credential, endpoint_url
from .console import Console, ConsoleServices
from .console.settings import CONSOLE
from .destinations import Destinations, FirehoseSink
from .destinations.firehose import FIREHOSE, publish_when_due
from .ec2 import build_ec2, connection_log_writer
from .errors import ConfigError
from .kinesis import KinesisContext, KinesisService
from .lambdas import (
    MAX_REQUEST_BYTES,
    FunctionKeys,
    LambdaService,
    LogsSink,
    Sandbox,
    first_known,
    protect_server,
    worker_environment,
)
from .lambdas.declared import FUNCTIONS
from .lambdas.runtime import FunctionRuntime
from .lambdas.store_jetstream import open_function_store
from .logs import LogsContext, LogsService
from .metrics import RETENTION_SECONDS, StoreReader, build_cloudwatch
from .metrics.alarms import build_alarms
from .notify.channels import build_channels, register_channels
from .notify.config import CHANNELS
from .notify.outbox import Outbox
from .notify.smtp import SmtpSettings
from .notify.sns_delivery import EmailSettings, SnsDeliveries
from .sns import SnsService
from .sns.signing import Signer
from .sources import build_sources
from .sources.config import SOURCES
from .storage import datadir
from .storage.disk import DiskFull
from .storage.factory import Stores, open_stores
from .storage.settings import STORAGE
from .sts import StsService
from .subscriptions import Dispatcher, EventCache, MetricCounting, PumpContext
from .subscriptions.settings import DELIVERY

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
        CHANNELS.of(config), config.smtp_url, config.smtp_sender, endpoint_url(config),
        config.region, credential,
    )  # fmt: skip


async def _enforce_retention(every: float, passes: Mapping[str, Callable[[], int]]) -> None:
    """Run each store's expiry pass every ``every`` seconds; one failing pass never starves
    the others, and a full disk (logged once by the disk state) is retried next time."""
    while True:
        for name, expire in passes.items():
            try:
                deleted = await run_in_threadpool(expire)
                if deleted:
                    log.info("%s deleted=%d", name, deleted)
            except DiskFull:
                pass
            except Exception:  # keep the loop alive; the next pass retries
                log.exception("%s pass failed", name)
        await asyncio.sleep(every)


def create_app(config: Config) -> Starlette:
    """The server's app. Claims the data directory first (private, one server at a time:
    ``DataDirInUse`` before anything is opened, bound or started); the lock is held until the
    app shuts down or the process ends."""
    lock = datadir.claim(config.data_dir)
    try:
        with contextlib.ExitStack() as opened:
            opened.callback(lock.release)  # the lock goes last, after every store is closed
            app = _build(config, opened)
            app.state.resources = opened.pop_all()  # from here the app's lifespan owns them
            return app
    except DiskFull:
        raise ConfigError(
            f"the disk holding data directory {config.data_dir} is full, so its databases "
            "cannot be opened; free space on it and start again"
        ) from None


class _LogsLater:
    """The Lambda runtime's log sink, forwarding to the Logs service once it is built.

    Functions log through the Logs service, whose delivery (the dispatcher) invokes the
    functions: the one cycle in the graph. It is closed here, in one place, before anything
    runs, so no context is patched after it is built."""

    def __init__(self) -> None:
        self.sink: LogsSink | None = None

    def __call__(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        if self.sink is None:
            raise RuntimeError("the Logs service is not built yet")
        self.sink(group, stream, events)


def _build_lambdas(
    config: Config, opened: contextlib.ExitStack, log_sink: _LogsLater
) -> tuple[LambdaService, FunctionKeys, ThreadPoolExecutor]:
    """Lambda: handlers run in worker processes that log to /aws/lambda/<name>; the dispatcher
    delivers through the service (resolve / allows_logs / invoke). Each function signs with a
    key of its own (accepted on the AWS APIs, not on the operator routes) and runs in a sandbox
    away from the data directory; see lambdas/sandbox.py."""
    protect_server()
    function_keys = FunctionKeys(
        config.credentials[0].secret_access_key if config.credentials else None
    )
    threads = ThreadPoolExecutor(64, thread_name_prefix="lambda-api")  # Invoke may block
    opened.callback(threads.shutdown, wait=False, cancel_futures=True)
    runtime = FunctionRuntime(
        worker_environment(config),
        log_sink,
        keys=function_keys,
        sandbox=Sandbox(protected=[config.data_dir], salt=str(config.data_dir.resolve())),
    )
    opened.callback(runtime.close)  # before the event log: the workers' last lines still go in
    storage = STORAGE.of(config)
    function_store = open_function_store(
        config.data_dir / "lambda", storage.engine, storage.jetstream
    )
    opened.callback(function_store.close)
    lambdas = LambdaService(
        function_store, runtime, config.region, config.account_id, FUNCTIONS.of(config)
    )
    opened.callback(lambdas.close)
    return lambdas, function_keys, threads


def _build_notify(
    config: Config, stores: Stores, opened: contextlib.ExitStack
) -> tuple[Outbox, AlertService]:
    """Notifications: channels send from the durable outbox; alert rules feed it."""
    outbox = Outbox(stores.outbox())
    opened.callback(outbox.close)
    register_channels(outbox, _channels(config))
    alerts = AlertService(ALERTS.of(config), stores.alert_state(), outbox, CHANNELS.of(config))
    opened.callback(alerts.close)
    return outbox, alerts


def _build_sns(
    config: Config,
    stores: Stores,
    opened: contextlib.ExitStack,
    outbox: Outbox,
    lambdas: LambdaService,
) -> tuple[SnsService, SnsDeliveries]:
    """SNS-compatible topics; their deliveries (email, http/https, lambda) go through the
    outbox."""
    topic_store = stores.topics()
    opened.callback(topic_store.close)
    deliveries = SnsDeliveries(
        topic_store,
        outbox,
        Signer(config.data_dir),
        config.sns_public_url or endpoint_url(config),
        EmailSettings(config.smtp_url, config.smtp_sender),
        lambdas,
    )
    opened.callback(deliveries.close)
    deliveries.register()
    sns = SnsService(
        topic_store, config.region, config.account_id, deliveries, config.sns_auto_confirm
    )
    return sns, deliveries


def _build(config: Config, opened: contextlib.ExitStack) -> Starlette:
    """Open and build every part; each close is registered on ``opened`` right after its open,
    so they run in reverse: the event log last, after the Lambda runtime that writes to it."""
    storage = STORAGE.of(config)
    stores = open_stores(config.data_dir, storage.engine, storage.jetstream)  # storage/factory.py
    store = stores.logs()
    opened.callback(store.close)
    stream_store = stores.streams()
    opened.callback(stream_store.close)
    # The dispatcher delivers to Kinesis through this instance (``kinesis.put_internal``).
    kinesis = KinesisService(KinesisContext(stream_store, config.region, config.account_id))
    lambda_logs = _LogsLater()
    lambdas, function_keys, lambda_threads = _build_lambdas(config, opened, lambda_logs)
    dead_letters = stores.dead_letters()
    opened.callback(dead_letters.close)
    sinks = {stream.name: FirehoseSink(stream) for stream in FIREHOSE.of(config)}
    for sink in sinks.values():
        opened.callback(sink.close)
    outbox, alerts = _build_notify(config, stores, opened)
    # Background jobs run on the node holding their lease (cluster/): here, on SQLite.
    leases = stores.leases()
    opened.callback(leases.close)
    ownership, poll = build_ownership(leases, CLUSTER.of(config))
    signals = stores.signals() if poll is not None else None  # appends through other nodes
    if signals is not None:
        opened.callback(signals.close)
    # Subscription delivery: one pump per filter, destinations resolved by ARN.
    reads, deliveries = Dispatcher.executors()
    metric_store = stores.metrics()  # CloudWatch metrics (metrics/)
    opened.callback(metric_store.close)
    parsed = EventCache()  # events parsed once for subscriptions and metric filters alike
    dispatcher = Dispatcher(
        PumpContext(
            store,
            Destinations(
                config.region, config.account_id, lambdas, kinesis, sinks, alerts.destinations()
            ),
            dead_letters,
            DELIVERY.of(config),
            config.account_id,
            reads,
            deliveries,
            parsed,
            poll_seconds=poll,
        ),
        config.region,
        alerts.standing(),
        MetricCounting(
            store, metric_store, reads, cache=parsed, ownership=ownership, poll_seconds=poll
        ),
        ownership,
        signals,
    )
    logs = LogsService(
        LogsContext(
            store,
            config.region,
            config.account_id,
            max_subscription_filters=config.max_subscription_filters,
            delivery=dispatcher,
        )
    )
    lambda_logs.sink = LogsSink(logs.operations)
    # Sources: remote events appended with their positions, exactly once (sources/); the
    # writer wakes subscription pumps and live tail sessions alike.
    sources = build_sources(
        SOURCES.of(config), store, stores.source_positions(store), logs.ctx.writer()
    )
    sns, sns_deliveries = _build_sns(config, stores, opened, outbox, lambdas)
    trail_store = stores.cloudtrail()  # CloudTrail; the recorder records every signed call
    opened.callback(trail_store.close)
    identities = Identities(config.account_id, config.user_name_for, function_keys.owner)
    trails, recorder = build_cloudtrail(
        trail_store, config.region, config.account_id, logs.operations, identities
    )
    opened.callback(recorder.close)  # its last deliveries go to the event log, still open
    ec2_store = stores.ec2()  # VPCs, flow logs, Client VPN endpoints (ec2/)
    opened.callback(ec2_store.close)
    connection_logs = connection_log_writer(logs.operations)  # into existing groups only
    ec2 = build_ec2(ec2_store, config.region, config.account_id, lambdas, connection_logs)
    opened.callback(ec2.close)
    alarms = build_alarms(
        stores, config.region, config.account_id, outbox, sns, lambdas, StoreReader(metric_store)
    )
    opened.callback(alarms.close)  # after the outbox task stopped: its sends write history
    cloudwatch = {**build_cloudwatch(metric_store), **alarms.operations}
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
            Service(PROTOCOLS["json"]("cloudtrail"), trails.operations),
            Service(PROTOCOLS["query"]("sts"), {}, of_caller=StsService(identities).of_caller),
            Service(PROTOCOLS["ec2"]("ec2"), ec2.operations),
            Service(PROTOCOLS["json"]("cloudwatch"), cloudwatch),
            Service(PROTOCOLS["query"]("cloudwatch"), cloudwatch),
            Service(PROTOCOLS["smithy-rpc-v2-cbor"]("cloudwatch"), cloudwatch),
        ],
        first_known(config.secret_for, function_keys.secret_for),
        config.region,
        recorder=recorder,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as running:
            running.enter_context(app.state.resources)  # closed after every task stopped
            _start(running, ownership.run())
            _start(running, ownership.hold("outbox", lambda _: outbox.run()))
            _start(running, ownership.hold("alert-ticks", lambda _: alerts.tick_forever()))
            _start(running, ownership.hold("alarms", lambda _: _while(alarms.start, alarms.stop)))
            await dispatcher.start()
            running.push_async_callback(dispatcher.stop)
            recorder.start()  # on every node: it records the calls this node answers
            sourcing = ownership.hold("sources", lambda _: _while(sources.start, sources.stop))
            _start(running, sourcing)
            # on every node: each publishes the Firehose spool its own deliveries wrote
            _start(running, publish_when_due(list(sinks.values())))
            expiry = {
                "metric retention": lambda: metric_store.expire(
                    int(time.time()) - RETENTION_SECONDS
                ),
                "retention": logs.expire,
                "kinesis retention": kinesis.expire,
            }
            every = config.retention_check_seconds
            retention = ownership.hold("retention", lambda _: _enforce_retention(every, expiry))
            _start(running, retention)
            running.callback(stores.stopping)  # first at shutdown: waits on the cluster end
            yield

    admin = AdminApi(dispatcher, outbox, config.secret_for, config.region, sources)
    routes = admin.routes() + certificate_routes(sns_deliveries.signer) + sources.routes()
    routes += ec2_routes(ec2, config.secret_for, config.region)
    # The web console (console/): its own sessions; `logsieve serve` prints its sign-in URL.
    console = Console(
        ConsoleServices(
            logs,
            dispatcher,
            dead_letters,
            outbox,
            alerts,
            # the playground, metrics, sources and checks pages
            extra={
                "lambdas": lambdas,
                "cloudwatch": cloudwatch,
                "sources": sources,
                "checks": own_checks(config.credentials, config.region),
            },
        ),
        config.secret_for,
        allowed_hosts=[config.host, *CONSOLE.of(config).allowed_hosts],
    )
    app = build_app(api, lifespan, routes + console.routes())
    app.state.console = console
    return app


async def _while(start: Callable[[], Any], stop: Callable[..., Coroutine[Any, Any, None]]) -> None:
    """Run a component between ``start()`` and ``stop()`` (given what start returned, if
    anything), until cancelled: a job held by this node (cluster/)."""
    started = start()
    if asyncio.iscoroutine(started):
        started = await started
    try:
        await asyncio.Event().wait()
    finally:
        await (stop() if started is None else stop(started))


def _start(running: contextlib.AsyncExitStack, work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` as a task until ``running`` closes, then cancel it and wait for it."""
    task = asyncio.create_task(work)

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    running.push_async_callback(stop)
