"""Alarms: breaching datapoint -> ALARM email latency with 10-second alarms.

Runs the real server with a real SMTP server (aiosmtpd) as the inbox, an SNS topic with an
email subscription per probe, and one 10-second alarm per probe (Sum > 5, one datapoint). Each probe
sleeps a random part of the 10-s evaluation cycle, then PutMetricData sends one breaching
datapoint; its latency is the time from the 200 to the ALARM email arriving. Probes run
concurrently, so the ticker evaluates many alarms per tick.

Target (issue 13): p99 <= period + 2 s = 12 s (AWS takes minutes). No peer: moto never
evaluates alarms; LocalStack evaluates on a 60-s-minimum scheduler.
Progress goes to stderr, the Markdown report to stdout.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.metrics.clients import cloudwatch  # noqa: E402
from tests.receivers import SmtpServer  # noqa: E402
from tests.server import client  # noqa: E402
from tests.sns.helpers import start_server  # noqa: E402

from common import cpu_model, git_commit, progress  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--probes", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, SmtpServer() as smtp:
        server = start_server(Path(tmp), smtp, "\n[sns]\nauto_confirm = true\n")
        try:
            latencies = run(server, smtp, args.probes)
        finally:
            server.stop()
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print("## Alarms: breaching datapoint -> ALARM email (10-second alarms)\n")
    print(f"{cpu_model()}, commit {git_commit()}, {len(latencies)} probes\n")
    print("| p50 | p99 | max | target p99 |")
    print("|---|---|---|---|")
    print(f"| {p50:.2f} s | {p99:.2f} s | {latencies[-1]:.2f} s | 12 s (ratio {p99 / 12:.2f}) |")


def run(server, smtp: SmtpServer, probes: int) -> list[float]:
    cw, sns = cloudwatch(server), client(server, "sns")
    names = [f"bench-{uuid.uuid4().hex[:8]}" for _ in range(probes)]
    for name in names:  # a topic and an inbox per alarm: one on-call person per alarm
        topic = sns.create_topic(Name=name)["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=f"{name}@example.com")
        cw.put_metric_alarm(
            AlarmName=name, Namespace="Bench", MetricName="Errors", Statistic="Sum",
            Dimensions=[{"Name": "Probe", "Value": name}], Period=10, EvaluationPeriods=1,
            Threshold=5.0, ComparisonOperator="GreaterThanThreshold", AlarmActions=[topic],
        )  # fmt: skip
    latencies: list[float] = []
    lock = threading.Lock()

    def probe(name: str) -> None:
        time.sleep(random.uniform(0, 10))
        client_ = cloudwatch(server)
        client_.put_metric_data(
            Namespace="Bench",
            MetricData=[{"MetricName": "Errors", "Value": 9.0, "StorageResolution": 1,
                         "Dimensions": [{"Name": "Probe", "Value": name}]}],
        )  # fmt: skip
        sent = time.monotonic()
        subject = f'ALARM: "{name}" in US East (N. Virginia)'
        while time.monotonic() - sent < 60:
            if any(m["Subject"] == subject for m in smtp.messages(f"{name}@example.com")):
                with lock:
                    latencies.append(time.monotonic() - sent)
                return
            time.sleep(0.02)
        progress(f"{name}: no email within 60 s")

    threads = [threading.Thread(target=probe, args=(n,)) for n in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    progress(f"{len(latencies)} of {probes} probes answered")
    return latencies


if __name__ == "__main__":
    main()
