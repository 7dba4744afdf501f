"""Runs Lambda functions the way AWS does: warm worker processes, one invocation at a time each.

``FunctionRuntime.invoke`` is blocking and thread-safe. It takes a warm worker of the function
(or starts one while the function is under ``max_concurrency``; otherwise it waits for one to
come free), runs the invocation in it from the calling thread, and puts the outcome in Lambda's
terms: the payload, ``Unhandled`` errors with AWS's documents, and the log lines Lambda writes
around each invocation (START, END, REPORT) in the worker's log stream.

A worker whose function changed (a new ``revision``) or was retired is replaced; a worker that
timed out, crashed or failed to start is discarded; an idle worker exits after a few minutes.
All functions together run at most ``max_workers`` processes: at the cap, the least recently
used idle worker of another function is stopped first, and with none idle the invocation waits
for a worker to come free (a thousand functions would otherwise mean four thousand processes).
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import orjson

from logsieve.lambdas.keys import FunctionKeys
from logsieve.lambdas.logcapture import Event, InvocationLog, now_us, stream_name
from logsieve.lambdas.runtime_api import MAX_RESPONSE_BYTES
from logsieve.lambdas.sandbox import Sandbox
from logsieve.lambdas.spec import FunctionSpec, InvokeResult
from logsieve.lambdas.worker import VERSION, Invocation, Outcome, Worker

LogSink = Callable[[str, str, list[tuple[int, str]]], None]  # (group, stream, [(ms, message)])

IDLE_TIMEOUT = 300.0  # seconds a warm worker waits for work before it exits
MAX_WORKERS = 64  # worker processes of all functions at once (as many as Invoke's threads)
_CLOSE_WAIT = 10.0  # seconds close() waits for running invocations to notice

log = logging.getLogger(__name__)


class RuntimeClosedError(RuntimeError):
    """The runtime was closed before or during the invocation (the server is stopping)."""


@dataclass
class _Pool:
    """The workers of one function. Guarded by the runtime's lock."""

    revision: str
    max_concurrency: int
    generation: int = 0  # bumped by a new revision or retire(): older workers are not reused
    idle: list[Worker] = field(default_factory=list)  # most recently used last
    busy: set[Worker] = field(default_factory=set)
    starting: int = 0  # slots taken by workers being started

    @property
    def size(self) -> int:
        return len(self.idle) + len(self.busy) + self.starting


class FunctionRuntime:
    """Warm worker processes for every function, shared by all callers."""

    def __init__(
        self,
        environment: dict[str, str],
        log_sink: LogSink,
        *,
        idle_timeout: float = IDLE_TIMEOUT,
        keys: FunctionKeys | None = None,
        sandbox: Sandbox | None = None,
        max_workers: int = MAX_WORKERS,
    ) -> None:
        self._environment = dict(environment)
        self._max_workers = max(1, max_workers)
        self._evicting = 0  # idle workers of other functions being stopped to make room
        self._log_sink = log_sink
        self._keys = keys  # each function's own key pair in its environment, when given
        self._sandbox = sandbox or Sandbox()
        self._idle_timeout = idle_timeout
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # a worker came free / config changed
        self._pools: dict[str, _Pool] = {}
        self._closed = False
        self._reaper = threading.Thread(target=self._reap_idle, name="lambda-reaper", daemon=True)
        self._reaper.start()
        # A safety net for a runtime that is never closed (the server died of an exception, a
        # test failed): at exit or collection, no worker is left running user code.
        weakref.finalize(self, _kill_all, self._pools)

    def invoke(self, spec: FunctionSpec, event: bytes, tail: bool = False) -> InvokeResult:
        """Run ``spec``'s handler on ``event`` (JSON bytes) and wait for its outcome.

        Raises ``RuntimeClosedError`` if the runtime is closed before or while it runs.
        """
        invocation = Invocation(str(uuid.uuid4()), event, spec.arn)
        group = f"/aws/lambda/{spec.name}"
        while True:
            worker, fresh = self._acquire(spec)
            invocation_log = InvocationLog(
                lambda events, s=worker.log_stream: self._emit(group, s, events)
            )
            try:
                outcome = worker.invoke(invocation, invocation_log)
            except BaseException:
                worker.broken = True
                raise
            finally:
                self._release(spec.name, worker)
            if not outcome.delivered and not fresh and outcome.status in ("exit", "timeout"):
                # A warm worker died (or stopped asking for work) while idle and never saw the
                # event: use another one.
                invocation_log.flush()
                continue
            break
        result = _result(spec, invocation.request_id, outcome, invocation_log)
        invocation_log.flush()
        if self._closed and outcome.status in ("exit", "timeout"):
            raise RuntimeClosedError(f"the Lambda runtime closed while {spec.name} ran")
        if tail:
            return replace(result, log_tail=invocation_log.tail())
        return result

    def retire(self, name: str) -> None:
        """Stop the function's warm workers (it was deleted or updated); running ones finish."""
        with self._lock:
            pool = self._pools.get(name)
            if pool is None:
                return
            pool.generation += 1
            stale, pool.idle = pool.idle, []
            if not pool.busy and not pool.starting:
                del self._pools[name]
            self._changed.notify_all()
        _close_all(stale)

    def close(self) -> None:
        """Stop every worker; invocations still running fail with ``RuntimeClosedError``."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            idle = [worker for pool in self._pools.values() for worker in pool.idle]
            busy = [worker for pool in self._pools.values() for worker in pool.busy]
            for pool in self._pools.values():
                pool.idle = []
            self._changed.notify_all()
        for worker in busy:
            worker.kill()  # their owners notice the exit, reap them and return
        _close_all(idle)
        deadline = time.monotonic() + _CLOSE_WAIT
        with self._lock:
            while any(p.busy or p.starting for p in self._pools.values()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
        self._reaper.join(timeout=_CLOSE_WAIT)
        self._sandbox.close()

    def workers(self, name: str) -> list[int]:
        """Process ids of the function's live workers, the processes running awslambdaric
        (for tests and diagnostics)."""
        with self._lock:
            pool = self._pools.get(name)
            if pool is None:
                return []
            workers = [*pool.idle, *pool.busy]
        return [pid for worker in workers if (pid := worker.runtime_pid) is not None]

    def _acquire(self, spec: FunctionSpec) -> tuple[Worker, bool]:
        """A worker for ``spec``, and whether it was just started."""
        stale: list[Worker] = []
        evicted: list[Worker] = []
        try:
            with self._lock:
                while True:
                    if self._closed:
                        raise RuntimeClosedError("the Lambda runtime is closed")
                    pool = self._pools.get(spec.name)
                    if pool is None:
                        pool = self._pools[spec.name] = _Pool(spec.revision, spec.max_concurrency)
                    if pool.revision != spec.revision:
                        pool.revision = spec.revision
                        pool.generation += 1
                        stale += pool.idle
                        pool.idle = []
                    pool.max_concurrency = spec.max_concurrency
                    while pool.idle:
                        worker = pool.idle.pop()
                        if worker.alive():
                            pool.busy.add(worker)
                            return worker, False
                        stale.append(worker)
                    if pool.size < max(1, pool.max_concurrency):
                        if self._workers_held() >= self._max_workers:
                            victim = self._least_recently_used_idle()
                            if victim is None:  # every worker busy: wait for one to end
                                self._changed.wait()
                                continue
                            evicted.append(victim)
                            self._evicting += 1
                        pool.starting += 1
                        generation = pool.generation
                        break
                    self._changed.wait()
        finally:
            _close_all(stale + evicted)
            if evicted:
                with self._lock:
                    self._evicting -= len(evicted)
                    self._changed.notify_all()
        try:
            environment = self._environment
            if self._keys is not None:
                environment = {**environment, **self._keys.environment(spec.arn)}
            worker = Worker(spec, environment, stream_name(), self._sandbox)
        except BaseException:
            with self._lock:
                pool.starting -= 1
                self._changed.notify()
            raise
        worker.generation = generation
        with self._lock:
            pool.starting -= 1
            closed = self._closed
            if not closed:
                pool.busy.add(worker)
            self._changed.notify_all()
        if closed:
            worker.close()
            raise RuntimeClosedError("the Lambda runtime is closed")
        return worker, True

    def _workers_held(self) -> int:
        """Worker processes of every function, running, idle, starting or being stopped to
        make room (under the lock)."""
        return self._evicting + sum(pool.size for pool in self._pools.values())

    def _least_recently_used_idle(self) -> Worker | None:
        """Take the idle worker (of any function) unused for longest out of its pool (under
        the lock); None when none is idle."""
        idle = [(w.last_used, id(w), w, p) for p in self._pools.values() for w in p.idle]
        if not idle:
            return None
        *_, worker, pool = min(idle, key=lambda entry: entry[:2])
        pool.idle.remove(worker)
        return worker

    def _release(self, name: str, worker: Worker) -> None:
        """Back to the idle list, or closed; a closing worker keeps its slot until it is reaped,
        so the cap holds for processes, and close() returns with no child left behind."""
        with self._lock:
            pool = self._pools.get(name)  # never removed while one of its workers is busy
            assert pool is not None
            stale = worker.generation != pool.generation
            if not (worker.broken or stale or self._closed):
                pool.busy.discard(worker)
                pool.idle.append(worker)
                self._changed.notify_all()
                return
        try:
            worker.close()
        finally:
            with self._lock:
                pool.busy.discard(worker)
                self._changed.notify_all()

    def _emit(self, group: str, stream: str, events: list[Event]) -> None:
        """Hand events to the sink; a failing sink must not fail the invocation."""
        try:
            self._log_sink(group, stream, events)
        except Exception:
            log.exception("event=lambda_log_sink_failed group=%s stream=%s", group, stream)

    def _reap_idle(self) -> None:
        """Stop workers idle for longer than ``idle_timeout``."""
        period = max(0.05, min(self._idle_timeout / 4, 10.0))
        while True:
            with self._lock:
                if self._closed:
                    return
                self._changed.wait(period)
                if self._closed:
                    return
                cutoff = time.monotonic() - self._idle_timeout
                expired: list[Worker] = []
                for pool in self._pools.values():
                    expired += [worker for worker in pool.idle if worker.last_used < cutoff]
                    pool.idle = [worker for worker in pool.idle if worker.last_used >= cutoff]
            _close_all(expired)


def _kill_all(pools: dict[str, _Pool]) -> None:
    for pool in list(pools.values()):
        for worker in [*pool.idle, *pool.busy]:
            worker.kill()


def _close_all(workers: list[Worker]) -> None:
    for worker in workers:
        try:
            worker.close()
        except Exception:
            log.exception("event=lambda_worker_close_failed pid=%s", worker.pid)


def _iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _result(
    spec: FunctionSpec, request_id: str, outcome: Outcome, invocation_log: InvocationLog
) -> InvokeResult:
    """Lambda's view of an outcome, with the platform's log lines written around it."""
    status_note = ""
    if not outcome.delivered:  # failed before the event reached the handler
        invocation_log.add(now_us(), f"START RequestId: {request_id} Version: {VERSION}")
    if outcome.status == "response":
        payload, function_error = outcome.payload, None
    elif outcome.status in ("error", "init_error"):
        payload, function_error = outcome.payload, "Unhandled"
        if outcome.status == "init_error":
            status_note = f"\tStatus: error\tError Type: {_error_type(outcome.payload)}"
    elif outcome.status == "timeout":
        message = f"{_iso_now()} {request_id} Task timed out after {spec.timeout:.2f} seconds"
        invocation_log.add(now_us(), message)
        payload, function_error = orjson.dumps({"errorMessage": message}), "Unhandled"
        status_note = "\tStatus: timeout"
    elif outcome.status == "too_large":
        payload = orjson.dumps(
            {
                "errorMessage": "Response payload size exceeded maximum allowed payload size "
                f"({MAX_RESPONSE_BYTES} bytes).",
                "errorType": "Function.ResponseSizeTooLarge",
            }
        )
        function_error = "Unhandled"
    else:  # the process ended mid-invocation (or was killed for its memory)
        message = f"RequestId: {request_id} Error: Runtime exited with error: {outcome.exit_reason}"
        error_type = "Runtime.OutOfMemory" if outcome.out_of_memory else "Runtime.ExitError"
        if outcome.out_of_memory:
            outcome.max_memory_mb = spec.memory_mb
        invocation_log.add(now_us(), f"{message}\n{error_type}")
        payload = orjson.dumps({"errorType": error_type, "errorMessage": message})
        function_error = "Unhandled"
        status_note = f"\tStatus: error\tError Type: {error_type}"
    invocation_log.add(now_us(), f"END RequestId: {request_id}")
    duration = outcome.duration_ms
    report = (
        f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms"
        f"\tBilled Duration: {max(1, math.ceil(duration))} ms"
        f"\tMemory Size: {spec.memory_mb} MB\tMax Memory Used: {outcome.max_memory_mb} MB"
    )
    if outcome.init_duration_ms is not None:
        report += f"\tInit Duration: {outcome.init_duration_ms:.2f} ms"
    invocation_log.add(now_us(), report + status_note)
    return InvokeResult(request_id, payload, function_error, "", duration)


def _error_type(document: bytes) -> str:
    try:
        return str(orjson.loads(document).get("errorType", "Runtime.Unknown"))
    except (orjson.JSONDecodeError, AttributeError):
        return "Runtime.Unknown"
