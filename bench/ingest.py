"""Ingest and scan throughput of the server: PutLogEvents, FilterLogEvents and memory, vs moto.

Run from the repository root:

    .venv/bin/python bench/ingest.py [--events N] [--skip-moto] [--data-dir DIR]

Two client processes, each with its own client and log stream, send signed PutLogEvents
batches of VPC flow log records (version 5 custom format, ~240 bytes, timestamps in the last few
hours) to a ``logsieve serve`` subprocess (durable commits) and to moto's server, one server after
the other. Every count is checked against what the clients sent. See bench/README.md for the
phases, the columns and the targets.
"""

from __future__ import annotations

import argparse
import array
import bisect
import contextlib
import datetime as dt
import hashlib
import multiprocessing as mp
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))  # works without an editable install too
sys.path.insert(0, str(ROOT))  # tests.server: the same way the tests start the server

from tests.server import ACCESS_KEY, SECRET_KEY, Server  # noqa: E402

from common import (  # noqa: E402
    cpu_model,
    git_commit,
    package_versions,
    progress,
    vary_ip,
)

SAMPLE = ROOT / "samples" / "vpc-flow-v5-custom.log"
SEED = 7
REJECT_SHARE = 0.05  # of the generated records; the selective pattern matches these
NODATA_SHARE = 0.01
SPAN_MS = 2 * 3_600_000  # the events' timestamps cover two hours ...
AGE_MS = 3 * 3_600_000  # ... starting three hours before the run (CloudWatch takes <= 14 days)

# CloudWatch's PutLogEvents limits: 1,048,576 bytes per batch counting 26 bytes per event on
# top of the UTF-8 message, and at most 10,000 events.
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD = 26
MAX_BATCH_EVENTS = 10_000

GROUP = "bench-ingest"
SCAN_GROUP = "bench-scan"  # moto only: its capped FilterLogEvents dataset
SELECTIVE = (
    "[version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport, protocol, "
    "packets, bytes, start, end, action = REJECT, log_status, ...]"
)
SELECTIVE_SHORT = "[…, action = REJECT, log_status, ...]"  # … = the 12 names before action
UNSELECTIVE = ""

TARGET_INGEST = 150_000
TARGET_VS_MOTO = 3.0
TARGET_SCAN = 500_000
TARGET_RSS_MB = 250
TARGET_RSS_EVENTS = 5_000_000


class BenchError(Exception):
    """Something went wrong that makes the figures meaningless (a client error, a dead server)."""


# --- the events ----------------------------------------------------------------------------
def _templates() -> tuple[list[list[str]], list[list[str]], list[list[str]]]:
    rows = [line.split(" ") for line in SAMPLE.read_text().splitlines()]
    by_action: dict[str, list[list[str]]] = {}
    for row in rows:
        by_action.setdefault(row[12], []).append(row)
    return by_action["ACCEPT"], by_action["REJECT"], by_action["-"]


def event_time(g: int, total: int, base_ms: int) -> int:
    """Timestamp of the ``g``-th event in the run's global order (client ``g % clients``)."""
    return base_ms + g * SPAN_MS // total


VARIANTS = 8192  # varied records per action; each event then gets its own times


def _variants(rng: random.Random, templates: list[list[str]]) -> list[tuple[str, str]]:
    """Varied records from the sample rows, split around the two time fields (start, end)."""
    out = []
    for _ in range(VARIANTS):
        f = list(rng.choice(templates))
        if f[12] != "-":
            src, dst = vary_ip(rng, f[3]), vary_ip(rng, f[4])
            if f[19] == f[3]:
                f[19] = src
            if f[20] == f[4]:
                f[20] = dst
            f[3], f[4] = src, dst
            for i in (5, 6):  # ephemeral ports change, service ports stay
                if int(f[i]) > 10000:
                    f[i] = str(rng.randint(32768, 65535))
            packets = max(1, round(int(f[8]) * rng.lognormvariate(0, 0.9)))
            f[8] = str(packets)
            f[9] = str(packets * rng.choice((40, 44, 60, 76, 84, 576, 1500)))
        out.append((" ".join(f[:10]) + " ", " " + " ".join(f[12:])))
    return out


def flow_events(
    index: int, clients: int, total: int, base_ms: int
) -> tuple[array.array, list[str]]:
    """Client ``index``'s share of the events: timestamps (sorted) and VPC flow v5 records."""
    rng = random.Random(SEED * 1000 + index)
    accept, reject, nodata = (_variants(rng, t) for t in _templates())
    cut_nodata, cut_reject = NODATA_SHARE, NODATA_SHARE + REJECT_SHARE
    timestamps = array.array("q")
    messages: list[str] = []
    random_, choice, randint = rng.random, rng.choice, rng.randint
    for g in range(index, total, clients):
        ts = base_ms + g * SPAN_MS // total  # event_time(), inlined
        r = random_()
        head, tail = choice(nodata if r < cut_nodata else reject if r < cut_reject else accept)
        end = ts // 1000
        timestamps.append(ts)
        messages.append(f"{head}{end - randint(1, 60)} {end}{tail}")
    return timestamps, messages


def pack(timestamps: array.array, messages: list[str], cap: int) -> list[list[dict[str, Any]]]:
    """PutLogEvents batches: as many events as CloudWatch allows in one request, <= ``cap``."""
    batches: list[list[dict[str, Any]]] = []
    batch: list[dict[str, Any]] = []
    size = 0
    for ts, message in zip(timestamps, messages, strict=True):
        n = len(message.encode("utf-8")) + EVENT_OVERHEAD
        if batch and (size + n > MAX_BATCH_BYTES or len(batch) >= cap):
            batches.append(batch)
            batch, size = [], 0
        batch.append({"timestamp": ts, "message": message})
        size += n
    if batch:
        batches.append(batch)
    return batches


def stream_name(index: int) -> str:
    return f"client-{index}"


# --- clients -------------------------------------------------------------------------------


def make_client(url: str, key: str, secret: str):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "logs",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(
            retries={"max_attempts": 1, "mode": "standard"},  # an error must show, not retry
            parameter_validation=False,  # the servers validate; the clients share the CPUs
            connect_timeout=10,
            read_timeout=600,
        ),
    )


CLIENT_TEXT = {
    "boto3": "boto3 client (client-side parameter validation off, no retries)",
    "shipper": "`logsieve put` client (botocore signs and sends, orjson encodes the body;"
    " no validation, no retries)",
}


def make_put(kind: str, job: dict[str, Any], stream: str) -> Callable[[list[dict[str, Any]]], None]:
    """One PutLogEvents call per batch with the chosen client; raises on any refused event.

    ``boto3``: a plain boto3 client, botocore encodes the body. ``shipper``: the client
    ``logsieve put`` and ``logsieve ship`` use (botocore signing and HTTP, the body encoded
    by orjson): the same bytes on the wire, a fraction of the client's CPU.
    """
    client = make_client(job["url"], job["key"], job["secret"])
    group = job["group"]
    if kind == "boto3":

        def put(batch: list[dict[str, Any]]) -> None:
            response = client.put_log_events(
                logGroupName=group, logStreamName=stream, logEvents=batch
            )
            if response.get("rejectedLogEventsInfo"):
                raise BenchError(f"events rejected: {response['rejectedLogEventsInfo']}")

        return put
    from logsieve.shipping.batching import Batch
    from logsieve.shipping.sender import RetryPolicy, Sender

    sender = Sender(client, retry=RetryPolicy(max_attempts=1))

    def put_lean(batch: list[dict[str, Any]]) -> None:
        result = sender.send(group, Batch(stream, 0.0, batch))
        if result.rejected:
            raise BenchError(f"events rejected: {result.rejected.describe()}")

    return put_lean


def _worker(index: int, clients: int, total: int, base_ms: int, cap: int, conn, barrier) -> None:
    """A client process: build its events, then run the PutLogEvents jobs the main sends."""
    try:
        started = time.monotonic()
        timestamps, messages = flow_events(index, clients, total, base_ms)
        # The independent truth for the selective pattern: field 13 of the record, read here.
        reject = bytearray(m.split(" ")[12] == "REJECT" for m in messages)
        sizes = array.array("q", (len(m.encode("utf-8")) for m in messages))
        batches = {len(messages): pack(timestamps, messages, cap)}
        conn.send(
            (
                "ready",
                {
                    "timestamps": timestamps,
                    "reject": reject,
                    "bytes": sum(sizes),
                    "batches": len(batches[len(messages)]),
                    "seconds": time.monotonic() - started,
                },
            )
        )
        while (job := conn.recv()) is not None:
            limit = min(job["limit"], len(messages))
            if limit not in batches:
                batches[limit] = pack(timestamps[:limit], messages[:limit], cap)
            todo = batches[limit]
            put = make_put(job["client"], job, stream_name(index))
            barrier.wait(timeout=600)
            cpu0, t0 = time.process_time(), time.monotonic()
            for batch in todo:
                put(batch)
            t1, cpu1 = time.monotonic(), time.process_time()
            conn.send(
                (
                    "done",
                    {
                        "start": t0,
                        "end": t1,
                        "cpu": cpu1 - cpu0,
                        "events": limit,
                        "bytes": sum(sizes[:limit]),
                        "batches": len(todo),
                    },
                )
            )
    except BaseException:
        barrier.abort()
        conn.send(("error", traceback.format_exc()))


@dataclass
class Clients:
    """The client processes and the pipes the main talks to them through."""

    count: int
    kind: str  # "boto3" or "shipper": see make_put
    procs: list[Any] = field(default_factory=list)
    pipes: list[Any] = field(default_factory=list)
    barrier: Any = None  # kept here: the children unpickle it after start() returns

    def start(self, total: int, base_ms: int, cap: int) -> None:
        ctx = mp.get_context("spawn")
        self.barrier = barrier = ctx.Barrier(self.count + 1)  # + the main process
        for index in range(self.count):
            parent, child = ctx.Pipe()
            proc = ctx.Process(
                target=_worker,
                args=(index, self.count, total, base_ms, cap, child, barrier),
                daemon=True,
            )
            proc.start()
            self.procs.append(proc)
            self.pipes.append(parent)

    def receive(self, kind: str, timeout: float = 3600) -> list[dict[str, Any]]:
        out = []
        for proc, conn in zip(self.procs, self.pipes, strict=True):
            deadline = time.monotonic() + timeout
            while not conn.poll(1):
                if not proc.is_alive():
                    raise BenchError(f"client process {proc.pid} died (exit {proc.exitcode})")
                if time.monotonic() > deadline:
                    raise BenchError(f"client process {proc.pid} timed out")
            try:
                tag, payload = conn.recv()
            except EOFError:
                raise BenchError(f"client process {proc.pid} closed its pipe") from None
            if tag == "error":
                raise BenchError(f"client process {proc.pid} failed:\n{payload}")
            if tag != kind:
                raise BenchError(f"client process {proc.pid} said {tag!r}, expected {kind!r}")
            out.append(payload)
        return out

    def start_put(self, target: Target, group: str | Sequence[str], limit: int) -> None:
        """Hand every client its job and return when all of them start sending (the barrier).
        With several groups, client ``n`` sends to group ``n % len(groups)``."""
        groups = [group] if isinstance(group, str) else list(group)
        for n, conn in enumerate(self.pipes):
            conn.send(
                {
                    "url": target.url,
                    "key": target.key,
                    "secret": target.secret,
                    "group": groups[n % len(groups)],
                    "limit": limit,
                    "client": self.kind,
                }
            )
        try:
            self.barrier.wait(timeout=600)
        except threading.BrokenBarrierError:
            self.receive("done")  # raises the client's own error
            raise BenchError("a client process broke the start barrier") from None

    def put(self, target: Target, group: str, limit: int) -> list[dict[str, Any]]:
        self.start_put(target, group, limit)
        return self.receive("done")

    def stop(self) -> None:
        for conn, proc in zip(self.pipes, self.procs, strict=True):
            if proc.is_alive():
                with contextlib.suppress(OSError):
                    conn.send(None)
        for proc in self.procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()


# --- servers -------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    url: str
    key: str
    secret: str
    pid: int
    stop: Callable[[], None]

    def client(self):
        return make_client(self.url, self.key, self.secret)


def start_logsieve(data_dir: Path) -> Target:
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH", "")) if p
    )
    server = Server(data_dir).start()
    assert server.process is not None
    return Target("logsieve", server.url, ACCESS_KEY, SECRET_KEY, server.process.pid, server.stop)


_MOTO = """
import logging, sys
logging.getLogger("werkzeug").setLevel(logging.ERROR)
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
"""


def start_moto() -> Target:
    proc = subprocess.Popen(
        [sys.executable, "-c", _MOTO],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    line = proc.stdout.readline().strip()
    if not line.isdigit():
        proc.kill()
        raise BenchError(
            "moto's server did not start; it needs moto[server] (flask, flask-cors): "
            "`.venv/bin/pip install 'moto[server]'`, or run with --skip-moto"
        )

    def stop() -> None:
        if proc.poll() is None:
            proc.stdin.close()  # type: ignore[union-attr]
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    return Target("moto", f"http://127.0.0.1:{line}", "testing", "testing", proc.pid, stop)


# --- /proc ---------------------------------------------------------------------------------


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """Polls a process's VmRSS every 20 ms in a thread; ``peak`` is the highest seen."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, rss_mb(self.pid))
            except (OSError, ValueError):
                return
            self._stop.wait(0.02)

    def __enter__(self) -> RssSampler:
        self.peak = rss_mb(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb(self.pid))


def machine_cpu_seconds() -> float:
    """CPU time spent by everything on the machine so far (all CPUs, busy states only)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


@dataclass
class Measure:
    """Over a ``measure`` block: wall time, the server's CPU time and peak RSS, and the CPU
    time of the whole machine and of this process (what else ran shows as noise)."""

    wall: float = 0.0
    server_cpu: float = 0.0
    peak_mb: float = 0.0
    machine_cpu: float = 0.0
    own_cpu: float = 0.0


@contextlib.contextmanager
def measure(pid: int) -> Iterator[Measure]:
    m = Measure()
    cpu0, machine0, own0 = cpu_seconds(pid), machine_cpu_seconds(), time.process_time()
    with RssSampler(pid) as sampler:
        t0 = time.perf_counter()
        yield m
        m.wall = time.perf_counter() - t0
    m.server_cpu = cpu_seconds(pid) - cpu0
    m.machine_cpu = machine_cpu_seconds() - machine0
    m.own_cpu = time.process_time() - own0
    m.peak_mb = sampler.peak


# --- phases --------------------------------------------------------------------------------


@dataclass
class Ingest:
    server: str
    events: int
    bytes: int
    batches: int
    wall: float
    server_cpu: float
    client_cpu: float
    rss_after: float
    peak_mb: float
    other_cpu: float  # CPU time of processes other than the server, the clients and this one
    window: float  # wall time over which the CPU times were taken
    stored_events: int = 0
    stored_bytes: int = 0
    readback_wall: float = 0.0
    disk_bytes: int | None = None

    @property
    def rate(self) -> float:
        return self.events / self.wall

    @property
    def mb_rate(self) -> float:
        return self.bytes / self.wall / 1e6


def ingest(target: Target, clients: Clients, group: str | Sequence[str], limit: int) -> Ingest:
    """Both clients send their events to ``group`` at once (or client n to the n-th of
    several groups, round robin); timed from the barrier."""
    client = target.client()
    for name in [group] if isinstance(group, str) else group:
        client.create_log_group(logGroupName=name)
        for index in range(clients.count):
            client.create_log_stream(logGroupName=name, logStreamName=stream_name(index))
    clients.start_put(target, group, limit)
    with measure(target.pid) as m:
        done = clients.receive("done")
    rss_after = rss_mb(target.pid)
    client_cpu = sum(d["cpu"] for d in done)
    return Ingest(
        server=target.name,
        events=sum(d["events"] for d in done),
        bytes=sum(d["bytes"] for d in done),
        batches=sum(d["batches"] for d in done),
        wall=max(d["end"] for d in done) - min(d["start"] for d in done),
        server_cpu=m.server_cpu,
        client_cpu=client_cpu,
        rss_after=rss_after,
        peak_mb=m.peak_mb,
        other_cpu=max(0.0, m.machine_cpu - m.server_cpu - m.own_cpu - client_cpu),
        window=m.wall,
    )


def read_back(target: Target, group: str | Sequence[str], streams: int, result: Ingest) -> None:
    """Count what the server stored: GetLogEvents paged per stream, storedBytes of the groups."""
    client = target.client()
    names = [group] if isinstance(group, str) else list(group)
    result.stored_bytes = 0
    for name in names:
        found = client.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        result.stored_bytes += next(
            g.get("storedBytes", 0) for g in found if g["logGroupName"] == name
        )
    t0 = time.perf_counter()
    total = 0
    for name, index in [(n, i) for n in names for i in range(streams)]:
        kwargs: dict[str, Any] = {
            "logGroupName": name,
            "logStreamName": stream_name(index),
            "startFromHead": True,
        }
        while True:
            page = client.get_log_events(**kwargs)
            if not page["events"]:
                break
            total += len(page["events"])
            kwargs["nextToken"] = page["nextForwardToken"]
    result.readback_wall = time.perf_counter() - t0
    result.stored_events = total


@dataclass
class Scan:
    server: str
    label: str
    pattern: str
    in_range: int
    expected: int
    matched: int = 0
    wrong: int = 0  # returned events outside the range, or failing the independent check
    calls: int = 0
    wall: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0  # this process: boto3 paging and parsing, the checks
    other_cpu: float = 0.0
    peak_mb: float = 0.0

    @property
    def rate(self) -> float:
        return self.in_range / self.wall


def is_reject(message: str) -> bool:
    """The independent check of the selective pattern: field 13 of a 29-field record."""
    fields = message.split(" ")
    return len(fields) == 29 and fields[12] == "REJECT"


def scan(
    target: Target, group: str, scan: Scan, window: tuple[int, int] | None, check: bool
) -> Scan:
    """Page through FilterLogEvents with boto3's paginator; count and check what comes back."""
    client = target.client()
    kwargs: dict[str, Any] = {"logGroupName": group, "filterPattern": scan.pattern}
    if window is not None:
        kwargs["startTime"], kwargs["endTime"] = window
    lo, hi = window if window is not None else (-(2**63), 2**63)
    paginator = client.get_paginator("filter_log_events")
    with measure(target.pid) as m:
        for page in paginator.paginate(**kwargs):
            scan.calls += 1
            events = page["events"]
            scan.matched += len(events)
            for event in events:
                if not lo <= event["timestamp"] <= hi or (
                    check and not is_reject(event["message"])
                ):
                    scan.wrong += 1
    scan.wall, scan.server_cpu, scan.peak_mb = m.wall, m.server_cpu, m.peak_mb
    scan.client_cpu = m.own_cpu
    scan.other_cpu = max(0.0, m.machine_cpu - m.server_cpu - m.own_cpu)
    return scan


# --- machine facts -------------------------------------------------------------------------


def filesystem(path: Path) -> str:
    path = path.resolve()
    best = ("", "?", "?")
    for line in Path("/proc/mounts").read_text().splitlines():
        device, mount, fstype, *_ = line.split()
        inside = str(path) == mount or str(path).startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(best[0]):
            best = (mount, fstype, device)
    return f"{best[1]} ({best[2]} on {best[0]})"


def fsync_ms(directory: Path) -> float:
    """Median time of one 4 KiB write + fsync in ``directory``: the floor of a durable commit."""
    path = directory / "fsync-probe"
    times = []
    with open(path, "wb") as f:
        for _ in range(30):
            f.write(b"x" * 4096)
            f.flush()
            t0 = time.perf_counter()
            os.fsync(f.fileno())
            times.append(time.perf_counter() - t0)
    path.unlink()
    return statistics.median(times) * 1000


def durability(directory: Path) -> tuple[str, bool]:
    """The journal mode and synchronous level logsieve's writer connection runs with."""
    from logsieve.storage import SqliteStore

    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        store = SqliteStore(Path(tmp) / "probe.db")
        try:
            writer = store._db.writer
            mode = writer.execute("PRAGMA journal_mode").fetchone()[0]
            level = writer.execute("PRAGMA synchronous").fetchone()[0]
        finally:
            store.close()
    name = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(level, str(level))
    # In WAL mode only FULL/EXTRA fsync the log at every commit; NORMAL may lose the last ones.
    return f"journal_mode={mode}, synchronous={name}", level >= 2


def src_fingerprint() -> str:
    """A hash of every file under src/: ties the figures to the exact code, dirty or not."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "src").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def machine_facts(data_dir: Path) -> list[str]:
    import sqlite3

    cpu = cpu_model()
    commit = git_commit()
    versions = package_versions(("boto3", "moto", "uvicorn", "starlette", "orjson"))
    mem = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return [
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M:%S UTC')}",
        f"- python: {platform.python_implementation()} {platform.python_version()}"
        f" ({sys.executable}), SQLite {sqlite3.sqlite_version}",
        f"- cpu: {cpu}, {os.cpu_count()} logical CPUs, {mem} RAM; platform {platform.platform()}",
        f"- packages: {', '.join(versions)}; logsieve {commit or 'unknown commit'},"
        f" src/ sha256 {src_fingerprint()}",
        f"- data dir filesystem: {filesystem(data_dir)}; one 4 KiB write + fsync takes"
        f" {fsync_ms(data_dir):.2f} ms (median of 30)",
        f"- load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
    ]


# --- report --------------------------------------------------------------------------------


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _mb(x: float) -> str:
    return f"{x:,.0f} MB"


def _verdict(ok: bool | None) -> str:
    return "PASS" if ok else "FAIL" if ok is not None else "n/a "


def dir_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.iterdir() if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--events", type=int, default=1_000_000, help="events ingested (all clients together)"
    )
    parser.add_argument(
        "--scan-events",
        type=int,
        default=1_000_000,
        help="events in the time range logsieve's FilterLogEvents scans (at most --events)",
    )
    parser.add_argument(
        "--moto-scan-events",
        type=int,
        default=100_000,
        help="events in moto's FilterLogEvents dataset (moto rescans it all on every page)",
    )
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument(
        "--batch-events",
        type=int,
        default=MAX_BATCH_EVENTS,
        help="most events per PutLogEvents batch (a batch also stops at 1 MiB)",
    )
    parser.add_argument(
        "--client",
        choices=("boto3", "shipper"),
        default="shipper",
        help="the PutLogEvents client: boto3 (botocore encodes the body), or the lean client "
        "`logsieve put` uses (botocore signs and sends, orjson encodes); the same requests",
    )
    parser.add_argument("--skip-moto", action="store_true", help="measure logsieve only")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="logsieve's data directory (default: a temporary one, removed afterwards)",
    )
    args = parser.parse_args(argv)
    n, k = args.events, args.clients
    if min(n, args.scan_events, args.moto_scan_events, k, args.batch_events) < 1:
        parser.error("every number must be positive")
    if args.batch_events > MAX_BATCH_EVENTS:
        parser.error(f"--batch-events: CloudWatch takes at most {MAX_BATCH_EVENTS} per batch")
    if n < k:
        parser.error("--events must be at least --clients")

    started = time.perf_counter()
    if args.data_dir is not None:
        data_dir = args.data_dir.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        if (data_dir / "logsieve.db").exists():
            parser.error(f"{data_dir} already holds a logsieve.db; use an empty directory")
        cleanup = False
    else:
        data_dir = Path(tempfile.mkdtemp(prefix="logsieve-bench-"))
        cleanup = True
    facts = machine_facts(data_dir)
    fingerprint = src_fingerprint()
    durable_text, durable = durability(data_dir)

    base_ms = int(time.time() * 1000) - AGE_MS
    clients = Clients(k, args.client)
    progress(f"generating {n:,} events in {k} client processes (seed {SEED}) ...")
    clients.start(n, base_ms, args.batch_events)
    ingests: dict[str, Ingest] = {}
    scans: list[Scan] = []
    targets: list[Target] = []
    try:
        ready = clients.receive("ready")
        progress(
            f"  done in {max(r['seconds'] for r in ready):.1f}s,"
            f" {sum(r['batches'] for r in ready):,} batches"
        )
        sent_bytes = sum(r["bytes"] for r in ready)

        # The FilterLogEvents range: the first K events in the global order.
        k_scan = min(args.scan_events, n)
        window = (event_time(0, n, base_ms), event_time(k_scan - 1, n, base_ms))
        in_range = expected_reject = 0
        for r in ready:
            lo = bisect.bisect_left(r["timestamps"], window[0])
            hi = bisect.bisect_right(r["timestamps"], window[1])
            in_range += hi - lo
            expected_reject += sum(r["reject"][lo:hi])

        # --- logsieve ---------------------------------------------------------------------
        progress("starting logsieve serve ...")
        logsieve = start_logsieve(data_dir)
        targets.append(logsieve)
        progress(f"PutLogEvents: {n:,} events to logsieve ...")
        result = ingest(logsieve, clients, GROUP, n)
        ingests["logsieve"] = result
        progress(f"  {_n(result.rate)} events/s, RSS {result.rss_after:.0f} MB; reading back ...")
        read_back(logsieve, GROUP, k, result)
        result.disk_bytes = dir_bytes(data_dir)
        for label, pattern, expected, check in (
            ("selective", SELECTIVE, expected_reject, True),
            ("every event", UNSELECTIVE, in_range, False),
        ):
            progress(f"FilterLogEvents on logsieve, {label}, {in_range:,} events in range ...")
            s = scan(
                logsieve, GROUP, Scan("logsieve", label, pattern, in_range, expected), window, check
            )
            scans.append(s)
            progress(f"  {_n(s.rate)} events scanned/s, {s.matched:,} returned")
        rss_end = rss_mb(logsieve.pid)
        hwm = rss_mb(logsieve.pid, "VmHWM")
        logsieve.stop()
        targets.remove(logsieve)

        # --- moto -------------------------------------------------------------------------
        if not args.skip_moto:
            progress("starting moto's server ...")
            moto = start_moto()
            targets.append(moto)
            progress(f"PutLogEvents: {n:,} events to moto ...")
            result = ingest(moto, clients, GROUP, n)
            ingests["moto"] = result
            progress(
                f"  {_n(result.rate)} events/s, RSS {result.rss_after:.0f} MB; reading back ..."
            )
            read_back(moto, GROUP, k, result)
            per_client = max(1, args.moto_scan_events // k)
            progress(f"moto FilterLogEvents dataset: {per_client * k:,} events ...")
            setup = moto.client()
            setup.create_log_group(logGroupName=SCAN_GROUP)
            for index in range(k):
                setup.create_log_stream(logGroupName=SCAN_GROUP, logStreamName=stream_name(index))
            done = clients.put(moto, SCAN_GROUP, per_client)
            moto_in = sum(d["events"] for d in done)
            moto_reject = sum(sum(r["reject"][:per_client]) for r in ready)
            for label, pattern, expected, check in (
                ("selective", SELECTIVE, moto_reject, True),
                ("every event", UNSELECTIVE, moto_in, False),
            ):
                progress(f"FilterLogEvents on moto, {label}, {moto_in:,} events ...")
                s = scan(
                    moto, SCAN_GROUP, Scan("moto", label, pattern, moto_in, expected), None, check
                )
                scans.append(s)
                progress(f"  {_n(s.rate)} events scanned/s, {s.matched:,} returned")
            moto.stop()
            targets.remove(moto)
    except BenchError as exc:
        progress(f"ERROR: {exc}")
        return 2
    finally:
        for target in targets:
            target.stop()
        clients.stop()
        if cleanup:
            shutil.rmtree(data_dir, ignore_errors=True)

    if src_fingerprint() != fingerprint:
        facts.append(
            "- **WARNING: files under src/ changed during the run; the server may have run a mix"
            " of versions**"
        )
        progress("WARNING: files under src/ changed during the run")
    return report(
        args=args,
        facts=facts,
        durable_text=durable_text,
        durable=durable,
        sent_bytes=sent_bytes,
        ready=ready,
        ingests=ingests,
        scans=scans,
        window=window,
        rss_end=rss_end,
        hwm=hwm,
        started=started,
    )


def report(
    *,
    args: argparse.Namespace,
    facts: list[str],
    durable_text: str,
    durable: bool,
    sent_bytes: int,
    ready: list[dict[str, Any]],
    ingests: dict[str, Ingest],
    scans: list[Scan],
    window: tuple[int, int],
    rss_end: float,
    hwm: float,
    started: float,
) -> int:
    n, k = args.events, args.clients
    batches = sum(r["batches"] for r in ready)
    problems: list[str] = []
    notes: list[str] = []
    for ing in ingests.values():
        if ing.events != n or ing.bytes != sent_bytes:
            problems.append(f"{ing.server}: the clients sent {ing.events:,} events, not {n:,}")
        if ing.stored_events != ing.events:
            problems.append(
                f"{ing.server}: GetLogEvents read back {ing.stored_events:,} events,"
                f" the clients sent {ing.events:,}"
            )
        if ing.stored_bytes != ing.bytes:
            problems.append(
                f"{ing.server}: storedBytes of the group is {ing.stored_bytes:,},"
                f" the clients sent {ing.bytes:,} bytes of messages"
            )
    for s in scans:
        if s.matched == s.expected and not s.wrong:
            continue
        text = (
            f"{s.server} FilterLogEvents {s.label}: returned {s.matched:,} events,"
            f" independent count {s.expected:,}, {s.wrong:,} returned events out of range or"
            " not matching"
        )
        (problems if s.server == "logsieve" else notes).append(text)

    print("# logsieve ingest benchmark\n")
    print(*facts, sep="\n")
    print(
        f"- logsieve: `python -m logsieve serve` subprocess, data in the directory above;"
        f" durable commits: {durable_text} (read from `SqliteStore`'s writer connection)"
    )
    if "moto" in ingests:
        print(
            "- moto: `ThreadedMotoServer` in its own process (werkzeug, threaded; everything in"
            " memory, nothing on disk)"
        )
    print(
        f"- workload: {n:,} VPC flow log records (version 5 custom format, 29 fields,"
        f" {sent_bytes / n:.0f} bytes on average, {REJECT_SHARE:.0%} REJECT), timestamps spread"
        f" evenly over {SPAN_MS // 3_600_000} hours ending"
        f" {(AGE_MS - SPAN_MS) // 3_600_000} hour before the run; {k} client processes, each"
        f" with its own {CLIENT_TEXT[args.client]} and its own log stream; {batches:,} signed"
        f" batches of {n / batches:,.0f} events on average"
        f" (at most {args.batch_events:,} events and {MAX_BATCH_BYTES:,} bytes counting"
        f" {EVENT_OVERHEAD} per event, CloudWatch's limits)"
    )
    print(
        "- MB = 10^6 bytes of message text (UTF-8), without the JSON and HTTP around it;"
        " CPU s = CPU seconds from /proc (all threads); other CPU s = what the rest of the"
        " machine used in the same time: processes outside this benchmark are noise"
    )
    cores = os.cpu_count() or 1
    noisy = [
        f"{name} {other / (wall * cores):.0%}"
        for name, other, wall in [
            *((f"PutLogEvents to {i.server}", i.other_cpu, i.window) for i in ingests.values()),
            *((f"FilterLogEvents {s.server} {s.label}", s.other_cpu, s.wall) for s in scans),
        ]
        if other > 0.1 * wall * cores
    ]
    if noisy:
        print(
            "- **WARNING: other processes took a share of the machine's CPU during: "
            + ", ".join(noisy)
            + "; those figures are lower than on a quiet machine**"
        )
    print()

    print("## PutLogEvents\n")
    header = [
        "server",
        "events",
        "batches",
        "wall s",
        "events/s",
        "MB/s",
        "server CPU s",
        "server CPU µs/event",
        "clients' CPU s",
        "other CPU s",
        "server RSS after",
        "server peak RSS",
        "read back (GetLogEvents)",
        "storedBytes",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for ing in ingests.values():
        print(
            "| "
            + " | ".join(
                [
                    ing.server,
                    f"{ing.events:,}",
                    f"{ing.batches:,}",
                    f"{ing.wall:.1f}",
                    _n(ing.rate),
                    f"{ing.mb_rate:.1f}",
                    f"{ing.server_cpu:.1f}",
                    f"{ing.server_cpu / ing.events * 1e6:.1f}",
                    f"{ing.client_cpu:.1f}",
                    f"{ing.other_cpu:.1f}",
                    _mb(ing.rss_after),
                    _mb(ing.peak_mb),
                    f"{ing.stored_events:,}"
                    + ("" if ing.stored_events == ing.events else " **!**"),
                    f"{ing.stored_bytes:,}" + ("" if ing.stored_bytes == ing.bytes else " **!**"),
                ]
            )
            + " |"
        )
    ours = ingests["logsieve"]
    ratio = ours.rate / ingests["moto"].rate if "moto" in ingests else None
    print()
    if ratio is not None:
        print(f"- logsieve/moto: **{ratio:.2f}x** events/s")
    print(
        f"- server CPU s / wall s: logsieve {ours.server_cpu / ours.wall:.2f} cores"
        + (
            f", moto {ingests['moto'].server_cpu / ingests['moto'].wall:.2f} cores"
            if "moto" in ingests
            else ""
        )
        + f"; the {k} clients used {ours.client_cpu / ours.wall:.2f} cores during logsieve's run"
        f" (the machine has {os.cpu_count()})"
    )
    print(
        f"- CPU-bound ceiling of the server (events / server CPU s, i.e. if it had one CPU to"
        f" itself and never waited; less sensitive to other load than the wall-clock rate):"
        f" logsieve {_n(ours.events / ours.server_cpu)} events/s"
        + (
            f", moto {_n(ingests['moto'].events / ingests['moto'].server_cpu)} events/s"
            if "moto" in ingests
            else ""
        )
    )
    for ing in ingests.values():
        print(
            f"- read back from {ing.server}: {ing.stored_events:,} events with GetLogEvents"
            f" (startFromHead, paged per stream) in {ing.readback_wall:.1f} s,"
            f" {_n(ing.stored_events / ing.readback_wall)} events/s"
        )
    if ours.disk_bytes is not None:
        print(
            f"- logsieve's data directory after ingest: {ours.disk_bytes / 1e6:,.0f} MB,"
            f" {ours.disk_bytes / ours.events:.0f} bytes per event"
            f" ({ours.bytes / ours.events:.0f} of message)"
        )

    print("\n## FilterLogEvents\n")
    header = [
        "server",
        "pattern",
        "events in range",
        "calls",
        "returned",
        "independent count",
        "wall s",
        "events scanned/s",
        "server CPU s",
        "server CPU µs/event",
        "client CPU s",
        "other CPU s",
        "server peak RSS",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for s in scans:
        ok = s.matched == s.expected and not s.wrong
        print(
            "| "
            + " | ".join(
                [
                    s.server,
                    f"{s.label}: `{SELECTIVE_SHORT if s.pattern == SELECTIVE else s.pattern}`"
                    if s.pattern
                    else f'{s.label}: `""`',
                    f"{s.in_range:,}",
                    f"{s.calls:,}",
                    f"{s.matched:,}" + ("" if ok else " **!**"),
                    f"{s.expected:,}",
                    f"{s.wall:.1f}",
                    _n(s.rate),
                    f"{s.server_cpu:.1f}",
                    f"{s.server_cpu / s.in_range * 1e6:.2f}",
                    f"{s.client_cpu:.1f}",
                    f"{s.other_cpu:.1f}",
                    _mb(s.peak_mb),
                ]
            )
            + " |"
        )
    stamp = dt.datetime.fromtimestamp(window[0] / 1000, dt.UTC).strftime("%H:%M:%S")
    stamp2 = dt.datetime.fromtimestamp(window[1] / 1000, dt.UTC).strftime("%H:%M:%S UTC")
    print(
        f"\n- logsieve: startTime/endTime {stamp}-{stamp2} holds the first"
        f" {min(args.scan_events, n):,} of the {n:,} stored events; boto3's paginator follows"
        " nextToken until it runs out. events scanned/s = events in range / wall time, the"
        " client's paging and parsing included"
    )
    if any(s.server == "moto" for s in scans):
        print(
            f"- moto: a separate group with the first {args.moto_scan_events // k:,} events of"
            f" each client ({args.moto_scan_events // k * k:,} in all), no time range: moto"
            " re-reads and re-filters the whole group (a new filter object per event) on every"
            " page, so its time grows with the square of the dataset. moto does not implement"
            " space-delimited patterns: it returns every event for the selective one"
        )
    print(f"- selective pattern in full: `{SELECTIVE}`")
    print(
        "- independent count: the clients read field 13 of every record they sent"
        " (`line.split(' ')[12] == 'REJECT'`) and the main process counts those in range;"
        " every returned event is checked the same way and against the time range"
    )

    print("\n## Memory (logsieve server process)\n")
    print(f"- VmRSS right after ingesting {ours.events:,} events: **{ours.rss_after:,.0f} MB**")
    print(f"- peak VmRSS while ingesting (sampled every 20 ms): {ours.peak_mb:,.0f} MB")
    for s in scans:
        if s.server == "logsieve":
            print(f"- peak VmRSS during FilterLogEvents, {s.label}: {s.peak_mb:,.0f} MB")
    print(f"- VmRSS at the end: {rss_end:,.0f} MB; VmHWM (peak since start): {hwm:,.0f} MB")

    print("\n## Targets (2-core machine)\n")
    lines = []
    ok = ours.rate >= TARGET_INGEST and durable
    lines.append(
        f"- {_verdict(ok)} PutLogEvents >= {TARGET_INGEST:,} events/s with durable commits:"
        f" {_n(ours.rate)} events/s, {'durable' if durable else 'NOT durable'} ({durable_text})"
    )
    lines.append(
        f"- {_verdict(None if ratio is None else ratio >= TARGET_VS_MOTO)} PutLogEvents >="
        f" {TARGET_VS_MOTO:.0f}x moto: " + ("moto skipped" if ratio is None else f"{ratio:.2f}x")
    )
    selective = next(s for s in scans if s.server == "logsieve" and s.pattern == SELECTIVE)
    every = next(s for s in scans if s.server == "logsieve" and s.pattern == UNSELECTIVE)
    lines.append(
        f"- {_verdict(selective.rate >= TARGET_SCAN)} FilterLogEvents >= {TARGET_SCAN:,} events"
        f" scanned/s (selective pattern): {_n(selective.rate)} events/s over"
        f" {selective.in_range:,} events (every event returned: {_n(every.rate)} events/s, not"
        " judged)"
    )
    judged = ours.events >= TARGET_RSS_EVENTS
    lines.append(
        f"- {_verdict(ours.rss_after <= TARGET_RSS_MB if judged else None)} server RSS <="
        f" {TARGET_RSS_MB} MB after ingesting {TARGET_RSS_EVENTS:,} events:"
        f" {ours.rss_after:,.0f} MB after {ours.events:,}"
        + ("" if judged else f" (judged only with --events {TARGET_RSS_EVENTS})")
    )
    print(*lines, sep="\n")

    if notes:
        print("\nmoto's answers (not counted as failures):")
        print(*(f"- {note}" for note in notes), sep="\n")
    if problems:
        print("\n**WARNING: counts disagree with what the clients sent:**")
        print(*(f"- {p}" for p in problems), sep="\n")
    else:
        print(
            "\nEvery count agrees with what the clients sent and with the independent check"
            " (events and storedBytes read back, FilterLogEvents matches)."
        )
    progress(f"total {time.perf_counter() - started:.1f}s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
