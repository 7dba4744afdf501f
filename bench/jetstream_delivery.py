"""Subscription delivery at 10,000 events/s through JetStream, and failover after SIGKILL.

Three ``nats-server`` (R3) and two ``logsieve serve`` nodes on this machine; one subscription
(a Lambda-style handler declared on both nodes, recording when it starts on each payload and
the pid of the node that ran it) is worked by the node holding its lease.

* **latency**: ``--rate`` events/s for ``--seconds`` put through the node NOT working the
  subscription, then through the one that is; put-to-handler p50/p99/max, the backlog (events
  not yet handed to the handler) when ingest stops and how long it took to drain.
* **failover**: ``--failovers`` runs of: steady ingest (``--failover-rate``) through the
  survivor, SIGKILL of the node working the subscription, time until the survivor's handler
  starts on a payload; every event acknowledged in the run must reach the handler at least
  once. The killed node is restarted before the next run (so the roles alternate).

Run from the repository root: ``.venv/bin/python bench/jetstream_delivery.py``. Progress to
stderr, Markdown to stdout; compare with ``bench/delivery.py`` (SQLite) on the same machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.server import Server, client  # noqa: E402

from cluster_delivery import figures, holder, put_at_rate, start_nodes, wait_delivered  # noqa: E402
from common import cpu_model, git_commit, progress  # noqa: E402
from delivery import subscribe  # noqa: E402
from logsieve.storage.jetstream.cluster import LocalCluster  # noqa: E402
from logsieve.storage.jetstream.leases import JetStreamLeases  # noqa: E402
from logsieve.storage.jetstream.options import JetStreamOptions  # noqa: E402

GROUP = "/bench/jetstream-delivery"
SPAN = 10_000_000  # event numbers per feeder thread and phase, so they never overlap

# delivery.HANDLER plus the worker's ancestors' pids (the node's among them: a sandbox
# supervisor sits between)
HANDLER = """
import base64, gzip, json, os, time

OUT = os.environ["OUT_FILE"]


def ancestors():
    pid, found = os.getppid(), []
    while pid > 1 and len(found) < 5:
        found.append(str(pid))
        with open(f"/proc/{pid}/stat") as stat:
            pid = int(stat.read().rsplit(")", 1)[1].split()[1])
    return ",".join(found) or "1"


def handler(event, context):
    started = time.time()
    payload = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    numbers = [e["message"].split(" ", 2)[1] for e in payload["logEvents"]]
    with open(OUT, "a") as out:
        out.write(f"{started} {ancestors()} {' '.join(numbers)}\\n")
"""


def read_out(path: Path) -> tuple[dict[int, float], list[tuple[float, set[int]]]]:
    """First handler start per event number, and (start, ancestor pids) of every invocation."""
    started: dict[int, float] = {}
    calls: list[tuple[float, set[int]]] = []
    if not path.exists():
        return started, calls
    for line in path.read_text().splitlines():
        begin, pids, *numbers = line.split()
        calls.append((float(begin), {int(p) for p in pids.split(",")}))
        for number in numbers:
            started.setdefault(int(number), float(begin))
    return started, calls


def wait_all(out: Path, wanted, timeout: float = 300) -> dict[int, float]:
    return wait_delivered(out, wanted, timeout, read=read_out)


def feed(node: Server, rate: int, seconds: float, base: int, feeders: int, stop=None):
    """``rate`` events/s from ``feeders`` threads (each its own client and number range)."""
    with ThreadPoolExecutor(feeders) as pool:
        runs = [
            pool.submit(put_at_rate, [node], rate // feeders, seconds, base + k * SPAN, stop, GROUP)
            for k in range(feeders)
        ]
        acked: dict[int, tuple[float, int]] = {}
        for run in runs:
            acked.update(run.result()[0])
    return acked


def latency(out: Path, node: Server, args, base: int) -> dict:
    begin = time.time()
    acked = feed(node, args.rate, args.seconds, base, args.feeders)
    end = max(ack for ack, _ in acked.values())
    started = wait_all(out, acked)
    waits = [(started[n] - ack) * 1000 for n, (ack, _) in acked.items() if n in started]
    return {
        "achieved": len(acked) / (end - begin),
        "figures": figures(waits),
        "backlog": sum(1 for n in acked if started.get(n, float("inf")) > end),
        "drain": max(started.get(n, end) for n in acked) - end,
        "lost": sum(1 for n in acked if n not in started),
    }


def failover(out: Path, nodes: dict[str, Server], leases, args, base: int) -> dict:
    working = holder(leases)
    survivor = "b" if working == "a" else "a"
    stop = threading.Event()
    result: dict = {}

    def run() -> None:
        result["acked"] = feed(nodes[survivor], args.failover_rate, 0, base, 1, stop)

    feeder = threading.Thread(target=run)
    feeder.start()
    time.sleep(2)  # steady ingest before the kill
    killed = time.time()
    nodes[working].kill()
    pid = nodes[survivor].process.pid
    first = None
    while first is None and time.time() < killed + 60:
        first = min((t for t, p in read_out(out)[1] if pid in p and t > killed), default=None)
        time.sleep(0.02)
    time.sleep(1)  # ingest goes on after the survivor took over
    stop.set()
    feeder.join()
    started = wait_all(out, result["acked"])
    missing = sum(1 for n in result["acked"] if n not in started)
    nodes[working].start()  # for the next run, where it is the survivor
    return {"killed": working, "seconds": (first or float("nan")) - killed,
            "events": len(result["acked"]), "missing": missing}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--feeders", type=int, default=1, help="client threads for the rate")
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--failovers", type=int, default=5)
    parser.add_argument("--failover-rate", type=int, default=1_000)
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="logsieve-jsdelivery-") as tmp:
        root = Path(tmp)
        out = root / "out.txt"
        cluster = LocalCluster(root / "nats", nodes=3).start()
        nodes: dict[str, Server] = {}
        leases = None
        try:
            nodes = start_nodes(root, cluster, args.replicas, HANDLER)
            leases = JetStreamLeases(JetStreamOptions(urls=tuple(cluster.urls)))
            subscribe(client(nodes["a"]), GROUP)
            while holder(leases) is None:
                time.sleep(0.05)
            working = holder(leases)
            other = "b" if working == "a" else "a"
            progress("warm-up: 2 s at 1,000 events/s (the handler's workers start)")
            wait_all(out, feed(nodes[other], 1_000, 2, 90 * SPAN, 1))
            rows = []
            for phase, (name, role) in enumerate(((other, "other"), (working, "working"))):
                progress(f"{args.rate:,} events/s for {args.seconds:.0f} s through {name} ({role})")
                result = latency(out, nodes[name], args, phase * args.feeders * SPAN)
                rows.append((f"{name}, the {role} node", result))
                progress(str(result))
            runs = []
            for i in range(args.failovers):
                progress(f"failover {i + 1}/{args.failovers}")
                runs.append(failover(out, nodes, leases, args, (10 + i) * SPAN))
                progress(str(runs[-1]))
        finally:
            if leases is not None:
                leases.close()
            for node in nodes.values():
                node.stop()
            cluster.stop()
    print("# Subscription delivery and failover through JetStream\n")
    print(f"- machine: {cpu_model()}, commit {git_commit()}; 3 nats-server, R{args.replicas}, "
          "2 logsieve nodes, all on this machine")  # fmt: skip
    print(f"- load average at the start: {load[0]:.2f}; at the end: {os.getloadavg()[0]:.2f}")
    print(
        f"- {args.rate:,} events/s ({args.feeders} client thread(s), 50 PutLogEvents/s each, "
        f"~200-byte events) for {args.seconds:.0f} s per row; Lambda-style handler\n"
    )
    print("| put through | achieved events/s | p50 ms | p99 ms | max ms | events "
          "| backlog at end | drained after s | lost |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for label, r in rows:
        print(f"| {label} | {r['achieved']:,.0f} | {r['figures']} | {r['backlog']:,} | "
              f"{r['drain']:.2f} | {r['lost']} |")  # fmt: skip
    for label, r in rows:
        p99 = float(r["figures"].split(" | ")[1])
        print(f"\n- {label}: p99 {p99:.1f} ms = {p99 / 150:.2f}x the 150 ms target")
    seconds = sorted(r["seconds"] for r in runs)
    if seconds:
        median = statistics.median(seconds)
        print(f"\nFailover after SIGKILL of the working node during {args.failover_rate:,} "
              f"events/s ingest, {len(runs)} runs: kill to first delivery by the other node "
              f"min {seconds[0]:.2f} s, median {median:.2f} s, max {seconds[-1]:.2f} s "
              f"(max = {seconds[-1] / 5:.2f}x the 5 s target); acknowledged but never "
              f"delivered: {sum(r['missing'] for r in runs)} of "
              f"{sum(r['events'] for r in runs):,}.")  # fmt: skip
        for r in runs:
            print(f"- killed {r['killed']}: {r['seconds']:.2f} s, {r['events']:,} events, "
                  f"{r['missing']} missing")  # fmt: skip


if __name__ == "__main__":
    main()
