"""A planned handover between two logsieve nodes: the split, the pause in delivery, duplicates.

Three ``nats-server`` (R3) and node a working six subscription filters (one per log group, to a
Lambda-style handler declared on both nodes that records when it ran each payload, for which
group and on which node). Events are put at a steady rate into every group through node a;
node b starts; after it settles (one lease time) a hands b its share. Reports the split, per
moved subscription the pause in delivery (the handler's last payload on a to its first on b,
and the ingest-to-handler latency of the events put meanwhile, against the others'), and
events delivered twice or never. Progress to stderr, Markdown to stdout.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.server import Server, client  # noqa: E402

from common import cpu_model, git_commit, progress  # noqa: E402
from logsieve.storage.jetstream.cluster import LocalCluster  # noqa: E402
from logsieve.storage.jetstream.leases import JetStreamLeases  # noqa: E402
from logsieve.storage.jetstream.options import JetStreamOptions  # noqa: E402

GROUPS = [f"/bench/balance-{n}" for n in range(6)]
HANDLER = """
import base64, gzip, json, os, time


def handler(event, context):
    started = time.time()
    payload = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    if payload["messageType"] != "DATA_MESSAGE":
        return
    numbers = " ".join(e["message"] for e in payload["logEvents"])
    line = (f"{started} {time.time()} {os.environ['AWS_ENDPOINT_URL']} {payload['logGroup']} "
            f"{numbers}\\n")
    out = os.open(os.environ["OUT_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(out, line.encode())
    finally:
        os.close(out)
"""


def config(root: Path) -> Path:
    code = root / "fn"
    code.mkdir()
    (code / "balance_handler.py").write_text(HANDLER)
    path = root / "logsieve.toml"
    path.write_text(f"""
[[functions]]
name = "balance"
handler = "balance_handler.handler"
code_dir = "{code}"
timeout = 60
max_concurrency = 8
environment = {{ OUT_FILE = "{root / "out.txt"}" }}
""")
    return path


def start(root: Path, cluster: LocalCluster, name: str) -> Server:
    env = {
        "LOGSIEVE_STORAGE_ENGINE": "jetstream",
        "LOGSIEVE_STORAGE_NATS_URLS": ",".join(cluster.urls),
        "LOGSIEVE_CLUSTER_NODE_ID": name,
    }
    log = root / f"{name}.log"
    return Server(root / name, config=root / "logsieve.toml", env=env, log_file=log).start()


def split(leases: JetStreamLeases) -> Counter[str]:
    return Counter(lease.node for lease in leases.held("subscription/"))


def read(path: Path, ports: dict[int, str]) -> list[tuple[float, float, str, str, list[int]]]:
    """(start, end, node, group, numbers) per payload, in the order the handler finished."""
    if not path.exists():
        return []
    found = []
    for line in path.read_text().splitlines():
        begin, end, endpoint, group, *numbers = line.split()
        node = ports[urlsplit(endpoint).port]
        found.append((float(begin), float(end), node, group, [int(n) for n in numbers]))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=int, default=100, help="events/s per log group")
    parser.add_argument("--after", type=float, default=5, help="seconds of ingest after it")
    args = parser.parse_args()
    per_batch = max(1, args.rate // 20)
    with tempfile.TemporaryDirectory(prefix="logsieve-balance-bench-") as tmp:
        root = Path(tmp)
        config(root)
        cluster = LocalCluster(root / "nats", nodes=3).start()
        nodes: dict[str, Server] = {}
        leases = None
        acked: dict[tuple[str, int], float] = {}
        free: dict[str, list] = {}  # subscription lease: [last seen a's, first seen b's]
        sent: dict[str, list[int]] = {group: [] for group in GROUPS}
        try:
            nodes["a"] = start(root, cluster, "a")
            leases = JetStreamLeases(JetStreamOptions(urls=tuple(cluster.urls)))
            logs = client(nodes["a"])
            for group in GROUPS:
                logs.create_log_group(logGroupName=group)
                logs.create_log_stream(logGroupName=group, logStreamName="s")
                logs.put_subscription_filter(
                    logGroupName=group, filterName="all", filterPattern="",
                    destinationArn="arn:aws:lambda:us-east-1:123456789012:function:balance",
                )  # fmt: skip
            while split(leases) != {"a": 6}:
                time.sleep(0.05)
            progress("node a works all six; starting node b (before ingest)")
            nodes["b"] = start(root, cluster, "b")
            stop = threading.Event()

            def feed() -> None:
                number, begin, index = 0, time.perf_counter(), 0
                while not stop.is_set():
                    pause = begin + index / 20 - time.perf_counter()
                    if pause > 0:
                        time.sleep(pause)
                    for group in GROUPS:
                        numbers = list(range(number, number + per_batch))
                        events = [{"timestamp": int(time.time() * 1000), "message": str(n)}
                                  for n in numbers]  # fmt: skip
                        logs.put_log_events(logGroupName=group, logStreamName="s",
                                            logEvents=events)  # fmt: skip
                        now = time.time()
                        for n in numbers:
                            acked[group, n] = now
                        sent[group] += numbers
                    number += per_batch
                    index += 1

            feeder = threading.Thread(target=feed)
            feeder.start()
            joined = time.time()
            while sorted(split(leases).values()) != [3, 3]:
                seen = {lease.name: lease.node for lease in leases.held("subscription/")}
                now = time.time()
                for name in seen.keys() | free.keys():
                    if seen.get(name) == "a":
                        free[name] = [now, None]
                    elif seen.get(name) == "b" and free.get(name, [0, 0])[1] is None:
                        free[name][1] = now
                    elif name not in seen and name in free:
                        pass
                time.sleep(0.02)
            now = time.time()
            for name, node in ((x.name, x.node) for x in leases.held("subscription/")):
                if node == "b" and name in free and free[name][1] is None:
                    free[name][1] = now
            balanced_after = time.time() - joined
            progress(f"split 3/3 {balanced_after:.1f} s after b started; ingest goes on")
            time.sleep(args.after)
            stop.set()
            feeder.join()
            ports = {urlsplit(s.url).port: name for name, s in nodes.items()}
            deadline = time.time() + 60
            while time.time() < deadline:
                done = read(root / "out.txt", ports)
                seen = {(g, n) for _, _, _, g, numbers in done for n in numbers}
                if all((g, sent[g][-1]) in seen for g in GROUPS):
                    break
                time.sleep(0.1)
            holders = split(leases)
        finally:
            if leases is not None:
                leases.close()
            for server in nodes.values():
                server.stop()
            cluster.stop()
    payloads = done
    latency: dict[str, list[float]] = {"moved": [], "stayed": []}
    pauses = []
    taken = sorted(b for _, b in free.values() if b is not None)
    cold = []  # b's first payload started, after b took its first lease
    duplicates = missing = 0
    for group in GROUPS:
        mine = [p for p in payloads if p[3] == group]
        numbers = [n for p in mine for n in p[4]]
        duplicates += len(numbers) - len(set(numbers))
        missing += len(set(sent[group]) - set(numbers))
        moved = {p[2] for p in mine} == {"a", "b"}
        if moved:
            last_a = max(p[1] for p in mine if p[2] == "a")
            first_b = min(p[0] for p in mine if p[2] == "b")
            pauses.append((first_b - last_a) * 1000)
            if taken:
                cold.append((first_b - taken[0]) * 1000)
        first_start: dict[int, float] = {}
        for begin, _, _, _, batch in mine:
            for n in batch:
                first_start.setdefault(n, begin)
        waits = [(first_start[n] - acked[group, n]) * 1000 for n in sent[group]
                 if n in first_start]  # fmt: skip
        latency["moved" if moved else "stayed"] += waits
    load = os.getloadavg()
    print("# A planned handover between two logsieve nodes (JetStream)\n")
    print(f"- machine: {cpu_model()}, commit {git_commit()}; 3 nats-server R3 and 2 logsieve "
          f"nodes on it, load {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} at the end")  # fmt: skip
    print(f"- 6 subscriptions, {args.rate} events/s into each group through node a; lease TTL "
          "3 s (b settles for 3 s)\n")  # fmt: skip
    print(f"Split after the handover: {dict(holders)}, {balanced_after:.1f} s after b started.")
    print(f"Pause of each moved subscription (a's last payload done to b's first started): "
          f"{', '.join(f'{p:.0f}' for p in sorted(pauses))} ms.")  # fmt: skip
    gaps = sorted((b - a) * 1000 for a, b in free.values() if b is not None)
    print(f"Lease of each moved subscription: last seen a's to first seen b's (polled every "
          f"20 ms): {', '.join(f'{g:.0f}' for g in gaps)} ms.")  # fmt: skip
    print(f"b's first payload of each moved subscription started "
          f"{', '.join(f'{c:.0f}' for c in sorted(cold))} ms after b took its first lease "
          "(its first invocation of the function: a cold worker).")  # fmt: skip
    print("\n| subscriptions | p50 ms | p99 ms | max ms | events |\n|---|---|---|---|---|")
    for name, waits in latency.items():
        waits.sort()
        p99 = waits[max(0, int(len(waits) * 0.99) - 1)]
        print(f"| {name} | {statistics.median(waits):.1f} | {p99:.1f} | {waits[-1]:.1f} | "
              f"{len(waits):,} |")  # fmt: skip
    print(f"\nDelivered twice: {duplicates}; never delivered: {missing}.")


if __name__ == "__main__":
    main()
