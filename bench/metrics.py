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
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import orjson  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from tests.metrics.clients import cloudwatch  # noqa: E402
from tests.server import ACCESS_KEY, SECRET_KEY, Server, client  # noqa: E402

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


def evaluation(events: int) -> tuple[float, float]:
    lines = SAMPLE.read_text().splitlines()
    stored = [(1_700_000_000_000 + i, i, 1, 1, 0, lines[i % len(lines)]) for i in range(events)]
    transformation = {"metricName": "Rejects", "metricNamespace": "NS", "metricValue": "1"}
    compiled = [CompiledFilter(MetricFilter("g", "f", REJECT, [transformation], 0))]
    began = time.perf_counter()
    tally = evaluate(compiled, stored)
    elapsed = time.perf_counter() - began
    return events / elapsed, sum(tally.values())


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


def put_log_events(server: Server, filters: int, batches: int) -> tuple[float, float]:
    """(events/s of PutLogEvents, seconds until the REJECT filter had counted them all)."""
    logs = client(server)
    group = f"/bench/filters-{filters}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    for name, pattern, extra in TEN[:filters]:
        logs.put_metric_filter(
            logGroupName=group, filterName=name, filterPattern=pattern,
            metricTransformations=[{"metricName": name, "metricNamespace": group, **extra}],
        )  # fmt: skip
    lines = SAMPLE.read_text().splitlines()
    base = (int(time.time()) // 60 - 30) * 60_000
    rejects = 0
    began = time.perf_counter()
    for b in range(batches):
        events = [{"timestamp": base + b * 100 + i // 100, "message": lines[i % len(lines)]}
                  for i in range(5_000)]  # fmt: skip
        rejects += sum(" REJECT " in e["message"] for e in events)
        logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=events)
    put_seconds = time.perf_counter() - began
    rate = batches * 5_000 / put_seconds
    if not filters:
        return rate, 0.0
    cw = cloudwatch(server)
    while True:
        points = cw.get_metric_statistics(
            Namespace=group, MetricName="rejects", Statistics=["Sum"], Period=3600,
            StartTime=datetime.fromtimestamp(base / 1000 - 3600, UTC),
            EndTime=datetime.fromtimestamp(base / 1000 + 3600, UTC),
        )["Datapoints"]  # fmt: skip
        if sum(p["Sum"] for p in points) >= rejects:
            return rate, time.perf_counter() - began
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--batches", type=int, default=30, help="PutLogEvents batches of 10k")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir(mode=0o700)
        end = int(time.time()) // 3600 * 3600
        progress("filling 1,000,000 datapoints")
        start = fill_million(data, end)
        server = Server(data).start()
        try:
            progress("PutMetricData")
            pmd, pmd_cpu = put_metric_data(server, args.seconds)
            progress("GetMetricData")
            gmd = get_metric_data(server, start, end)
            progress("PutLogEvents without filters")
            bare, _ = put_log_events(server, 0, args.batches)
            progress("PutLogEvents with 10 filters")
            ten, caught_up = put_log_events(server, 10, args.batches)
        finally:
            server.stop()
    progress("evaluation")
    evaluated, counted = evaluation(1_000_000)
    gmd.sort()
    p50, p99 = statistics.median(gmd), gmd[int(len(gmd) * 0.99) - 1]
    ratio = ten / bare
    print(f"## CloudWatch metrics (`bench/metrics.py`, {time.strftime('%Y-%m-%d')})\n")
    print(f"- machine: {cpu_model()}, commit {git_commit()}\n")
    print("| measure | figure | target | |\n|---|---|---|---|")
    row("PutMetricData datapoints/s", f"{pmd:,.0f}", ">= 100,000", pmd >= 1e5)
    row("PutMetricData: server CPU ms per 1,000 datapoints", f"{pmd_cpu:.1f}")
    row("load average (1 min) at the end", f"{os.getloadavg()[0]:.1f}")
    row("GetMetricData over 1M datapoints, p50 / p99 ms", f"{p50:.1f} / {p99:.1f}", "< 100",
        p99 < 100)  # fmt: skip
    row(f"REJECT filter evaluation events/s ({counted:,.0f} counted)", f"{evaluated:,.0f}",
        ">= 1,000,000", evaluated >= 1e6)  # fmt: skip
    row("PutLogEvents events/s, none / 10 filters (ratio)",
        f"{bare:,.0f} / {ten:,.0f} ({ratio:.0%})", ">= 80%", ratio >= 0.8)  # fmt: skip
    row(f"10 filters: all {args.batches * 5_000:,} events counted after", f"{caught_up:.2f} s")


def row(name: str, figure: str, target: str = "", passed: bool | None = None) -> None:
    verdict = "" if passed is None else ("PASS" if passed else "FAIL")
    print(f"| {name} | {figure} | {target} | {verdict} |")


if __name__ == "__main__":
    main()
