"""Subscription delivery: ingest-to-handler latency and the delivered-events ceiling.

Runs the real server with a Lambda-style handler declared in a config file and drives it with
boto3, the way users do:

* **latency**: PutLogEvents batches every 20 ms at a sustained rate (1,000 and 10,000
  events/s) into a group with a match-everything subscription; the handler records when it
  starts on each payload, the client when each PutLogEvents returned 200; the difference per
  event gives p50/p99/max.
* **throughput**: a backlog of matching events is built while the handler is told to fail,
  then released; delivered events / seconds until the handler has seen them all is the
  ceiling with default batching.

No peer ratio: moto runs subscription Lambdas only through Docker, and LocalStack cannot be
installed here (see RESULTS.md). Progress goes to stderr, the Markdown report to stdout.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.server import Server, client  # noqa: E402

from common import cpu_model, git_commit, package_versions, progress  # noqa: E402

HANDLER = """
import base64, gzip, json, os, time

OUT = os.environ["OUT_FILE"]
FAIL_FLAG = os.environ["FAIL_FLAG"]


def handler(event, context):
    started = time.time()
    if os.path.exists(FAIL_FLAG):
        raise RuntimeError("held back")
    payload = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    numbers = [e["message"].split(" ", 2)[1] for e in payload["logEvents"]]
    with open(OUT, "a") as out:
        out.write(f"{started} {time.time()} {' '.join(numbers)}\\n")
"""
FILLER = "x" * 160  # ~200-byte events


def bench_function(root: Path, handler: str = HANDLER) -> str:
    """Writes the handler under ``root`` and returns the ``[[functions]]`` table declaring it
    (``HANDLER`` appends each invocation's start, end and event numbers to ``root/out.txt``)."""
    code = root / "fn"
    code.mkdir()
    (code / "bench_handler.py").write_text(handler)
    return textwrap.dedent(f"""
        [[functions]]
        name = "bench"
        handler = "bench_handler.handler"
        code_dir = "{code}"
        timeout = 60
        max_concurrency = 4
        environment = {{ OUT_FILE = "{root / "out.txt"}", FAIL_FLAG = "{root / "fail"}" }}
        """)


def start_server(root: Path) -> Server:
    config = root / "logsieve.toml"
    config.write_text(
        bench_function(root)
        + textwrap.dedent("""
        [delivery]
        retry_base_seconds = 0.01
        retry_max_backoff_seconds = 0.05
        """)
    )
    return Server(root / "data", config=config).start()


def read_out(path: Path) -> tuple[dict[int, float], list[float]]:
    """Handler start time per event number, and every invocation's end time."""
    started: dict[int, float] = {}
    ends: list[float] = []
    if not path.exists():
        return started, ends
    for line in path.read_text().splitlines():
        begin, end, *numbers = line.split()
        ends.append(float(end))
        for number in numbers:
            started.setdefault(int(number), float(begin))
    return started, ends


def subscribe(logs, group: str) -> None:
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    logs.put_subscription_filter(
        logGroupName=group, filterName="all", filterPattern="",
        destinationArn="arn:aws:lambda:us-east-1:123456789012:function:bench",
    )  # fmt: skip


def latency(server: Server, root: Path, rate: int, seconds: float, offset: int) -> dict:
    logs = client(server)
    group = f"/bench/latency-{rate}"
    subscribe(logs, group)
    per_batch = max(1, rate // 50)
    acked: dict[int, float] = {}
    number = offset
    begin = time.perf_counter()
    batches = int(seconds * 50)
    for index in range(batches):
        due = begin + index / 50
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        now_ms = int(time.time() * 1000)
        events = [{"timestamp": now_ms, "message": f"n {number + i} {FILLER}"}
                  for i in range(per_batch)]  # fmt: skip
        logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=events)
        ack = time.time()
        for i in range(per_batch):
            acked[number + i] = ack
        number += per_batch
    achieved = len(acked) / (time.perf_counter() - begin)
    deadline = time.time() + 60
    while time.time() < deadline:
        started, _ = read_out(root / "out.txt")
        if all(n in started for n in acked):
            break
        time.sleep(0.1)
    started, _ = read_out(root / "out.txt")
    missing = [n for n in acked if n not in started]
    waits = sorted((started[n] - acked[n]) * 1000 for n in acked if n in started)
    return {
        "rate": rate, "achieved": achieved, "events": len(acked), "missing": len(missing),
        "p50": statistics.median(waits), "p99": waits[int(len(waits) * 0.99) - 1],
        "max": waits[-1], "next": number,
    }  # fmt: skip


def throughput(server: Server, root: Path, total: int, offset: int) -> dict:
    logs = client(server)
    group = "/bench/throughput"
    subscribe(logs, group)
    (root / "fail").touch()
    number, batch = offset, 4000  # ~4,000 x 226 bytes stays under the 1 MiB batch limit
    progress(f"building a backlog of {total:,} events (handler held back)")
    while number < offset + total:
        count = min(batch, offset + total - number)
        now_ms = int(time.time() * 1000)
        events = [{"timestamp": now_ms, "message": f"n {number + i} {FILLER}"}
                  for i in range(count)]  # fmt: skip
        logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=events)
        number += count
    wanted = set(range(offset, offset + total))
    release = time.time()
    (root / "fail").unlink()
    progress("released; waiting for the handler to see every event")
    deadline = release + 600
    while time.time() < deadline:
        started, ends = read_out(root / "out.txt")
        if wanted <= started.keys():
            break
        time.sleep(0.2)
    started, ends = read_out(root / "out.txt")
    seen = wanted & started.keys()
    last = max(ends)
    return {"events": total, "delivered": len(seen), "seconds": last - release,
            "rate": len(seen) / (last - release)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="per latency rate")
    parser.add_argument("--backlog", type=int, default=500_000, help="throughput events")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="logsieve-bench-") as tmp:
        root = Path(tmp)
        server = start_server(root)
        try:
            results, offset = [], 0
            for rate in (1_000, 10_000):
                progress(f"latency at {rate:,} events/s for {args.seconds:.0f} s")
                result = latency(server, root, rate, args.seconds, offset)
                offset = result["next"]
                results.append(result)
            ceiling = throughput(server, root, args.backlog, offset)
        finally:
            server.stop()
    print("# Subscription delivery benchmark\n")
    print(f"- machine: {cpu_model()}, commit {git_commit()}")
    print(f"- {', '.join(package_versions(('awslambdaric', 'boto3')))}")
    print("- handler: decodes the payload and appends one line per invocation (Lambda-style, "
          "in a worker process); default batching\n")  # fmt: skip
    print("| sustained rate | achieved | events | p50 ms | p99 ms | max ms | lost |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['rate']:,}/s | {r['achieved']:,.0f}/s | {r['events']:,} | {r['p50']:.1f} | "
              f"{r['p99']:.1f} | {r['max']:.1f} | {r['missing']} |")  # fmt: skip
    print(f"\nDelivered from a backlog of {ceiling['events']:,} matching events: "
          f"{ceiling['delivered']:,} in {ceiling['seconds']:.2f} s = "
          f"**{ceiling['rate']:,.0f} events/s**\n")  # fmt: skip
    p99 = next(r["p99"] for r in results if r["rate"] == 10_000)
    verdict = "PASS" if p99 <= 150 else "MISS"
    print(f"- {verdict} p99 ingest-to-handler <= 150 ms at 10,000 events/s: {p99:.1f} ms")
    verdict = "PASS" if ceiling["rate"] >= 50_000 else "MISS"
    print(f"- {verdict} >= 50,000 matched events/s delivered: {ceiling['rate']:,.0f}/s")


if __name__ == "__main__":
    main()
