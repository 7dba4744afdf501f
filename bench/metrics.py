"""CloudWatch metrics: PutMetricData, GetMetricData, metric-filter evaluation and PutLogEvents
with metric filters against without.

1. PutMetricData datapoints/s into the real server: signed JSON 1.0 requests of 1,000
   datapoints (bodies built once, signed per request as botocore would), 4 client threads.
2. GetMetricData over 1,000,000 stored datapoints of one metric (11.6 days at 1 s), one
   MetricStat query with period 3,600 s: median and p99 latency through the real server.
3. Metric-filter evaluation events/s, in process: the space-delimited REJECT filter over the
   VPC flow-log sample, 1,000,000 events (``metrics.filters.evaluate``).
4. PutLogEvents events/s into one log group with no metric filter and with 10 (the REJECT
   filter, ``$bytes`` sums, per-port dimensions...), and how long counting takes to catch up.

Targets (issue 13): (1) >= 100k/s, (2) < 100 ms, (3) >= 1M/s, (4) ratio >= 80 %.
Progress goes to stderr, the Markdown report to stdout.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import orjson  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from tests.metrics.clients import cloudwatch  # noqa: E402
from tests.server import ACCESS_KEY, SECRET_KEY, Server, client, free_port  # noqa: E402

from common import cpu_model, git_commit, progress  # noqa: E402
from logsieve.metrics.filters import CompiledFilter, evaluate  # noqa: E402
from logsieve.storage.metrics import Observation  # noqa: E402
from logsieve.storage.metrics_sqlite import SqliteMetricStore  # noqa: E402
from logsieve.storage.records import MetricFilter  # noqa: E402

FIELDS = "version, account, eni, source, destination, srcport, destport, protocol, packets, bytes, windowstart, windowend"  # noqa: E501
REJECT = f"[{FIELDS}, action = REJECT, flowlogstatus]"
FLOW = f"[{FIELDS}, action, flowlogstatus]"
SAMPLE = ROOT / "samples" / "vpc-flow-default.log"


def server_cpu(server: Server) -> float:
    """CPU seconds the server process has used (user + system), from /proc (Linux)."""
    fields = Path(f"/proc/{server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def put_metric_data(server: Server, seconds: float, threads: int = 4) -> tuple[float, float]:
    """(datapoints/s, server CPU milliseconds per 1,000 datapoints): the second figure is what
    a shared machine's load changes least."""
    now = time.time()
    body = orjson.dumps({
        "Namespace": "Bench",
        "MetricData": [{"MetricName": f"m{i % 20}", "Value": float(i), "Timestamp": now - i % 600,
                        "Dimensions": [{"Name": "Host", "Value": f"h{i % 7}"}]}
                       for i in range(1000)],
    })  # fmt: skip
    headers = {"Content-Type": "application/x-amz-json-1.0",
               "X-Amz-Target": "GraniteServiceVersion20100801.PutMetricData"}  # fmt: skip
    done = [0] * threads
    stop = time.monotonic() + seconds

    def work(index: int) -> None:
        with httpx.Client(timeout=60) as http:
            while time.monotonic() < stop:
                request = AWSRequest("POST", server.url + "/", data=body, headers=dict(headers))
                SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "monitoring", "us-east-1").add_auth(
                    request
                )
                answer = http.post(server.url + "/", content=body, headers=dict(request.headers))
                assert answer.status_code == 200, answer.text
                done[index] += 1000

    started, cpu = time.monotonic(), server_cpu(server)
    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed, used = time.monotonic() - started, server_cpu(server) - cpu
    return sum(done) / elapsed, used * 1e6 / max(sum(done), 1)


def fill_million(data_dir: Path, end: int) -> int:
    store = SqliteMetricStore(data_dir / "metrics.db")
    metric = ("Bench", "Big", (("Host", "a"),))
    start = end - 1_000_000
    for chunk in range(start, end, 100_000):
        store.put(Observation(metric, t, "Count", 1.0, float(t % 97), float(t % 97), float(t % 97))
                  for t in range(chunk, chunk + 100_000))  # fmt: skip
    store.close()
    return start


def get_metric_data(server: Server, start: int, end: int, calls: int = 20) -> list[float]:
    cw = cloudwatch(server)
    metric = {"Namespace": "Bench", "MetricName": "Big",
              "Dimensions": [{"Name": "Host", "Value": "a"}]}  # fmt: skip
    query = [{"Id": "big", "MetricStat": {"Metric": metric, "Period": 3600, "Stat": "Sum"}}]
    timings = []
    for _ in range(calls):
        began = time.perf_counter()
        answer = cw.get_metric_data(
            MetricDataQueries=query, StartTime=datetime.fromtimestamp(start, UTC),
            EndTime=datetime.fromtimestamp(end, UTC),
        )  # fmt: skip
        timings.append((time.perf_counter() - began) * 1000)
        assert answer["MetricDataResults"][0]["Values"]
    return timings


def evaluation(events: int, runs: int) -> tuple[list[float], list[float], float]:
    """events/s of ``runs`` timed evaluations after one warm-up, in this process, by the
    clock and by the process's CPU time (what the code costs on a shared machine), and the
    count each gave."""
    lines = SAMPLE.read_text().splitlines()
    stored = [(1_700_000_000_000 + i, i, 1, 1, 0, lines[i % len(lines)]) for i in range(events)]
    transformation = {"metricName": "Rejects", "metricNamespace": "NS", "metricValue": "1"}
    compiled = [CompiledFilter(MetricFilter("g", "f", REJECT, [transformation], 0))]
    evaluate(compiled, stored)  # warm-up: the pattern's caches, the allocator's arenas
    rates, cpu_rates = [], []
    for _ in range(runs):
        gc.collect()
        began, cpu = time.perf_counter(), time.process_time()
        tally = evaluate(compiled, stored)
        cpu_rates.append(events / (time.process_time() - cpu))
        rates.append(events / (time.perf_counter() - began))
    return rates, cpu_rates, sum(tally.values())


def evaluation_fresh(events: int, runs: int) -> tuple[list[float], list[float], float]:
    """``evaluation`` in a fresh interpreter: nothing else this bench did (a server's
    clients, a million datapoints, another part's heap) weighs on the figure."""
    child = subprocess.run(
        [sys.executable, __file__, "--evaluation-child", str(events), str(runs)],
        capture_output=True, check=True,
    )  # fmt: skip
    rates, cpu_rates, counted = orjson.loads(child.stdout)
    return rates, cpu_rates, counted


TEN = [
    ("rejects", REJECT, {"metricValue": "1", "unit": "Count"}),
    ("rejected-bytes", REJECT, {"metricValue": "$bytes", "unit": "Bytes"}),
    ("bytes", FLOW, {"metricValue": "$bytes", "unit": "Bytes"}),
    ("packets", FLOW, {"metricValue": "$packets"}),
    ("ssh", f"[{FIELDS.replace('destport', 'destport = 22')}, action, flowlogstatus]",
     {"metricValue": "1"}),
    ("rdp", f"[{FIELDS.replace('destport', 'destport = 3389')}, action, flowlogstatus]",
     {"metricValue": "1"}),
    ("per-port", REJECT, {"metricValue": "1", "dimensions": {"Port": "$destport"}}),
    ("accepts", "ACCEPT", {"metricValue": "1", "defaultValue": 0}),
    ("nodata", "NODATA", {"metricValue": "1"}),
    ("big", f"[{FIELDS.replace('bytes', 'bytes > 10000')}, action, flowlogstatus]",
     {"metricValue": "1"}),
]  # fmt: skip


class Endpoint(NamedTuple):
    """A server to measure: logsieve's or a peer's (what the test clients need: a URL)."""

    url: str
    pid: int


def cpu_seconds(pid: int) -> float:
    """CPU seconds a process has used (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Ingest(NamedTuple):
    rate: float  # PutLogEvents events/s while putting
    caught_up: float  # seconds from the first put until the REJECT filter had counted all
    cpu_put: float  # server CPU µs per event while putting
    cpu_all: float  # server CPU µs per event until counted (putting and counting)
    rejects: int  # REJECT lines put (what AWS counts)
    counted: float  # what the server's "rejects" metric summed to (0 without filters)


def put_log_events(
    target: Endpoint, filters: int, batches: int, run: int = 0, size: int = 5_000
) -> Ingest:
    """PutLogEvents of ``batches`` x ``size`` flow-log lines into a new group with the first
    ``filters`` of ``TEN``; the rate, the catch-up time and the server's CPU per event."""
    logs = client(target)  # type: ignore[arg-type]
    group = f"/bench/filters-{filters}-{run}-{time.time_ns()}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    for name, pattern, extra in TEN[:filters]:
        logs.put_metric_filter(
            logGroupName=group, filterName=name, filterPattern=pattern,
            metricTransformations=[{"metricName": name, "metricNamespace": group, **extra}],
        )  # fmt: skip
    lines = SAMPLE.read_text().splitlines()
    base = (int(time.time()) // 60 - 30) * 60_000
    bodies = [[{"timestamp": base + b * 100 + i // 100, "message": lines[i % len(lines)]}
               for i in range(size)] for b in range(batches)]  # fmt: skip
    rejects = sum(" REJECT " in e["message"] for body in bodies for e in body)
    total = batches * size
    cpu = cpu_seconds(target.pid)
    began = time.perf_counter()
    for events in bodies:
        logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=events)
    put_seconds = time.perf_counter() - began
    cpu_put = cpu_seconds(target.pid) - cpu
    found = 0.0
    if filters:
        cw = cloudwatch(target)  # type: ignore[arg-type]
        deadline = time.monotonic() + 120
        while (found := counted(cw, group, "rejects", base)) < rejects:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
    caught_up = time.perf_counter() - began
    return Ingest(total / put_seconds, caught_up, cpu_put / total * 1e6,
                  (cpu_seconds(target.pid) - cpu) / total * 1e6, rejects, found)  # fmt: skip


def counted(cw: Any, namespace: str, name: str, base: int) -> float:
    """The Sum of a metric over the two hours around ``base`` (ms)."""
    points = cw.get_metric_statistics(
        Namespace=namespace, MetricName=name, Statistics=["Sum"], Period=3600,
        StartTime=datetime.fromtimestamp(base / 1000 - 3600, UTC),
        EndTime=datetime.fromtimestamp(base / 1000 + 3600, UTC),
    )["Datapoints"]  # fmt: skip
    return sum(p["Sum"] for p in points)


def ingest_rounds(server: Server, batches: int, rounds: int) -> list[tuple[Ingest, Ingest]]:
    """(without filters, with 10) ``rounds`` times, alternating, so load drifts hit both."""
    results = []
    for run in range(rounds):
        progress(f"PutLogEvents without filters, then with 10 (round {run + 1}/{rounds})")
        target = Endpoint(server.url, server.process.pid)  # type: ignore[union-attr]
        results.append((put_log_events(target, 0, batches, run),
                        put_log_events(target, 10, batches, run)))  # fmt: skip
    return results


#: The peer's scripts (shared/peers/localstack beside the project's checkout).
PEER_SCRIPTS = (
    Path(os.environ.get("LOGSIEVE_PEERS", ROOT.parent / "shared" / "peers")) / "localstack"
)
LOCALSTACK_DIR = Path(os.environ.get("TMPDIR", "/tmp")) / "peer-localstack"


def start_localstack(directory: Path) -> Endpoint | None:
    """LocalStack Community from ``directory`` (setup.sh's), started in host mode on a free
    port; None when it is not installed there."""
    if not (directory / "venv" / "bin" / "python").exists():
        return None
    port = free_port()
    started = subprocess.run(["bash", str(PEER_SCRIPTS / "start.sh"), str(directory), str(port)],
                             capture_output=True, text=True, check=True)  # fmt: skip
    peer = Endpoint(f"http://127.0.0.1:{port}", int(started.stdout.split()[-1]))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(peer.url + "/_localstack/health", timeout=2).status_code == 200:
                return peer
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop_process(peer.pid)
    raise RuntimeError(f"LocalStack did not answer on {peer.url} within 120 s")


def stop_process(pid: int, timeout: float = 20.0) -> None:
    """SIGTERM the peer we started (start.sh detached it), then wait until it has gone."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    if Path(f"/proc/{pid}").exists():
        os.kill(pid, signal.SIGKILL)


def side_by_side(
    server: Server, directory: Path, batches: int, size: int
) -> list[tuple[str, Ingest, Ingest]] | None:
    """PutLogEvents without and with one metric filter (the REJECT count) into logsieve and
    LocalStack Community, the same batches; None when LocalStack is not installed."""
    progress(f"starting LocalStack from {directory}")
    peer = start_localstack(directory)
    if peer is None:
        progress(f"LocalStack is not installed in {directory}: skipped (install it with "
                 f"{PEER_SCRIPTS / 'setup.sh'} {directory})")  # fmt: skip
        return None
    ours = Endpoint(server.url, server.process.pid)  # type: ignore[union-attr]
    try:
        results = []
        for name, target in (("logsieve", ours), ("LocalStack", peer)):
            progress(f"{name}: PutLogEvents without, then with one metric filter")
            results.append((name, put_log_events(target, 0, batches, 0, size),
                            put_log_events(target, 1, batches, 0, size)))  # fmt: skip
        return results
    finally:
        stop_process(peer.pid)


def report_side_by_side(results: list[tuple[str, Ingest, Ingest]], events: int) -> None:
    for name, bare, one in results:
        row(f"{name}: PutLogEvents events/s, no filter / one REJECT metric filter ({events:,} "
            "flow-log events)", f"{bare.rate:,.0f} / {one.rate:,.0f}")  # fmt: skip
        row(f"{name}: REJECT filter counted (AWS counts {one.rejects:,}, the REJECT lines)",
            f"{one.counted:,.0f}", f"{one.rejects:,}", one.counted == one.rejects)  # fmt: skip
    (_, _, ours), (_, _, theirs) = results
    row("one metric filter: logsieve / LocalStack events/s", f"{ours.rate / theirs.rate:,.1f}x")


PARTS = ("put-metric-data", "get-metric-data", "ingest", "evaluation")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--batches", type=int, default=20, help="PutLogEvents batches of 5k")
    parser.add_argument("--rounds", type=int, default=3, help="PutLogEvents none/10 rounds")
    parser.add_argument("--runs", type=int, default=7, help="timed evaluation runs")
    parser.add_argument("--only", choices=PARTS, action="append", help="run only these parts")
    parser.add_argument("--localstack", nargs="?", const=LOCALSTACK_DIR, type=Path,
                        metavar="DIR", help="side by side with LocalStack installed in DIR "
                        f"(default {LOCALSTACK_DIR})")  # fmt: skip
    parser.add_argument("--localstack-events", type=int, default=2_000)
    parser.add_argument("--evaluation-child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.evaluation_child:
        sys.stdout.buffer.write(orjson.dumps(evaluation(*args.evaluation_child)))
        return
    parts = set(args.only or PARTS)
    pmd, pmd_cpu, gmd, rounds, peers = None, 0.0, None, [], None
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir(mode=0o700)
        end = int(time.time()) // 3600 * 3600
        if "get-metric-data" in parts:
            progress("filling 1,000,000 datapoints")
            start = fill_million(data, end)
        server = Server(data).start()
        try:
            if "put-metric-data" in parts:
                progress("PutMetricData")
                pmd, pmd_cpu = put_metric_data(server, args.seconds)
            if "get-metric-data" in parts:
                progress("GetMetricData")
                gmd = get_metric_data(server, start, end)
            if "ingest" in parts:
                rounds = ingest_rounds(server, args.batches, args.rounds)
            if args.localstack is not None:
                size = args.localstack_events // 4
                peers = side_by_side(server, args.localstack, 4, size)
        finally:
            server.stop()
    evaluated = None
    if "evaluation" in parts:
        progress("evaluation, in a fresh process")
        evaluated = evaluation_fresh(1_000_000, args.runs)
    print(f"## CloudWatch metrics (`bench/metrics.py`, {time.strftime('%Y-%m-%d')})\n")
    print(f"- machine: {cpu_model()}, commit {git_commit()}\n")
    print("| measure | figure | target | |\n|---|---|---|---|")
    if pmd is not None:
        row("PutMetricData datapoints/s", f"{pmd:,.0f}", ">= 100,000", pmd >= 1e5)
        row("PutMetricData: server CPU ms per 1,000 datapoints", f"{pmd_cpu:.1f}")
    row("load average (1 min) at the end", f"{os.getloadavg()[0]:.1f}")
    if gmd is not None:
        gmd.sort()
        p50, p99 = statistics.median(gmd), gmd[int(len(gmd) * 0.99) - 1]
        row("GetMetricData over 1M datapoints, p50 / p99 ms", f"{p50:.1f} / {p99:.1f}",
            "< 100", p99 < 100)  # fmt: skip
    if evaluated is not None:
        rates, cpu_rates, counted = evaluated
        for clock, values in (("wall clock", rates), ("CPU time", cpu_rates)):
            median = statistics.median(values)
            row(f"REJECT filter evaluation events/s by {clock}, median of {len(values)} in a "
                f"fresh process (min-max {min(values):,.0f}-{max(values):,.0f}; "
                f"{counted:,.0f} counted)", f"{median:,.0f}", ">= 1,000,000",
                median >= 1e6)  # fmt: skip
    if rounds:
        report_ingest(rounds, args.batches * 5_000)
    if peers:
        report_side_by_side(peers, args.localstack_events // 4 * 4)


def report_ingest(rounds: list[tuple[Ingest, Ingest]], events: int) -> None:
    ratios = [ten.rate / bare.rate for bare, ten in rounds]
    median = statistics.median(ratios)
    each = "; ".join(f"{bare.rate:,.0f} / {ten.rate:,.0f} ({ten.rate / bare.rate:.0%})"
                     for bare, ten in rounds)  # fmt: skip
    row(f"PutLogEvents events/s, none / 10 filters (ratio), {len(rounds)} alternating rounds",
        each, ">= 80% (median)", median >= 0.8)  # fmt: skip
    row("PutLogEvents with 10 filters / without, median ratio", f"{median:.0%}")
    cpu = "; ".join(f"{bare.cpu_put:.1f} / {ten.cpu_put:.1f} / {ten.cpu_all:.1f}"
                    for bare, ten in rounds)  # fmt: skip
    row("server CPU µs per event: none / 10 filters while putting / 10 filters until counted",
        cpu)  # fmt: skip
    caught = ", ".join(f"{ten.caught_up:.1f}" for _, ten in rounds)
    row(f"10 filters: all {events:,} events counted, seconds after the first put", caught)


def row(name: str, figure: str, target: str = "", passed: bool | None = None) -> None:
    verdict = "" if passed is None else ("PASS" if passed else "FAIL")
    print(f"| {name} | {figure} | {target} | {verdict} |")


if __name__ == "__main__":
    main()
