"""At-least-once delivery: retries in order, dead letters and redrive, timeouts, crashes."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.server import ACCESS_KEY, SECRET_KEY
from tests.waiting import wait_for

from .harness import Setup, function_arn, put, start


def cli(setup: Setup, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"LOGSIEVE_ACCESS_KEY_ID": ACCESS_KEY, "LOGSIEVE_SECRET_ACCESS_KEY": SECRET_KEY,
           "LOGSIEVE_CONFIG": "", "PATH": "/usr/bin:/bin"}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "logsieve", *args, "--endpoint-url", setup.server.url],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def subscribe(setup: Setup, group: str, streams: list[str], pattern: str = ""):
    logs = setup.logs()
    logs.create_log_group(logGroupName=group)
    for stream in streams:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    logs.put_subscription_filter(logGroupName=group, filterName="sub", filterPattern=pattern,
                                 destinationArn=function_arn())  # fmt: skip
    return logs


def test_a_handler_failing_for_a_while_gets_everything_in_order(tmp_path: Path) -> None:
    setup = start(tmp_path)
    try:
        logs = subscribe(setup, "/flaky", ["a", "b"])
        setup.fail_flag.touch()
        for n in range(20):
            put(logs, "/flaky", "a" if n % 2 else "b", [f"{'a' if n % 2 else 'b'} {n}"])
        wait_for(lambda: cli(setup, "subscriptions", "--json").stdout.count('"failedAttempts": 0')
                 == 0, what="failed attempts")  # fmt: skip
        assert setup.received() == []
        setup.fail_flag.unlink()
        wait_for(lambda: len(setup.received_messages()) >= 20, what="all 20 after recovery")
        received = setup.received_messages()
        assert sorted(set(received), key=lambda m: int(m.split()[1])) == [
            f"{'a' if n % 2 else 'b'} {n}" for n in range(20)
        ]
        for stream in "ab":  # per stream, in the order they were sent
            numbers = [int(m.split()[1]) for m in received if m.startswith(stream)]
            assert numbers == sorted(numbers)
    finally:
        setup.server.stop()


def test_always_failing_ends_in_dead_letters_and_redrive_delivers_once_fixed(
    tmp_path: Path,
) -> None:
    setup = start(tmp_path, delivery="retry_window_seconds = 1")
    try:
        logs = subscribe(setup, "/doomed", ["s"], pattern="ERROR")
        setup.fail_flag.touch()
        put(logs, "/doomed", "s", ["ERROR one", "INFO skip", "ERROR two"])
        listed = wait_for(
            lambda: "pending" in (out := cli(setup, "dead-letters", "list").stdout) and out,
            what="a dead letter",
        )
        assert "/doomed / sub" in listed and "told to fail" in listed
        letters = json.loads(cli(setup, "dead-letters", "list", "--json").stdout)["deadLetters"]
        (letter,) = letters
        assert letter["events"] == 2 and letter["attempts"] >= 2
        assert letter["logStreamName"] == "s" and letter["destinationArn"] == function_arn()
        shown = json.loads(cli(setup, "dead-letters", "show", str(letter["id"])).stdout)
        assert [e["message"] for e in shown["payload"]["logEvents"]] == ["ERROR one", "ERROR two"]
        # Still broken: redrive reports the failure and keeps the letter.
        failed = cli(setup, "dead-letters", "redrive", str(letter["id"]))
        assert failed.returncode == 1 and "told to fail" in failed.stderr
        setup.fail_flag.unlink()
        done = cli(setup, "dead-letters", "redrive", "--all")
        assert done.returncode == 0, done.stderr
        assert f"dead letter {letter['id']}: delivered 2 events" in done.stdout
        assert setup.received_messages() == ["ERROR one", "ERROR two"]
        assert "No dead letters." in cli(setup, "dead-letters", "list").stdout
        # The subscription carries on with new events.
        put(logs, "/doomed", "s", ["ERROR three"])
        wait_for(lambda: setup.received_messages()[-1:] == ["ERROR three"])
        missing = cli(setup, "dead-letters", "show", "999")
        assert missing.returncode == 1 and "No dead letter 999" in missing.stderr
    finally:
        setup.server.stop()


def test_a_hung_handler_is_killed_at_its_timeout_and_retried(tmp_path: Path) -> None:
    setup = start(tmp_path, timeout=1)
    try:
        logs = subscribe(setup, "/hung", ["s"])
        setup.hang_flag.touch()
        put(logs, "/hung", "s", ["wait for me"])
        status = wait_for(
            lambda: "Task timed out after 1.00 seconds" in (out := cli(setup, "subscriptions",
                                                                       "--json").stdout) and out,
            timeout=30, what="a timeout",
        )  # fmt: skip
        assert json.loads(status)["subscriptions"][0]["state"] in ("retrying", "delivering")
        setup.hang_flag.unlink()
        wait_for(lambda: setup.received_messages() == ["wait for me"], timeout=30)
    finally:
        setup.server.stop()


def test_sigkill_while_events_flow_loses_no_matched_event(tmp_path: Path) -> None:
    """Events flow while the server is killed at random moments; every acknowledged matching
    event reaches the handler at least once, and duplicates are bounded."""
    setup = start(tmp_path)
    rng = random.Random(7)
    acknowledged: list[str] = []
    stop = threading.Event()
    try:
        subscribe(setup, "/crash", ["s"], pattern="MATCH")

        def writer() -> None:
            n = 0
            while not stop.is_set():
                batch = [f"{'MATCH' if i % 2 == 0 else 'other'} {n}-{i}" for i in range(20)]
                try:
                    put(setup.logs(), "/crash", "s", batch)
                except Exception:  # the server is down: try again later
                    time.sleep(0.05)
                    continue
                acknowledged.extend(m for m in batch if m.startswith("MATCH"))
                n += 1

        thread = threading.Thread(target=writer)
        thread.start()
        for _ in range(4):
            time.sleep(rng.uniform(0.3, 1.2))
            setup.server.kill()
            setup.server.start()
        time.sleep(0.5)
        stop.set()
        thread.join()
        expected = set(acknowledged)
        wait_for(lambda: expected <= set(setup.received_messages()), timeout=30,
                 what="every acknowledged match")  # fmt: skip
        received = setup.received_messages()
        assert not any(m.startswith("other") for m in received)
        duplicates = len(received) - len(set(received))
        # At most the windows in flight at the 4 kills can be delivered twice.
        assert duplicates <= 4 * 20_000
        assert len(set(received)) >= len(expected)
    finally:
        stop.set()
        setup.server.stop()


@pytest.mark.parametrize("distribution", ["ByLogStream", "Random"])
def test_kinesis_destination_control_message_then_data(tmp_path: Path, distribution: str) -> None:
    import gzip

    setup = start(tmp_path)
    try:
        kinesis = setup.kinesis()
        kinesis.create_stream(StreamName="logs", ShardCount=2)
        logs = setup.logs()
        logs.create_log_group(logGroupName="/k")
        for stream in ("one", "two"):
            logs.create_log_stream(logGroupName="/k", logStreamName=stream)
        logs.put_subscription_filter(
            logGroupName="/k", filterName="to-kinesis", filterPattern="",
            destinationArn="arn:aws:kinesis:us-east-1:123456789012:stream/logs",
            roleArn="arn:aws:iam::123456789012:role/CWLtoKinesisRole", distribution=distribution,
        )  # fmt: skip
        for n in range(6):
            put(logs, "/k", "one" if n % 2 else "two", [f"line {n}"])

        def read_all() -> list[dict]:
            found = []
            shards = kinesis.list_shards(StreamName="logs")["Shards"]
            for shard in shards:
                iterator = kinesis.get_shard_iterator(
                    StreamName="logs", ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
                records = kinesis.get_records(ShardIterator=iterator)["Records"]
                found += [json.loads(gzip.decompress(r["Data"])) for r in records]
            return found

        payloads = wait_for(
            lambda: (f := read_all()) and sum(len(p["logEvents"]) for p in f
                                              if p["messageType"] == "DATA_MESSAGE") >= 6 and f,
            what="six events in Kinesis",
        )  # fmt: skip
        control = [p for p in payloads if p["messageType"] == "CONTROL_MESSAGE"]
        assert control == [{
            "messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "",
            "logStream": "", "subscriptionFilters": [],
            "logEvents": [{"id": "", "timestamp": control[0]["logEvents"][0]["timestamp"],
                           "message": "CWL CONTROL MESSAGE: Checking health of destination "
                                      "Kinesis stream."}],
        }]  # fmt: skip
        data = [p for p in payloads if p["messageType"] == "DATA_MESSAGE"]
        assert {p["logStream"] for p in data} == {"one", "two"}
        assert all(p["subscriptionFilters"] == ["to-kinesis"] for p in data)
    finally:
        setup.server.stop()


def test_firehose_destination_writes_gzip_objects(tmp_path: Path) -> None:
    from logsieve.formats.awslogs import decode_any

    setup = start(tmp_path)
    try:
        logs = setup.logs()
        logs.create_log_group(logGroupName="/f")
        logs.create_log_stream(logGroupName="/f", logStreamName="s")
        logs.put_subscription_filter(
            logGroupName="/f", filterName="archive", filterPattern="",
            destinationArn="arn:aws:firehose:us-east-1:123456789012:deliverystream/archive",
            roleArn="arn:aws:iam::123456789012:role/CWLtoFirehoseRole",
        )  # fmt: skip
        put(logs, "/f", "s", ["to the archive"])

        def payloads() -> list:
            files = [p for p in setup.firehose_dir.rglob("*.gz") if ".spool" not in p.parts]
            return [p for f in files for p in decode_any(f.read_bytes())]

        found = wait_for(lambda: len(payloads()) >= 2 and payloads(), what="control + data")
        kinds = sorted(p.message_type for p in found)
        assert kinds == ["CONTROL_MESSAGE", "DATA_MESSAGE"]
        (data,) = [p for p in found if p.message_type == "DATA_MESSAGE"]
        assert [e.message for e in data.log_events] == ["to the archive"]
        with pytest.raises(Exception, match="Could not deliver test message"):
            logs.put_subscription_filter(
                logGroupName="/f", filterName="nowhere", filterPattern="",
                destinationArn="arn:aws:firehose:us-east-1:123456789012:deliverystream/nope",
                roleArn="arn:aws:iam::123456789012:role/r",
            )  # fmt: skip
    finally:
        setup.server.stop()
