"""Subscription delivery with two logsieve nodes on a 3-node NATS JetStream cluster.

One subscription (a Lambda-style handler declared on both nodes) is worked by whichever node
holds its lease. Events are put at a sustained rate alternately through both nodes, so half
arrive through the node working the subscription (woken at once by its own append) and half
through the other node; then every event goes through the other node, which tells the
working node with an append signal (core NATS; its poll of the log every ``[cluster]
poll_seconds`` is the safety net). Reports
ingest-to-handler latency for each, then the failover: SIGKILL of the working node during
ingest, time until the other holds the lease and until an event put after the kill reaches
the handler. Progress to stderr, Markdown to stdout.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.server import Server, client  # noqa: E402

from common import cpu_model, git_commit, progress  # noqa: E402
from delivery import FILLER, HANDLER, bench_function, read_out, subscribe  # noqa: E402
from logsieve.storage.jetstream.cluster import LocalCluster  # noqa: E402
from logsieve.storage.jetstream.leases import JetStreamLeases  # noqa: E402
from logsieve.storage.jetstream.options import JetStreamOptions  # noqa: E402

GROUP = "/bench/latency-1000"  # the name delivery.subscribe gives a rate of 1,000


def start_nodes(
    root: Path, cluster: LocalCluster, replicas: int, handler: str = HANDLER
) -> dict[str, Server]:
    config = root / "logsieve.toml"
    config.write_text(bench_function(root, handler))
    nodes = {}
    for name in ("a", "b"):
        env = {
            "LOGSIEVE_STORAGE_ENGINE": "jetstream",
            "LOGSIEVE_STORAGE_NATS_URLS": ",".join(cluster.urls),
            "LOGSIEVE_STORAGE_REPLICAS": str(replicas),
            "LOGSIEVE_CLUSTER_NODE_ID": name,
        }
        log = root / f"{name}.log"
        nodes[name] = Server(root / name, config=config, env=env, log_file=log).start()
    return nodes


def holder(leases: JetStreamLeases) -> str | None:
    found = leases.held("subscription/")
    return found[0].node if found else None


def put_at_rate(
    nodes: list[Server], rate: int, seconds: float, offset: int, stop=None, group: str = GROUP
):
    """Put ``rate`` events/s for ``seconds`` (or until ``stop`` is set), 50 batches/s,
    alternating nodes; per event: (ack time, node index). Failed puts are not acknowledged."""
    clients = [client(node) for node in nodes]
    per_batch = max(1, rate // 50)
    acked: dict[int, tuple[float, int]] = {}
    number, begin, index = offset, time.perf_counter(), 0
    while (stop is None and index < seconds * 50) or (stop is not None and not stop.is_set()):
        pause = begin + index / 50 - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        through = index % len(clients)
        events = [{"timestamp": int(time.time() * 1000), "message": f"n {number + i} {FILLER}"}
                  for i in range(per_batch)]  # fmt: skip
        try:
            clients[through].put_log_events(logGroupName=group, logStreamName="s", logEvents=events)
        except Exception:
            pass
        else:
            ack = time.time()
            for i in range(per_batch):
                acked[number + i] = (ack, through)
        number += per_batch
        index += 1
    return acked, number


def wait_delivered(out: Path, wanted, timeout: float = 120, read=read_out) -> dict[int, float]:
    """Handler start time per event number once every ``wanted`` one was handled (or what
    was by ``timeout``); ``read`` parses the handler's output file."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        started, _ = read(out)
        if all(n in started for n in wanted):
            return started
        time.sleep(0.1)
    return read(out)[0]


def figures(waits: list[float]) -> str:
    waits = sorted(waits)
    p99 = waits[max(0, int(len(waits) * 0.99) - 1)]
    return f"{statistics.median(waits):.1f} | {p99:.1f} | {waits[-1]:.1f} | {len(waits):,}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--replicas", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="logsieve-cluster-bench-") as tmp:
        root = Path(tmp)
        cluster = LocalCluster(root / "nats", nodes=3).start()
        nodes: dict[str, Server] = {}
        leases = None
        try:
            nodes = start_nodes(root, cluster, args.replicas)
            leases = JetStreamLeases(JetStreamOptions(urls=tuple(cluster.urls)))
            subscribe(client(nodes["a"]), GROUP)
            while holder(leases) is None:
                time.sleep(0.05)
            working = holder(leases)
            order = [nodes["a"], nodes["b"]]
            progress(f"{args.rate:,} events/s for {args.seconds:.0f} s; {working} works it")
            acked, offset = put_at_rate(order, args.rate, args.seconds, 0)
            started = wait_delivered(root / "out.txt", acked)
            by_node: dict[str, list[float]] = {"a": [], "b": []}
            for number, (ack, through) in acked.items():
                if number in started:
                    by_node["ab"[through]].append((started[number] - ack) * 1000)
            lost = sum(1 for number in acked if number not in started)
            other = "b" if working == "a" else "a"
            progress(f"{args.rate:,} events/s for {args.seconds:.0f} s, all through {other}")
            alone, offset = put_at_rate([nodes[other]], args.rate, args.seconds, offset)
            started = wait_delivered(root / "out.txt", alone)
            polled = [(started[n] - ack) * 1000 for n, (ack, _) in alone.items() if n in started]
            lost += sum(1 for number in alone if number not in started)

            progress("failover: SIGKILL of the working node during ingest")
            survivor = "b" if working == "a" else "a"
            stop = threading.Event()
            result: dict = {}

            def feed() -> None:
                result["acked"], _ = put_at_rate([nodes[survivor]], 200, 0, offset, stop)

            feeder = threading.Thread(target=feed)
            feeder.start()
            time.sleep(2)  # steady ingest before the kill
            killed = time.time()
            nodes[working].kill()
            while holder(leases) != survivor:
                time.sleep(0.02)
            took_lease = time.time() - killed
            time.sleep(3)
            stop.set()
            feeder.join()
            after = [n for n, (ack, _) in result["acked"].items() if ack > killed]
            started = wait_delivered(root / "out.txt", result["acked"])
            first_after = min(started[n] for n in after if n in started) - killed
            missing = sum(1 for n in result["acked"] if n not in started)
        finally:
            if leases is not None:
                leases.close()
            for node in nodes.values():
                node.stop()
            cluster.stop()
    print("# Subscription delivery across two logsieve nodes (JetStream)\n")
    print(f"- machine: {cpu_model()}, commit {git_commit()}; 3 nats-server, R{args.replicas}, "
          "2 logsieve nodes, all on this machine")  # fmt: skip
    print(f"- {args.rate:,} events/s for {args.seconds:.0f} s, alternating nodes; lease TTL 3 s,"
          " append signals, poll 200 ms\n")  # fmt: skip
    print("| ingested through | p50 ms | p99 ms | max ms | events |")
    print("|---|---|---|---|---|")
    for name in ("a", "b"):
        role = "the working node" if name == working else "the other node"
        print(f"| {name}, {role} | {figures(by_node[name])} |")
    print(f"| all through the other node ({other}): signal | {figures(polled)} |")
    print(f"\nLost: {lost}. Failover after SIGKILL of the working node: lease held by the "
          f"other after {took_lease:.2f} s; first event put after the kill reached the handler "
          f"{first_after:.2f} s after it; unacknowledged-or-undelivered: {missing}.")  # fmt: skip


if __name__ == "__main__":
    main()
