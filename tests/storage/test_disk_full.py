"""A full disk, for real: the data directory on a small tmpfs that the test fills up.

PutLogEvents on a full disk answers AWS's ServiceUnavailableException (HTTP 500, retried by
SDKs) with a message saying so and no traceback; nothing acknowledged before is lost; the
background checkpoint thread outlives the errors and catches up once space is freed; /health
and the server log say when the disk is full and when it has room again.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.server import client, free_port
from tests.storage.serving import exit_or_serve, serve


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MiB tmpfs mounted for this test (root, or CAP_SYS_ADMIN, is needed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill: {done.stderr.strip() or done.returncode}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(directory: Path) -> Path:
    """Write zeros into ``directory/filler`` until the filesystem has no block left."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 1 << 16, 1 << 12, 1 << 9, 1):
            block = b"\0" * size
            while True:
                try:
                    os.write(fd, block)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
                    break
    finally:
        os.close(fd)
    return filler


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def batch(tag: str, count: int = 64, size: int = 2048) -> list[dict]:
    stamp = now_ms()
    return [{"timestamp": stamp, "message": f"{tag} {i} " + "x" * size} for i in range(count)]


def delivered(kinesis: Any, stream: str) -> set[str]:
    """The messages of the subscription payloads in the Kinesis stream ``stream``."""
    found: set[str] = set()
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator)
            for record in page["Records"]:
                payload = json.loads(gzip.decompress(record["Data"]))
                found.update(e["message"] for e in payload.get("logEvents", []))
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return found


def counted(cloudwatch: Any) -> float:
    """The sum of the metric filter's ``Disk/Events`` over the last hour."""
    end = time.time() + 60
    points = cloudwatch.get_metric_statistics(
        Namespace="Disk", MetricName="Events", StartTime=end - 3600, EndTime=end,
        Period=3600, Statistics=["Sum"],
    )["Datapoints"]  # fmt: skip
    return sum(p["Sum"] for p in points)


def health(port: int) -> dict:
    return httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).json()


def poll(condition, timeout: float = 20.0, every: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def test_a_full_disk_answers_service_unavailable_and_recovers(
    small_disk: Path, tmp_path: Path
) -> None:
    data = small_disk / "data"
    port = free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        server = serve(data, port, log)
    try:
        assert exit_or_serve(server, port) == "serving", log_path.read_text()
        logs = client(type("S", (), {"url": f"http://127.0.0.1:{port}"})())
        kinesis = client(type("S", (), {"url": f"http://127.0.0.1:{port}"})(), "kinesis")
        kinesis.create_stream(StreamName="disk", ShardCount=2)
        logs.create_log_group(logGroupName="/disk")
        logs.create_log_stream(logGroupName="/disk", logStreamName="s")
        # a subscription whose deliveries and cursor commits meet the full disk too
        kinesis.create_stream(StreamName="out", ShardCount=1)
        out = kinesis.describe_stream(StreamName="out")["StreamDescription"]["StreamARN"]
        logs.put_subscription_filter(
            logGroupName="/disk", filterName="all", filterPattern="",
            destinationArn=out, roleArn="arn:aws:iam::123456789012:role/CWLtoKinesisRole",
        )  # fmt: skip
        logs.put_metric_filter(
            logGroupName="/disk", filterName="count", filterPattern="",
            metricTransformations=[
                {"metricName": "Events", "metricNamespace": "Disk", "metricValue": "1"}
            ],
        )  # fmt: skip
        acked: list[str] = []

        def put(tag: str) -> None:
            events = batch(tag)
            logs.put_log_events(logGroupName="/disk", logStreamName="s", logEvents=events)
            acked.extend(e["message"] for e in events)

        for i in range(20):  # a WAL of a few MB, checkpointed: later commits reuse its space
            put(f"before-{i}")
        stored = sum(len(m) for m in acked)
        assert poll(lambda: (data / "logsieve.db").stat().st_size > stored)
        filler = fill(small_disk)

        failure: ClientError | None = None
        for i in range(200):  # until the WAL and the database have no room left either
            try:
                put(f"full-{i}")
            except ClientError as error:
                failure = error
                break
        assert failure is not None, "200 batches fitted on a full disk"
        assert failure.response["Error"]["Code"] == "ServiceUnavailableException"
        assert failure.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        message = failure.response["Error"]["Message"]
        assert "disk is full" in message and "Traceback" not in message, message
        with pytest.raises(ClientError) as kinesis_failure:
            kinesis.put_record(StreamName="disk", Data=b"x" * 400_000, PartitionKey="k")
        error = kinesis_failure.value.response
        assert error["Error"]["Code"] == "InternalFailureException"  # Kinesis's server fault
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 500
        assert "disk is full" in error["Error"]["Message"]
        state = health(port)
        assert state["status"] == "degraded" and state["disk"] == "full", state
        # Commits that fitted in the WAL's old space left frames the database file has no room
        # for: the checkpoint thread fails on them (and must survive it).
        assert poll(lambda: "checkpoint failed" in log_path.read_text()), log_path.read_text()

        filler.unlink()
        put("after")  # space is back: the very next write succeeds
        kinesis.put_record(StreamName="disk", Data=b"after", PartitionKey="k")
        assert poll(lambda: health(port) == {"status": "ok"}), health(port)

        # The checkpoint thread survived: the WAL's frames reach the database file, which
        # grows to hold every acknowledged event (a dead thread leaves them in the WAL).
        stored = sum(len(m) for m in acked)
        assert poll(lambda: (data / "logsieve.db").stat().st_size > stored), (
            f"logsieve.db holds {(data / 'logsieve.db').stat().st_size} bytes, "
            f"{stored} acknowledged: checkpoints stopped"
        )

        # Nothing acknowledged was lost, and nothing is there twice.
        got: list[str] = []
        token = None
        while True:
            args = {"nextToken": token} if token else {"startFromHead": True}
            page = logs.get_log_events(logGroupName="/disk", logStreamName="s", **args)
            got += [e["message"] for e in page["events"]]
            if page["nextForwardToken"] == token:
                break
            token = page["nextForwardToken"]
        assert sorted(got) == sorted(acked)
        # ... and every acknowledged event reached the subscription's destination.
        assert poll(lambda: delivered(kinesis, "out") >= set(acked), timeout=60), (
            f"{len(set(acked) - delivered(kinesis, 'out'))} of {len(acked)} events undelivered"
        )
        # ... and was counted by the metric filter once.
        cloudwatch = client(type("S", (), {"url": f"http://127.0.0.1:{port}"})(), "cloudwatch")
        assert poll(lambda: counted(cloudwatch) == len(acked), timeout=30), (
            f"counted {counted(cloudwatch)} of {len(acked)}"
        )
    finally:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(15)
        if server.poll() is None:
            server.kill()
            server.wait()
    text = log_path.read_text()
    assert "Traceback" not in text, text
    full = [line for line in text.splitlines() if "disk is full: cannot write" in line]
    assert len(full) == 1 and "WARNING" in full[0], text  # once, when entering the state
    assert any("disk has room again" in line for line in text.splitlines()), text
    assert "checkpoints resumed" in text, text


def test_a_store_closes_on_a_full_disk_and_reopens_whole(small_disk: Path) -> None:
    """In process: appends fail with DiskFull, the checkpoint thread keeps running through its
    failures, closing with the disk still full raises nothing, and every acknowledged event is
    there when the store is opened again with space freed."""
    from logsieve.storage import SqliteStore
    from logsieve.storage.disk import DiskFull

    path = small_disk / "logsieve.db"
    store = SqliteStore(path)
    group = store.create_group("/g", 0, None, "STANDARD")
    stream = store.create_stream(group.id, "s", 0)
    acked: list[str] = []
    message = "y" * 4096

    def put(i: int) -> None:
        texts = [f"{i} {j} {message}" for j in range(32)]
        store.append(group.id, stream.id, list(range(32)), texts, 32 * 4100, 0)
        acked.extend(texts)

    for i in range(20):
        put(i)
    assert poll(lambda: path.stat().st_size > 20 * 32 * 4096)  # checkpointed
    filler = fill(small_disk)
    with pytest.raises(DiskFull) as failure:
        for i in range(20, 400):
            put(i)
    assert failure.value.code == "ServiceUnavailableException" and failure.value.status == 500
    checkpointer = store._checkpointer
    assert poll(lambda: checkpointer.failures > 0), "no checkpoint met the full disk"
    assert checkpointer.thread.is_alive()
    store.close()  # the final checkpoint cannot run: the WAL stays, nothing raises
    assert not checkpointer.thread.is_alive()

    filler.unlink()
    again = SqliteStore(path)
    try:
        got = [e[5] for e in again.read_after(0, 1_000_000)]
        assert got == acked
    finally:
        again.close()


def test_starting_on_a_full_disk_fails_with_one_clear_line(small_disk: Path) -> None:
    data = small_disk / "data"
    port = free_port()
    first = serve(data, port)  # creates the databases, then stops
    assert exit_or_serve(first, port) == "serving"
    first.terminate()
    first.communicate(timeout=15)
    fill(small_disk)
    second = serve(data, port)
    assert exit_or_serve(second, port) == "exited"
    _, err = second.communicate(timeout=15)
    assert second.returncode != 0
    assert "Traceback" not in err, err
    assert f"Error: the disk holding data directory {data} is full" in err, err
