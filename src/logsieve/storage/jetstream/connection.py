"""A blocking facade over nats-py's asyncio client, for the synchronous storage protocols.

Each :class:`Connection` runs its own event loop on a dedicated thread; a store method hands a
coroutine to it with :meth:`Connection.run` and waits for the result with a deadline, so the
stores stay plain synchronous objects (as the SQLite ones are) and callers on any thread may
use them. nats-py reconnects on its own (to any URL of the cluster, forever); what the caller
sees during an outage is :class:`ClusterUnavailable` naming the URLs once a call's deadline
passes. Publishes retry the 503 "no responders" a stream answers while it elects a leader
(the client does not, see scaleout-console.md §4 "RAFT").
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import ssl
import threading
import time
import weakref
from collections.abc import Coroutine
from typing import Any, TypeVar

import nats
from nats.aio.client import Client
from nats.errors import AuthorizationError, NoRespondersError, NoServersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext, api
from nats.js.errors import (
    APIError,
    BadRequestError,
    BucketNotFoundError,
    NoStreamResponseError,
    NotFoundError,
    ServiceUnavailableError,
)
from nats.js.kv import KeyValue

from .errors import ClusterRefused, ClusterUnavailable, refusal
from .options import JetStreamOptions

__all__ = ["Connection", "cut_short_calls_after"]

log = logging.getLogger(__name__)
T = TypeVar("T")

# What a publish or API call raises while a leader is being elected: worth another try.
_TRANSIENT = (
    NoStreamResponseError,
    NoRespondersError,
    ServiceUnavailableError,
    NatsTimeout,
    TimeoutError,
)
# err_code 10005 "no suitable peers for placement, peer offline": a server restarting or not
# yet known to the meta leader; placement succeeds once it is back.
_NO_PEERS_YET = 10005
# err_code 10059 "stream not found" just after an R3 stream's creation (by this node or
# another): a server answers before it has the stream. Every stream called through
# ``retrying`` was ensured when its store opened, so it is there in a moment.
_STREAM_NOT_YET_SEEN = 10059
_TRANSIENT_CODES = (_NO_PEERS_YET, _STREAM_NOT_YET_SEEN)
# err_code 10058 "stream name already in use with a different configuration": a create that
# found the stream (made by another node, or by an older version); any other 400 is a refusal
_NAME_IN_USE = 10058


def _transient(exc: Exception) -> bool:
    return isinstance(exc, _TRANSIENT) or getattr(exc, "err_code", None) in _TRANSIENT_CODES


_RETRY_PAUSE = 0.25  # ADR-22's suggested client retry interval
# How long calls keep retrying, in connection timeouts: killing a stream's leader on the
# 3-node test cluster stalled writes for 5.9 s before a new leader took them.
_FAILOVER_TIMEOUTS = 3
_SETUP_CALLS = 3  # call budgets an opening step may take (its retried requests in a row)


# Every open connection of this process, for cut_short_calls_after.
_OPEN: weakref.WeakSet[Connection] = weakref.WeakSet()


def cut_short_calls_after(seconds: float) -> None:
    """The server is stopping: calls of every connection still waiting ``seconds`` from now
    give up with ``ClusterUnavailable``, and later ones try once. With its cluster gone, a
    stopping node's threads would otherwise wait out whole call budgets (20 s each), some
    holding a store's lock its close needs."""

    def cut() -> None:
        for connection in list(_OPEN):
            connection.cut_short()

    timer = threading.Timer(seconds, cut)
    timer.daemon = True
    timer.start()


def _tls(options: JetStreamOptions) -> ssl.SSLContext | None:
    if not (options.tls_ca_file or options.tls_cert_file):
        return None
    context = ssl.create_default_context(cafile=options.tls_ca_file)
    if options.tls_cert_file:
        context.load_cert_chain(options.tls_cert_file, options.tls_key_file)
    return context


def _text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


class ConnectErrors:
    """The errors nats-py reports while connecting, and the one worth naming: the server
    answers a refused login with an authorization error and then drops the socket, so the
    resets that follow would otherwise hide why."""

    def __init__(self) -> None:
        self.last: str | None = None
        self.refused: str | None = None

    def record(self, exc: BaseException) -> None:
        self.last = _text(exc)
        # nats-py raises AuthorizationError on the CONNECT reply, but a plain Error carrying
        # "nats: 'Authorization Violation'" when the -ERR arrives later in its read loop.
        if isinstance(exc, AuthorizationError) or "authorization" in self.last.lower():
            self.refused = self.last

    @property
    def reason(self) -> str | None:
        return self.refused or self.last


class Connection:
    """One client connection to the cluster, with its own event-loop thread."""

    def __init__(self, options: JetStreamOptions, name: str = "logsieve") -> None:
        self.options = options
        self._errors = ConnectErrors()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"nats-{name}", daemon=True
        )
        self._thread.start()
        self._closed = False
        self._track_calls()
        try:
            self.nc: Client = self.run(self._connect(name), options.timeout_seconds + 1)
        except BaseException:
            self._stop_loop()
            raise
        self.js: JetStreamContext = self.nc.jetstream(timeout=options.timeout_seconds)

    def _track_calls(self) -> None:
        """Keep the calls in flight, so a stopping node can cut them short."""
        self._stopping = False  # cut_short(): calls try once, no failover budget
        self._pending: set[concurrent.futures.Future[Any]] = set()
        self._pending_lock = threading.Lock()
        _OPEN.add(self)

    # --- the blocking bridge ------------------------------------------------------------

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the connection's loop and wait for it (at most ``timeout`` s)."""
        return self.wait(self.submit(coro), timeout)

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start ``coro`` on the connection's loop without waiting (a read fetching ahead)."""
        if self._closed:
            coro.close()
            raise RuntimeError("the JetStream connection is closed")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        with self._pending_lock:
            self._pending.add(future)
        future.add_done_callback(self._settled)
        return future

    def _settled(self, future: concurrent.futures.Future[Any]) -> None:
        with self._pending_lock:
            self._pending.discard(future)

    def cut_short(self) -> None:
        """Cancel the calls in flight (their callers get ``ClusterUnavailable`` at once) and
        give later ones a single attempt's timeout: the node is stopping."""
        self._stopping = True
        with self._pending_lock:
            pending = list(self._pending)
        for future in pending:
            future.cancel()

    def wait(self, future: concurrent.futures.Future[T], timeout: float | None = None) -> T:
        """The result of a ``submit``ted call (at most ``timeout`` s, else the call budget)."""
        wait = timeout if timeout is not None else self.call_budget()
        if self._stopping:
            wait = min(wait, self.options.timeout_seconds)
        try:
            return future.result(wait)
        except concurrent.futures.TimeoutError:
            if future.done() and not future.cancelled():  # the call's own request timed out
                each = self.options.timeout_seconds
                raise self._unavailable(f"a request got no answer within {each:g} s") from None
            if not self._loop.is_closed():  # else cancelling it would only log "loop closed"
                future.cancel()
            raise self._unavailable(f"no answer within {wait:g} s") from None
        except concurrent.futures.CancelledError:
            raise self._unavailable("the node is stopping; the call was cut short") from None

    def setup(self, coro: Coroutine[Any, Any, T]) -> T:
        """``run`` a store's opening step (ensuring streams, buckets, their options), with
        ``setup_budget``."""
        return self.run(coro, self.setup_budget())

    def setup_budget(self) -> float:
        """The longest an opening step waits: on a new cluster each of its several retried
        requests may wait a whole timeout for an answer while the servers elect the new
        streams' leaders (three nodes started at once took over 20 s)."""
        return self.call_budget() * _SETUP_CALLS

    def call_budget(self) -> float:
        """The longest a call waits: retries through a failover, plus one attempt's timeout."""
        return self.options.timeout_seconds * (_FAILOVER_TIMEOUTS + 1)

    def _unavailable(self, what: str) -> ClusterUnavailable:
        reason = self._errors.reason
        last = f" (last error: {reason})" if reason else ""
        return ClusterUnavailable(
            f"the NATS cluster at {self.options.describe()} is unreachable: {what}{last}; "
            "check that it runs (`logsieve cluster up` starts a local one) and the [storage] "
            "nats_urls and credentials"
        )

    def _refused(self, what: str, exc: APIError) -> ClusterRefused:
        return ClusterRefused(
            refusal(
                what,
                self.options.describe(),
                self.options.replicas,
                exc.err_code,
                exc.description or str(exc),
            )
        )

    async def _connect(self, name: str) -> Client:
        options = self.options

        async def error(exc: Exception) -> None:
            self._errors.record(exc)
            log.warning("nats error=%s urls=%s", _text(exc), options.describe())

        kwargs: dict[str, Any] = {
            "servers": list(options.urls),
            "name": name,
            "error_cb": error,
            "allow_reconnect": True,
            "max_reconnect_attempts": -1,
            "reconnect_time_wait": 0.5,
            # A server gone silent (partitioned, frozen) is noticed in about 4 s and the client
            # moves to another; nats-py's default pings (2 x 120 s) left every call failing.
            "ping_interval": 2,
            "max_outstanding_pings": 2,
            "connect_timeout": max(1, int(options.timeout_seconds)),
            "tls": _tls(options),
            "user": options.user,
            "password": options.password,
            "token": options.token,
            "user_credentials": options.creds_file,
        }
        try:
            return await asyncio.wait_for(
                nats.connect(**{k: v for k, v in kwargs.items() if v is not None}),
                options.timeout_seconds,
            )
        except (TimeoutError, NoServersError, OSError) as exc:
            raise self._unavailable(f"no connection within {options.timeout_seconds:g} s") from exc

    # --- names and resources ------------------------------------------------------------

    def name(self, part: str) -> str:
        """A stream or bucket name in this deployment's namespace."""
        return f"{self.options.namespace}_{part}"

    def subject(self, *tokens: object) -> str:
        """A subject in this deployment's namespace."""
        return ".".join((self.options.namespace, *map(str, tokens)))

    async def retrying(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        """``await call(*args, **kwargs)``, again while the cluster elects a leader (for up
        to three connection timeouts)."""
        deadline = time.monotonic() + self.options.timeout_seconds * _FAILOVER_TIMEOUTS
        while True:
            try:
                return await call(*args, **kwargs)
            except Exception as exc:
                if not _transient(exc) or time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(_RETRY_PAUSE)

    async def stream_if_any(self, stream: str) -> api.StreamInfo | None:
        """The info of ``stream``, or None when it does not exist: a probe, so "stream not
        found" (10059) is its answer, not a stream not yet seen; timeouts are retried."""

        async def probe() -> api.StreamInfo | None:
            try:
                return await self.js.stream_info(stream)
            except NotFoundError:
                return None

        return await self.retrying(probe)

    async def ensure_stream(self, config: api.StreamConfig) -> None:
        """Create the stream, or update it to ``config`` when it exists otherwise."""
        config = config.evolve(num_replicas=self.options.replicas)
        try:
            await self.retrying(self.js.add_stream, config)
        except BadRequestError as refused:  # exists with another configuration?
            if refused.err_code != _NAME_IN_USE:  # no: its creation itself was refused
                raise self._refused(f"stream {config.name}", refused) from refused
            try:
                await self.retrying(self.js.update_stream, config)
            except NotFoundError:  # no: its creation itself was refused
                raise self._refused(f"stream {config.name}", refused) from refused
            except APIError as exc:
                raise self._refused(f"stream {config.name}", exc) from exc

    async def ensure_kv(self, bucket: str, **config: Any) -> KeyValue:
        """The bucket ``bucket`` of this namespace, created on first use."""
        name = self.name(bucket)
        try:  # retried: a new cluster's servers may not answer in time (nats: timeout)
            return await self.retrying(self.js.key_value, name)
        except BucketNotFoundError:
            kv_config = api.KeyValueConfig(bucket=name, replicas=self.options.replicas, **config)
            try:
                return await self.retrying(self.js.create_key_value, kv_config)
            except BadRequestError as refused:  # another node created it first?
                if refused.err_code != _NAME_IN_USE:  # no: its creation was refused
                    raise self._refused(f"bucket {name}", refused) from refused
                await self.retrying(self.js.stream_info, f"KV_{name}")  # visible here too
                return await self.retrying(self.js.key_value, name)

    async def ensure_counters(self) -> str:
        """This namespace's counter stream (ADR-49: every subject is a counter); its name."""
        stream = self.name("counters")
        await self.ensure_stream(
            api.StreamConfig(
                name=stream, subjects=[self.subject("counter", ">")], allow_msg_counter=True
            )
        )
        return stream

    async def next_id(self, counter: str) -> int:
        """The next value of ``counter`` (1, 2, 3...): unique cluster-wide, never reused.

        ``ensure_counters`` must have run on this connection's namespace.
        """
        ack = await self.retrying(
            self.js.publish, self.subject("counter", counter), b"", headers={"Nats-Incr": "+1"}
        )
        return int(ack.val)

    # --- closing -------------------------------------------------------------------------

    def close(self) -> None:
        """Drain and close the connection, then stop its loop. Idempotent."""
        if self._closed:
            return
        try:
            self.run(self.nc.close(), self.options.timeout_seconds)
        except Exception as exc:  # closing a connection to a dead cluster is still closing
            log.warning("nats close error=%s", exc)
        finally:
            self._closed = True
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()
