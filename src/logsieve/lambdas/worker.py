"""One worker process running AWS's runtime interface client (awslambdaric) for one function.

The worker is ``python -m awslambdaric <handler>`` started with the server's own interpreter,
talking to its private Runtime API endpoint (``runtime_api``), which answers that process only.
It runs under a supervisor process (``supervisor``) in a place the sandbox prepared
(``sandbox``: its own directories and, as root, its own user), which kills whatever the handler
started when the worker is killed (timeout, retirement, shutdown) or the server dies.

Whoever runs an invocation owns the worker for its duration and drives everything from one
selector loop in the calling thread: the Runtime API socket, the stdout/stderr pipe, the
telemetry pipe and a pidfd that reports the process's death. Because the outcome (a POST on the
socket) can only be sent after the handler's output was written to the pipes, draining the pipes
once the outcome has arrived attributes every line to the right invocation, with no markers.
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import os
import select
import selectors
import signal
import socket
import subprocess
import sys
import termios
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import awslambdaric

from logsieve.lambdas import peers
from logsieve.lambdas.logcapture import FrameDecoder, InvocationLog, LineSplitter, now_us
from logsieve.lambdas.runtime_api import Call, Connection, RuntimeApiEndpoint
from logsieve.lambdas.sandbox import Placement, Sandbox
from logsieve.lambdas.spec import FunctionSpec
from logsieve.lambdas.supervisor import OUT_OF_MEMORY

INIT_TIMEOUT = 10.0  # seconds: Lambda's limit for the init phase (imports, module-level code)
VERSION = "$LATEST"
_READ_BYTES = 256 * 1024
_POLL_WITHOUT_PIDFD = 0.05  # seconds, only where the kernel has no pidfd_open
_STOP_WAIT = 5.0  # seconds the supervisor gets to kill the worker's tree before it is SIGKILLed
_RIC_PATH = str(Path(awslambdaric.__file__).resolve().parent.parent)

_LISTENER, _OUTPUT, _TELEMETRY, _EXIT = "listener", "output", "telemetry", "exit"

# How Go's os/exec (which Lambda's runtime supervisor is written in) names a process's end.
_SIGNAL_NAMES = {
    signal.SIGABRT: "aborted",
    signal.SIGALRM: "alarm clock",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGHUP: "hangup",
    signal.SIGILL: "illegal instruction",
    signal.SIGINT: "interrupt",
    signal.SIGKILL: "killed",
    signal.SIGPIPE: "broken pipe",
    signal.SIGQUIT: "quit",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGTERM: "terminated",
    signal.SIGTRAP: "trace/breakpoint trap",
    signal.SIGUSR1: "user defined signal 1",
    signal.SIGUSR2: "user defined signal 2",
}


@dataclass(frozen=True)
class Invocation:
    request_id: str
    event: bytes
    arn: str


@dataclass
class Outcome:
    """How an invocation ended, before it is put in Lambda's terms.

    ``status``: "response", "error" (the handler raised; awslambdaric's document), "init_error",
    "too_large" (a response over 6 MB), "timeout", or "exit" (the process ended; ``delivered``
    says whether the event had reached it).
    """

    status: str
    payload: bytes = b""
    exit_reason: str = ""
    out_of_memory: bool = False  # the process tree went over MemorySize and was killed
    delivered: bool = False
    duration_ms: float = 0.0
    init_duration_ms: float | None = None
    max_memory_mb: int = 0


def _pending_bytes(fd: int) -> int:
    """Bytes waiting in a pipe (FIONREAD)."""
    try:
        return int.from_bytes(fcntl.ioctl(fd, termios.FIONREAD, bytes(4)), sys.byteorder)
    except OSError:
        return 0


def _output_first(ready: tuple[selectors.SelectorKey, int]) -> int:
    return 0 if ready[0].data in (_OUTPUT, _TELEMETRY) else 1


def exit_reason(returncode: int | None) -> str:
    """``exit status 1`` / ``signal: killed``, as Lambda words a runtime's end."""
    if returncode is None:
        return "signal: killed"
    if returncode >= 0:
        return f"exit status {returncode}"
    try:
        name = _SIGNAL_NAMES.get(signal.Signals(-returncode), f"signal {-returncode}")
    except ValueError:
        name = f"signal {-returncode}"
    return f"signal: {name}"


def trace_id() -> str:
    """An X-Ray trace header like the one Lambda hands to every invocation."""
    root = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    return f"Root={root};Parent={uuid.uuid4().hex[:16]};Sampled=0"


def worker_environment(
    spec: FunctionSpec,
    base: Mapping[str, str],
    api_address: str,
    log_stream: str,
    telemetry_fd: int,
    tmp: str | None = None,
) -> dict[str, str]:
    """The environment a Lambda execution environment has, over the server's base settings.

    Reserved variables come last so a function's configuration cannot override them, as in
    AWS. The server's own environment is not inherited (its credentials and profiles are not the
    function's); only PATH is kept so handlers can still run programs.
    """
    code_dir = str(spec.code_dir)
    env = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"), "LANG": "en_US.UTF-8"}
    env["TZ"] = ":UTC"
    # Like Lambda's read-only /var/task: no __pycache__ written into the function's code, so a
    # file edited in place (a function declared in the config file) is never run from a stale
    # .pyc. Installed packages keep using the .pyc files they were installed with.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if tmp:
        env.update({"TMPDIR": tmp, "HOME": tmp})
    env.update(base)
    env.update(spec.environment)
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        env.setdefault("AWS_REGION", region)
        env.setdefault("AWS_DEFAULT_REGION", region)
    paths = [code_dir, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep)), _RIC_PATH]
    env.update(
        {
            "_HANDLER": spec.handler,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": VERSION,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_LAMBDA_RUNTIME_API": api_address,
            "LAMBDA_TASK_ROOT": code_dir,
            "LAMBDA_RUNTIME_DIR": _RIC_PATH,
            "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths)),
            "_LAMBDA_TELEMETRY_LOG_FD": str(telemetry_fd),
        }
    )
    return env


class Worker:
    """A warm execution environment: one process, one invocation at a time."""

    def __init__(
        self,
        spec: FunctionSpec,
        base_env: Mapping[str, str],
        log_stream: str,
        sandbox: Sandbox,
    ) -> None:
        self.spec = spec
        self.log_stream = log_stream
        self.generation = 0  # set by the pool: a retired generation is not reused
        self.last_used = time.monotonic()
        self.broken = False  # set when the worker must not serve another invocation
        self._initialized = False
        self._started = 0.0
        self._parked: list[Connection] = []  # connections waiting in GET .../next
        self._connections: list[Connection] = []  # registered with the selector
        self._endpoint = RuntimeApiEndpoint(on_close=self._forget, authorize=self._from_worker)
        self._selector = selectors.DefaultSelector()
        self._output = LineSplitter()
        self._frames = FrameDecoder()
        self._exit_fd: int | None = None
        self._peak_mb = 0
        self._sandbox = sandbox
        self._status = bytearray()  # from the supervisor: the worker's pid, then "M" on OOM
        self._runtime_pid: int | None = None
        self._placement: Placement | None = None
        output_r, output_w = os.pipe()
        telemetry_r, telemetry_w = os.pipe()
        status_r, status_w = os.pipe()
        try:
            self._started = time.monotonic()
            self._placement = sandbox.place(spec)
            env = worker_environment(
                replace(spec, code_dir=self._placement.task_root),
                base_env,
                self._endpoint.address,
                log_stream,
                telemetry_w,
                str(self._placement.tmp),
            )
            self.process = subprocess.Popen(
                sandbox.command(spec, self._placement, status_w),
                cwd=self._placement.directory,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output_w,
                stderr=output_w,
                pass_fds=(telemetry_w, status_w, sandbox.watchdog),
                start_new_session=True,  # its own process group, away from the server's
            )
        except BaseException:
            for fd in (output_r, output_w, telemetry_r, telemetry_w, status_r, status_w):
                os.close(fd)
            if self._placement is not None:
                sandbox.release(self._placement)
            self._endpoint.shutdown()
            self._selector.close()
            raise
        os.close(output_w)
        os.close(telemetry_w)
        os.close(status_w)
        self._status_fd = status_r
        self._output_fd = output_r
        self._telemetry_fd = telemetry_r
        for fd, tag in ((output_r, _OUTPUT), (telemetry_r, _TELEMETRY)):
            os.set_blocking(fd, False)
            self._selector.register(fd, selectors.EVENT_READ, tag)
        self._selector.register(self._endpoint.listener, selectors.EVENT_READ, _LISTENER)
        try:
            self._exit_fd = os.pidfd_open(self.process.pid)
            self._selector.register(self._exit_fd, selectors.EVENT_READ, _EXIT)
        except (AttributeError, OSError):
            self._exit_fd = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def runtime_pid(self) -> int | None:
        """The process running awslambdaric (the only one the Runtime API answers), as the
        supervisor reports it right after forking; None if it died before that."""
        if self._runtime_pid is None:
            self._read_status(wait=_STOP_WAIT)
            if len(self._status) >= 4:
                self._runtime_pid = int.from_bytes(self._status[:4], "little")
        return self._runtime_pid

    def _read_status(self, wait: float = 0.0) -> None:
        """What the supervisor wrote so far; waits up to ``wait`` for its first 4 bytes."""
        deadline = time.monotonic() + wait
        poller = select.poll()
        poller.register(self._status_fd, select.POLLIN)
        while True:
            remaining = deadline - time.monotonic()
            if not poller.poll(max(0.0, remaining) * 1000 if len(self._status) < 4 else 0):
                return
            data = os.read(self._status_fd, 64)
            if not data:
                return
            self._status += data

    def alive(self) -> bool:
        return self.process.poll() is None

    def invoke(self, invocation: Invocation, log: InvocationLog) -> Outcome:
        """Run one invocation to its end; the caller must own the worker."""
        self.last_used = time.monotonic()
        init_duration: float | None = None
        delivered_at: float | None = None
        # Until the event is out, the worker is starting (Lambda allows 10 s for init, then
        # retries it within the invocation's own time) or coming back for the next event.
        if self._initialized:
            deadline = self.last_used + INIT_TIMEOUT
        else:
            deadline = self._started + INIT_TIMEOUT + self.spec.timeout
        outcome: Outcome | None = None
        exited = False
        while outcome is None and not exited:
            if delivered_at is None and self._parked:
                if not self._initialized:
                    self._initialized = True
                    init_duration = (time.monotonic() - self._started) * 1000
                delivered_at = self._deliver(invocation, log)
                if delivered_at is not None:
                    deadline = delivered_at + self.spec.timeout
            now = time.monotonic()
            timeout = deadline - now
            if timeout <= 0:
                outcome = Outcome("timeout")
                break
            flush_due = log.flush_due()
            if flush_due is not None and delivered_at is not None:
                if flush_due <= now:
                    log.flush()  # a long invocation's output shows up while it runs
                else:
                    timeout = min(timeout, flush_due - now)
            if self._exit_fd is None:
                timeout = min(timeout, _POLL_WITHOUT_PIDFD)
            # Output first: a line printed just before the response is stamped before it.
            ready = sorted(self._selector.select(timeout), key=_output_first)
            for key, _ in ready:
                tag = key.data
                if tag == _EXIT:
                    exited = True
                elif tag in (_OUTPUT, _TELEMETRY):
                    self._read_pipe(key.fd, log)
                elif tag == _LISTENER:
                    self._accept()
                else:
                    found = self._handle(self._endpoint.read(tag), invocation, delivered_at)
                    outcome = outcome or found
            if self._exit_fd is None and self.process.poll() is not None:
                exited = True
        if outcome is None and exited:
            # The process is gone; whatever it sent before dying is still in the buffers.
            self._drain_pipes(log)
            for conn in list(self._connections):
                found = self._handle(self._endpoint.read(conn), invocation, delivered_at)
                outcome = outcome or found
            if outcome is None:
                self.process.wait()
                self._read_status()
                outcome = Outcome(
                    "exit",
                    exit_reason=exit_reason(self.process.returncode),
                    out_of_memory=OUT_OF_MEMORY in self._status[4:],
                )
        assert outcome is not None
        outcome.max_memory_mb = self._max_memory_mb()
        if outcome.status not in ("response", "error"):
            self.broken = True
        if outcome.status in ("timeout", "too_large"):
            self.kill()  # SIGKILL, as Lambda does: nothing more from this process
        self._drain_pipes(log)
        end = time.monotonic()
        if outcome.status == "init_error":
            init_duration = (end - self._started) * 1000
        outcome.delivered = delivered_at is not None
        outcome.duration_ms = (end - delivered_at) * 1000 if delivered_at else 0.0
        outcome.init_duration_ms = init_duration
        self.last_used = end
        return outcome

    def kill(self) -> None:
        """End the worker and everything it started (the supervisor SIGKILLs the tree, then
        exits); safe from any thread, at any time."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.process.pid, signal.SIGTERM)

    def close(self) -> None:
        """Kill, reap and release every descriptor and directory (only by the worker's owner)."""
        self.kill()
        try:
            self.process.wait(_STOP_WAIT)
        except subprocess.TimeoutExpired:  # a stopped supervisor (SIGSTOP from the function)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._endpoint.shutdown()
        self._selector.close()
        for fd in (self._output_fd, self._telemetry_fd, self._exit_fd, self._status_fd):
            if fd is not None:
                os.close(fd)
        self._exit_fd = None
        if self._placement is not None:
            self._sandbox.release(self._placement)

    def _deliver(self, invocation: Invocation, log: InvocationLog) -> float | None:
        conn = self._parked.pop(0)
        started = time.monotonic()
        deadline_ms = (now_us() + int(self.spec.timeout * 1_000_000)) // 1000
        headers = {
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": invocation.arn,
            "Lambda-Runtime-Trace-Id": trace_id(),
        }
        log.add(now_us(), f"START RequestId: {invocation.request_id} Version: {VERSION}")
        send_deadline = started + self.spec.timeout
        if not self._endpoint.send_event(conn, headers, invocation.event, send_deadline):
            return None  # the worker went away; its exit will be noticed
        return started

    def _handle(
        self, calls: list[Call], invocation: Invocation, delivered_at: float | None
    ) -> Outcome | None:
        outcome = None
        for call in calls:
            if call.kind == "next":
                self._parked.append(call.conn)
                continue
            if call.kind == "init_error":
                self._endpoint.accepted(call.conn)
                outcome = outcome or Outcome("init_error", call.body)
                continue
            current = delivered_at is not None and call.request_id == invocation.request_id
            if call.kind in ("response", "error") and current:
                self._endpoint.accepted(call.conn)
                outcome = outcome or Outcome(call.kind, call.body)
            elif call.kind == "too_large" and current:
                outcome = outcome or Outcome("too_large")
            elif call.kind in ("response", "error"):
                self._endpoint.reject(call.conn, 400, "InvalidRequestID", "Invalid request ID")
            elif call.kind != "too_large":
                self._endpoint.reject(call.conn, 404, "NotFound", "Not found")
        return outcome

    def _accept(self) -> None:
        while (conn := self._endpoint.accept()) is not None:
            self._selector.register(conn.sock, selectors.EVENT_READ, conn)
            self._connections.append(conn)

    def _from_worker(self, sock: socket.socket) -> bool:
        """Whether an accepted Runtime API connection was opened by this worker's process."""
        return peers.connected_by(sock, self.runtime_pid)

    def _forget(self, conn: Connection) -> None:
        """The endpoint is closing ``conn``: stop watching it first."""
        if conn in self._parked:
            self._parked.remove(conn)
        if conn in self._connections:
            self._connections.remove(conn)
            self._selector.unregister(conn.sock)

    def _read_pipe(self, fd: int, log: InvocationLog, limit: int = _READ_BYTES) -> int:
        """Read what is there now (up to ``limit`` bytes); the count read, 0 at the end."""
        try:
            data = os.read(fd, min(limit, _READ_BYTES))
        except (BlockingIOError, InterruptedError):
            return 0
        if not data:
            self._selector.unregister(fd)
            return 0
        if fd == self._output_fd:
            log.extend(self._output.feed(data, now_us()))
        else:
            log.extend(self._frames.feed(data))
        return len(data)

    def _drain_pipes(self, log: InvocationLog) -> None:
        """Everything written before the outcome belongs to this invocation: read it now.

        Only what the pipes hold at this moment: a forked child that keeps printing must not
        keep the invocation from ending.
        """
        for fd in (self._output_fd, self._telemetry_fd):
            try:
                self._selector.get_key(fd)
            except (KeyError, ValueError, RuntimeError):
                continue
            pending = _pending_bytes(fd)
            while pending > 0 and (count := self._read_pipe(fd, log, pending)):
                pending -= count
        log.extend(self._output.flush(now_us()))

    def _max_memory_mb(self) -> int:
        """Peak resident memory of the worker (VmHWM) for the REPORT line; the last value
        read once the process is gone."""
        pid = self.runtime_pid
        if pid is None:
            return self._peak_mb
        try:
            with open(f"/proc/{pid}/status", "rb") as status:
                for line in status:
                    if line.startswith(b"VmHWM:"):
                        self._peak_mb = math.ceil(int(line.split()[1]) / 1024)
                        break
        except (OSError, ValueError, IndexError):
            pass
        return self._peak_mb
