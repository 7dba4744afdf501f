"""Metrics on the JetStream engine: GetMetricData-like reads over 100,000 points of one metric.

Starts a local 3-node cluster (R3), puts 100,000 observations (one per second, 27.8 h) in
puts of 1,000, then times ``MetricStore.buckets`` the way GetMetricData asks: period 3,600 s
minute-aligned (the per-minute roll-up), period 300 s over an unaligned range (the raw
observations), and with raw values (percentiles). Also: how long a new node takes to replay
the stream into its mirror, and the put rate. Progress to stderr, Markdown to stdout.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from common import cpu_model, git_commit, progress  # noqa: E402
from logsieve.storage.factory import open_stores  # noqa: E402
from logsieve.storage.jetstream import JetStreamOptions  # noqa: E402
from logsieve.storage.jetstream.cluster import LocalCluster  # noqa: E402
from logsieve.storage.metrics import Observation  # noqa: E402

POINTS = 100_000
METRIC = ("Bench", "Big", (("Host", "a"),))


def timings(call: Callable[[], object], calls: int = 20) -> tuple[float, float]:
    """(p50, max) milliseconds of ``calls`` calls."""
    spent = []
    for _ in range(calls):
        began = time.perf_counter()
        call()
        spent.append((time.perf_counter() - began) * 1000)
    return statistics.median(spent), max(spent)


def _ms(figures: tuple[float, float]) -> str:
    return f"{figures[0]:.1f} / {figures[1]:.1f}"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cluster = LocalCluster(Path(tmp) / "nats", nodes=3).start()
        try:
            options = JetStreamOptions(urls=tuple(cluster.urls), replicas=3, namespace="bench")
            stores = open_stores(Path(tmp) / "data", "jetstream", options)
            store = stores.metrics()
            end = int(time.time()) // 3600 * 3600
            start = end - POINTS
            progress(f"putting {POINTS:,} observations")
            began = time.perf_counter()
            for chunk in range(start, end, 1000):
                store.put(
                    Observation(
                        METRIC, t, "Count", 1.0, float(t % 97), float(t % 97), float(t % 97)
                    )
                    for t in range(chunk, chunk + 1000)
                )
            put_rate = POINTS / (time.perf_counter() - began)
            progress("reading")
            rolled = timings(lambda: store.buckets(METRIC, start // 60 * 60, end, 3600))
            edge = timings(lambda: store.buckets(METRIC, start // 60 * 60, end - 30, 3600))
            raw = timings(lambda: store.buckets(METRIC, start + 1, end, 300))
            values = timings(lambda: store.buckets(METRIC, start, end, 3600, raw_values=True), 5)
            progress("replaying into a new node's mirror")
            began = time.perf_counter()
            later = stores.metrics()
            later.buckets(METRIC, start // 60 * 60, end, 3600)
            replay = time.perf_counter() - began
            later.close()
            store.close()
        finally:
            cluster.stop()
    rows = [
        ("put, observations/s (puts of 1,000)", f"{put_rate:,.0f}"),
        ("period 3600, minute-aligned (roll-up), p50 / max ms", _ms(rolled)),
        (
            "period 3600, end 30 s past a minute (roll-up + edge), p50 / max ms",
            _ms(edge),
        ),
        ("period 300, unaligned start (observations), p50 / max ms", _ms(raw)),
        ("period 3600 with raw values (percentiles), p50 / max ms", _ms(values)),
        (f"new node: replay {POINTS:,} points and first read, s", f"{replay:.2f}"),
    ]
    print("## Metrics on JetStream (`bench/metrics_jetstream.py`)\n")
    print(f"- machine: {cpu_model()}, commit {git_commit()}, 3-node cluster on this machine, R3")
    print(f"- reads of one metric holding {POINTS:,} points (1 s apart)\n")
    print("| measure | figure |")
    print("|---|---|")
    for measure, figure in rows:
        print(f"| {measure} | {figure} |")


if __name__ == "__main__":
    main()
