"""The event log on the JetStream engine: appends and FilterLogEvents-like scans over
1,000,000 events, on a 1-node (R1) and a 3-node (R3) local cluster.

Appends 1,000 chunks of 1,000 events (about 100 bytes each, one log stream) the way
PutLogEvents does, then times the scan FilterLogEvents pages over (``group_windows`` over the
whole group, each window's messages tested by a compiled filter pattern in one pass), a
GetLogEvents page, and how long a new node takes to index the stream. Progress to stderr,
Markdown to stdout. Usage: ``python bench/logs_jetstream.py [events]``.
"""

from __future__ import annotations

import itertools
import sys
import tempfile
import time
from operator import itemgetter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from common import cpu_model, git_commit, progress  # noqa: E402
from logsieve.patterns import compile as compile_filter  # noqa: E402
from logsieve.storage.factory import open_stores  # noqa: E402
from logsieve.storage.jetstream import JetStreamOptions  # noqa: E402
from logsieve.storage.jetstream.cluster import LocalCluster  # noqa: E402

CHUNK = 1_000
_MESSAGE = itemgetter(5)


def run(nodes: int, events: int, tmp: Path) -> dict[str, float]:
    cluster = LocalCluster(tmp / f"nats{nodes}", nodes=nodes).start()
    try:
        options = JetStreamOptions(
            urls=tuple(cluster.urls), replicas=min(nodes, 3), namespace=f"bench{nodes}"
        )
        stores = open_stores(tmp / "data", "jetstream", options)
        store = stores.logs()
        group = store.create_group("/bench", 0, None, "STANDARD")
        stream = store.create_stream(group.id, "s", 0)
        base = int(time.time() * 1000) - events
        progress(f"R{options.replicas}: appending {events:,} events")
        began = time.perf_counter()
        for start in range(0, events, CHUNK):
            timestamps = list(range(base + start, base + start + CHUNK))
            messages = [
                f"{ts} host-{ts % 50} GET /api/v1/items/{ts % 997} "
                f"status={200 if ts % 100 else 500} bytes={ts % 65536} latency_ms={ts % 300}"
                for ts in timestamps
            ]
            size = sum(map(len, messages))
            store.append(group.id, stream.id, timestamps, messages, size, base + start)
        append_s = time.perf_counter() - began
        pattern = compile_filter("status=500").matches
        progress("scanning")
        scans = []
        for _ in range(3):
            began = time.perf_counter()
            seen = matched = 0
            windows = store.group_windows(group.id, None, None, None, None)
            for window in windows:
                seen += len(window)
                matched += sum(map(pattern, map(_MESSAGE, window)))
            scans.append(time.perf_counter() - began)
            assert seen == events, seen
        began = time.perf_counter()
        page = store.stream_events(stream.id, None, None, None, None, 10_000)
        get_ms = (time.perf_counter() - began) * 1000
        assert len(page) == 10_000
        progress("a new node indexing the stream")
        began = time.perf_counter()
        second = stores.logs()
        second.last_seq()
        list(itertools.islice(second.group_windows(group.id, None, None, None, None), 1))
        index_s = time.perf_counter() - began
        second.close()
        store.close()
        return {
            "append_events_s": events / append_s,
            "scan_s": min(scans),
            "scan_events_s": events / min(scans),
            "matched": matched,
            "get_ms": get_ms,
            "index_s": index_s,
        }
    finally:
        cluster.stop()


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for nodes in (1, 3):
            rows.append((nodes, run(nodes, events, Path(tmp))))
    print(f"Event log on JetStream, {events:,} events in chunks of {CHUNK:,}; "
          f"{cpu_model()}, commit {git_commit()}\n")  # fmt: skip
    print(
        "| Cluster | append events/s | scan (FilterLogEvents-like) s | scan events/s "
        "| GetLogEvents 10k page ms | new node indexes in s |"
    )
    print("|---|---|---|---|---|---|")
    for nodes, r in rows:
        print(
            f"| {nodes} node(s), R{min(nodes, 3)} | {r['append_events_s']:,.0f} "
            f"| {r['scan_s']:.2f} | {r['scan_events_s']:,.0f} | {r['get_ms']:.0f} "
            f"| {r['index_s']:.2f} |"
        )


if __name__ == "__main__":
    main()
