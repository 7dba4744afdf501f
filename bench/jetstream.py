"""PutLogEvents on the JetStream engine (R1, R3, R3 with ``sync_interval: always``) next to SQLite,
with the CPU each event costs the logsieve server and the nats-servers, and a sizing model.

Run from the repository root:

    .venv/bin/python bench/jetstream.py [--events N] [--clients 2] [--batch-events N]
        [--configs sqlite,r1,r3,r3-always] [--partitions 1,3] [--groups N] [--rounds N]

The clients and events are bench/ingest.py's (signed PutLogEvents batches of ~240-byte VPC
flow log records from client processes; counts checked by reading every stream back). One
``logsieve serve`` per configuration: SQLite in a fresh data directory, then one node on a
local 3-node NATS cluster (every process on this machine) with ``replicas`` 1 and 3, each in
its own namespace. ``--partitions 1,3`` runs each JetStream configuration with each event-log
partition count (``[storage] partitions``), alternately, ``--rounds`` times (the machine is
shared: alternating spreads other load over both); ``--groups`` log groups (default: one per
client, client n writing group n) spread the writes over the partitions. CPU comes from /proc
(utime + stime) of the server and of each nats-server over the timed window. Progress to
stderr, Markdown to stdout.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.server import ACCESS_KEY, SECRET_KEY, Server  # noqa: E402

from common import progress  # noqa: E402
from ingest import (  # noqa: E402
    AGE_MS,
    MAX_BATCH_EVENTS,
    SEED,
    Clients,
    Ingest,
    Target,
    cpu_seconds,
    ingest,
    machine_facts,
    read_back,
    start_logsieve,
)
from logsieve.storage.jetstream.cluster import LocalCluster, Node  # noqa: E402

GROUP = "bench-jetstream"
UTILISATION = 0.7  # the sizing model plans cores to run at most this busy
NODE_CORES = 8  # cores of one logsieve node / one nats-server machine in the model
STREAM_LEADER_CORES = 1.0  # what one stream's RAFT leader is assumed to use at most


class SyncAlwaysCluster(LocalCluster):
    """A LocalCluster whose nodes fsync every write (``sync_interval: always``)."""

    def _write_config(self, node: Node) -> None:
        super()._write_config(node)
        text = node.config_file.read_text(encoding="utf-8")
        node.config_file.write_text(
            text.replace("jetstream {", "jetstream {\n  sync_interval: always", 1),
            encoding="utf-8",
        )


@dataclass
class Run:
    """One configuration's ingest, with the nats-servers' CPU over the same window."""

    name: str
    result: Ingest
    nats_cpu: list[float]  # per nats-server, seconds (empty for SQLite)

    @property
    def server_us(self) -> float:
        return self.result.server_cpu / self.result.events * 1e6

    @property
    def nats_us(self) -> float:
        return sum(self.nats_cpu) / self.result.events * 1e6

    @property
    def leader_us(self) -> float:
        return max(self.nats_cpu, default=0.0) / self.result.events * 1e6


@contextmanager
def nats_cpu(cluster: LocalCluster | None) -> Iterator[list[float]]:
    """CPU seconds each nats-server spends inside the block (filled in on exit)."""
    spent: list[float] = []
    pids = [n.process.pid for n in cluster.nodes if n.process] if cluster else []
    before = [cpu_seconds(pid) for pid in pids]
    yield spent
    spent.extend(cpu_seconds(pid) - b for pid, b in zip(pids, before, strict=True))


def start_on(
    cluster: LocalCluster, replicas: int, namespace: str, root: Path, partitions: int = 1
) -> Target:
    """A logsieve node on ``cluster`` in its own namespace."""
    root.mkdir(parents=True, exist_ok=True)
    config = root / "logsieve.toml"
    config.write_text(
        f'{cluster.storage_lines(replicas)}namespace = "{namespace}"\npartitions = {partitions}\n',
        encoding="utf-8",
    )
    server = Server(root / "data", config=config, log_file=root / "serve.log").start(timeout=120)
    assert server.process is not None
    return Target(
        f"jetstream-{namespace}", server.url, ACCESS_KEY, SECRET_KEY, server.process.pid,
        server.stop,
    )  # fmt: skip


def measure(
    name: str,
    start: Callable[[], Target],
    clients: Clients,
    events: int,
    cluster: LocalCluster | None = None,
    groups: Sequence[str] = (GROUP,),
) -> Run:
    progress(f"{name}: starting the server")
    target = start()
    try:
        progress(f"{name}: {events:,} events")
        with nats_cpu(cluster) as spent:
            result = ingest(target, clients, groups, events)
        read_back(target, groups, clients.count, result)
        if result.stored_events != result.events:
            raise SystemExit(
                f"{name}: sent {result.events:,} events, read back {result.stored_events:,}"
            )
    finally:
        target.stop()
    progress(f"  {result.rate:,.0f} events/s")
    return Run(name, result, spent)


# --configs name -> (row name, replicas, sync_interval: always)
SHAPES = {
    "r1": ("JetStream R1", 1, False),
    "r3": ("JetStream R3", 3, False),
    "r3-always": ("JetStream R3, sync_interval: always", 3, True),
}


def row_name(name: str, partitions: int) -> str:
    return name if partitions == 1 else f"{name}, {partitions} partitions"


def jetstream_runs(
    root: Path,
    clients: Clients,
    events: int,
    configs: list[str],
    partitions: Sequence[int] = (1,),
    rounds: int = 1,
    groups: Sequence[str] = (GROUP,),
) -> Iterator[Run]:
    """Each configuration with each partition count, alternately, ``rounds`` times; a fresh
    cluster for each run."""
    shapes = [SHAPES[c] for c in configs if c in SHAPES]
    plan = [(shape, p) for _ in range(rounds) for shape in shapes for p in partitions]
    for index, ((name, replicas, always), count) in enumerate(plan):
        kind = SyncAlwaysCluster if always else LocalCluster
        cluster = kind(root / f"nats{index}", nodes=3).start()
        try:
            namespace = f"bench{index}"
            yield measure(
                row_name(name, count),
                lambda c=cluster, r=replicas, ns=namespace, i=index, p=count: start_on(
                    c, r, ns, root / f"node{i}", p
                ),
                clients,
                events,
                cluster,
                groups,
            )
        finally:
            cluster.stop()


def _us(x: float) -> str:
    return f"{x:.1f}"


def report(
    runs: list[Run], facts: list[str], events: int, clients: int, batch: int, groups_line: str
) -> str:
    sqlite = next((r for r in runs if r.name == "SQLite"), None)
    lines = [f"## PutLogEvents on JetStream (`bench/jetstream.py`), {time.strftime('%Y-%m-%d')}"]
    lines += ["", *facts]
    lines += [
        f"- {events:,} events per configuration from {clients} client processes (seed {SEED},"
        " bench/ingest.py's events and `logsieve put` client), PutLogEvents batches of at most"
        f" {batch:,} events (and 1 MiB); every count read back",
        f"- log groups: {groups_line}",
        "- one logsieve node; the 3 nats-servers, the node and the clients share the 2 cores",
        "",
        "| configuration | events/s | vs SQLite | logsieve µs CPU/event | nats-servers µs"
        " CPU/event (all) | busiest nats-server µs/event | client µs/event | other µs/event |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        r = run.result
        ratio = f"{r.rate / sqlite.result.rate:.2f}x" if sqlite else "n/a"
        nats = _us(run.nats_us) if run.nats_cpu else "-"
        busiest = _us(run.leader_us) if run.nats_cpu else "-"
        lines.append(
            f"| {run.name} | {r.rate:,.0f} | {ratio} | {_us(run.server_us)} | {nats} | {busiest}"
            f" | {_us(r.client_cpu / r.events * 1e6)} | {_us(r.other_cpu / r.events * 1e6)} |"
        )
    lines += ["", *ratios(runs), "", *sizing(runs)]
    return "\n".join(lines) + "\n"


def ratios(runs: list[Run]) -> list[str]:
    by = {run.name: run for run in runs}
    out = ["Ratios:"]
    pairs = [
        ("JetStream R1", "SQLite"),
        ("JetStream R3", "SQLite"),
        ("JetStream R3", "JetStream R1"),
        ("JetStream R3, sync_interval: always", "JetStream R3"),
    ]
    for a, b in pairs:
        if a in by and b in by:
            x, y = by[a], by[b]
            out.append(
                f"- {a} / {b}: throughput {x.result.rate / y.result.rate:.2f}x,"
                f" total server CPU per event {cpu_per_event(x) / cpu_per_event(y):.2f}x"
            )
    return out


def cpu_per_event(run: Run) -> float:
    """Server-side CPU per event: the logsieve node plus every nats-server (µs)."""
    return run.server_us + run.nats_us


def sizing(runs: list[Run]) -> list[str]:
    """Processes, machines and nats-servers for 1M and 10M events/s, from the CPU per event.

    A ``logsieve serve`` process is one Python interpreter: about one core (the GIL), so a
    machine runs several, each with its own data directory, all on the same cluster.
    """
    run = next((r for r in runs if r.name == "JetStream R3"), None)
    if run is None:
        return []
    out = [
        f"Sizing model (from the R3 row; cores planned at {UTILISATION:.0%} busy, "
        f"{NODE_CORES}-core machines, one logsieve process per core, one stream leader "
        f"assumed to use at most {STREAM_LEADER_CORES:g} core):",
        "",
        "| events/s | logsieve cores = processes | logsieve machines |"
        " nats-server cores (3 replicas) | nats-servers | event-log partitions (stream leaders) |",
        "|---|---|---|---|---|---|",
    ]
    for rate in (1_000_000, 10_000_000):
        processes = math.ceil(rate * run.server_us / 1e6 / UTILISATION)
        nats_cores = rate * run.nats_us / 1e6 / UTILISATION
        partitions = math.ceil(rate * run.leader_us / 1e6 / STREAM_LEADER_CORES / UTILISATION)
        servers = max(3, 3 * math.ceil(nats_cores / NODE_CORES / 3))
        out.append(
            f"| {rate:,} | {processes} | {math.ceil(processes / NODE_CORES)} |"
            f" {nats_cores:,.0f} | {servers} | {partitions} |"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="per configuration")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument(
        "--configs",
        default="sqlite,r1,r3,r3-always",
        help="which to run, comma-separated: sqlite, r1, r3, r3-always",
    )
    parser.add_argument(
        "--batch-events",
        type=int,
        default=MAX_BATCH_EVENTS,
        help="most events per PutLogEvents (a batch also stops at 1 MiB); agents send small ones",
    )
    parser.add_argument(
        "--partitions",
        default="1",
        help="event-log partition counts to run each JetStream configuration with, e.g. 1,3",
    )
    parser.add_argument("--rounds", type=int, default=1, help="repeat the JetStream runs")
    parser.add_argument(
        "--groups", type=int, default=0, help="log groups, client n writing group n %% groups"
        " (default: one per client)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.events < args.clients or args.clients < 1:
        parser.error("--events must be at least --clients, and both positive")
    try:
        partitions = [int(p) for p in args.partitions.split(",")]
    except ValueError:
        parser.error("--partitions takes integers, comma-separated")
    if not all(1 <= p <= 64 for p in partitions) or args.rounds < 1:
        parser.error("--partitions must be 1-64, --rounds at least 1")
    count = args.groups or args.clients
    groups = [GROUP] if count == 1 else [f"{GROUP}-{n}" for n in range(count)]
    groups_line = (
        f"{len(groups)} (client n writes group n % {len(groups)}; groups get consecutive ids,"
        " so with P partitions they land in consecutive partitions)"
    )
    configs = [c.strip() for c in args.configs.split(",")]
    unknown = set(configs) - {"sqlite", *SHAPES}
    if unknown or not 1 <= args.batch_events <= MAX_BATCH_EVENTS:
        parser.error(f"unknown --configs {sorted(unknown)}, or --batch-events not in 1-10,000")
    with tempfile.TemporaryDirectory(prefix="logsieve-bench-js-") as tmp:
        root = Path(tmp)
        facts = machine_facts(root)
        clients = Clients(args.clients, "shipper")
        progress(f"generating {args.events:,} events in {args.clients} client processes ...")
        clients.start(args.events, int(time.time() * 1000) - AGE_MS, args.batch_events)
        runs: list[Run] = []
        try:
            clients.receive("ready")
            if "sqlite" in configs:
                runs.append(
                    measure(
                        "SQLite",
                        lambda: start_logsieve(root / "sqlite"),
                        clients,
                        args.events,
                        groups=groups,
                    )
                )
            runs.extend(
                jetstream_runs(root, clients, args.events, configs, partitions, args.rounds, groups)
            )
        finally:
            clients.stop()
        facts.append(f"- load average at the end: {' '.join(f'{x:.2f}' for x in _loadavg())}")
    sys.stdout.write(report(runs, facts, args.events, args.clients, args.batch_events, groups_line))
    return 0


def _loadavg() -> tuple[float, float, float]:
    import os

    return os.getloadavg()


if __name__ == "__main__":
    raise SystemExit(main())
