"""Sources: events/s received through the kinesis and firehose sources from another server.

kinesis: a second logsieve server plays AWS; its Kinesis-compatible stream is filled first
with awslogs records (gzip JSON, ``--per-record`` events each, as a subscription filter writes
them), then a local server with a kinesis source (trim_horizon) starts, and the clock runs
from the first events it stored until its ``GET /_logsieve/sources`` counts every event
stored (durable, in the local log group); the events of that first write are not counted.

firehose: ``--clients`` threads POST Firehose HTTP endpoint requests (``--records`` awslogs
records of ``--per-record`` events each, gzip Content-Encoding as CloudWatch Logs → Firehose
sends) to the local server's firehose source; each 200 means durable; the clock runs from the
first request to the last 200.

Target (issue 15): >= 100,000 events/s for each. Progress to stderr, the report to stdout.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from tests.server import ACCESS_KEY, SECRET_KEY, Server, client  # noqa: E402
from tests.sources.helpers import admin_get  # noqa: E402

from common import cpu_model, git_commit, progress  # noqa: E402
from logsieve.formats.awslogs import LogEvent, data_message, encode  # noqa: E402

KEY = "bench-firehose-key-0123456789"
MESSAGE = (
    "2 123456789012 eni-0a1b2c3d 110.53.{a}.{b} 10.0.0.5 51000 {port} 6 1 40 "
    "1700000000 1700000060 REJECT OK"
)


def payload(index: int, per_record: int, now: int) -> bytes:
    events = [
        LogEvent(str(index * per_record + i), now + i,
                 MESSAGE.format(a=index % 250, b=i % 250, port=20 + i % 10))
        for i in range(per_record)
    ]  # fmt: skip
    return encode(data_message("123456789012", "/bench/flow", f"eni-{index % 8}", ["f"], events))


def _local(tmp: Path, text: str, env: dict[str, str]) -> Server:
    config = tmp / "logsieve.toml"
    config.write_text(text)
    return Server(tmp / "local", config=config, env=env, log_file=tmp / "local.log")


def bench_kinesis(tmp: Path, records: int, per_record: int, shards: int) -> tuple[int, float]:
    remote = Server(tmp / "remote").start()
    try:
        kinesis = client(remote, "kinesis", retries=10)
        kinesis.create_stream(StreamName="bench", ShardCount=shards)
        now = int(time.time() * 1000) - 3_600_000
        progress(f"kinesis: filling the remote stream with {records} records")
        batch = []
        for index in range(records):
            batch.append({"Data": payload(index, per_record, now), "PartitionKey": str(index)})
            if len(batch) == 100 or index == records - 1:
                while batch:  # the remote enforces Kinesis's write limits: resend the refused
                    answer = kinesis.put_records(StreamName="bench", Records=batch)
                    batch = [r for r, out in zip(batch, answer["Records"], strict=True)
                             if "ErrorCode" in out]  # fmt: skip
                    if batch:
                        time.sleep(0.2)
        total = records * per_record
        local = _local(
            tmp,
            '[[sources]]\nname = "bench"\ntype = "kinesis"\nstream_name = "bench"\n'
            f'endpoint_url = "{remote.url}"\nregion = "us-east-1"\nstart = "trim_horizon"\n',
            {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY},
        )
        local.start()
        try:
            first = None  # when the first events were stored: the server's start-up is
            while True:  # outside the figure (it is seconds on a loaded 2-CPU machine)
                received = admin_get(local, "sources")["sources"][0]["eventsReceived"]
                if received and first is None:
                    first, first_count = time.perf_counter(), received
                if received >= total:
                    break
                time.sleep(0.02)
            elapsed = time.perf_counter() - first
        finally:
            local.stop()
        return total - first_count, elapsed
    finally:
        remote.stop()


def bench_firehose(
    tmp: Path, requests: int, records: int, per_record: int, clients: int
) -> tuple[int, float]:
    local = _local(
        tmp,
        '[[sources]]\nname = "bench"\ntype = "firehose"\npath = "/firehose"\n'
        f'access_key = "{KEY}"\n',
        {},
    ).start()
    try:
        now = int(time.time() * 1000) - 3_600_000
        progress(f"firehose: preparing {requests} requests")
        bodies = []
        for r in range(requests):
            data = [base64.b64encode(payload(r * records + i, per_record, now)).decode()
                    for i in range(records)]  # fmt: skip
            body = json.dumps({"requestId": str(uuid.uuid4()), "timestamp": now,
                               "records": [{"data": d} for d in data]}).encode()  # fmt: skip
            bodies.append(gzip.compress(body, 1))
        queue = list(enumerate(bodies))
        lock = threading.Lock()
        failures: list[str] = []

        def worker() -> None:
            with httpx.Client(timeout=120) as http:
                while True:
                    with lock:
                        if not queue:
                            return
                        _, body = queue.pop()
                    answer = http.post(
                        f"{local.url}/firehose", content=body,
                        headers={"Content-Encoding": "gzip", "X-Amz-Firehose-Access-Key": KEY,
                                 "X-Amz-Firehose-Request-Id": str(uuid.uuid4()),
                                 "Content-Type": "application/json"},
                    )  # fmt: skip
                    if answer.status_code != 200:
                        failures.append(answer.text)

        threads = [threading.Thread(target=worker) for _ in range(clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        if failures:
            raise SystemExit(f"firehose requests failed: {failures[:3]}")
        return requests * records * per_record, elapsed
    finally:
        local.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000, help="kinesis records")
    parser.add_argument("--per-record", type=int, default=500, help="events per awslogs record")
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--requests", type=int, default=20, help="firehose requests")
    parser.add_argument("--request-records", type=int, default=100, help="records per request")
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        (tmp / "k").mkdir()
        (tmp / "f").mkdir()
        k_events, k_seconds = (
            bench_kinesis(tmp / "k", args.records, args.per_record, args.shards)
            if args.records
            else (0, 1.0)
        )
        f_events, f_seconds = bench_firehose(
            tmp / "f", args.requests, args.request_records, args.per_record, args.clients
        )
    print(f"- date: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
    print(f"- cpu: {cpu_model()}, {os.cpu_count()} logical CPUs; logsieve {git_commit()}")
    print(f"- awslogs records of {args.per_record} VPC flow-log events each (~100 bytes)\n")
    print("| source | events | seconds | events/s | target |")
    print("|---|---|---|---|---|")
    for name, events, seconds in (("kinesis", k_events, k_seconds),
                                  ("firehose", f_events, f_seconds)):  # fmt: skip
        print(f"| {name} | {events:,} | {seconds:.2f} | {events / seconds:,.0f} | 100,000 |")


if __name__ == "__main__":
    main()
