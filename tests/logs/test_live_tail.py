"""StartLiveTail through boto3 against the real server: the event stream, filters, errors."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.server import ACCESS_KEY, SECRET_KEY, Server
from tests.waiting import wait_for


def tail_client(server: Server):
    """A logs client that sends StartLiveTail to the endpoint itself: botocore would prefix
    the host with ``stream-`` (``http://stream-127.0.0.1:port``), which resolves nowhere."""
    return boto3.client(
        "logs",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(inject_host_prefix=False, retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def tails(server: Server):
    return tail_client(server)


@pytest.fixture
def group(logs) -> str:
    name = f"/test/tail-{uuid.uuid4().hex[:10]}"
    logs.create_log_group(logGroupName=name)
    for stream in ("app-1", "app-2", "web"):
        logs.create_log_stream(logGroupName=name, logStreamName=stream)
    return name


def arn(group: str) -> str:
    return f"arn:aws:logs:us-east-1:123456789012:log-group:{group}"


class Reader:
    """Reads a live tail's events on a thread, so the test can put events meanwhile."""

    def __init__(self, response: dict[str, Any]) -> None:
        self.stream = response["responseStream"]
        self.events: Queue[dict[str, Any]] = Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for event in self.stream:
                self.events.put(event)
        except Exception as exc:  # the stream was closed under us, or broke
            self.events.put({"error": exc})

    def next(self, timeout: float = 10.0) -> dict[str, Any]:
        return self.events.get(timeout=timeout)

    def results(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Session results until ``count`` have come (or ``timeout``)."""
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(found) < count:
            try:
                event = self.next(max(0.0, deadline - time.monotonic()))
            except Empty:
                break
            assert "error" not in event, event
            found += event.get("sessionUpdate", {}).get("sessionResults", [])
        return found

    def close(self) -> None:
        self.stream.close()


@pytest.fixture
def open_tail(tails) -> Iterator[Any]:
    readers: list[Reader] = []

    def start(**params: Any) -> Reader:
        reader = Reader(tails.start_live_tail(**params))
        readers.append(reader)
        return reader

    yield start
    for reader in readers:
        reader.close()


def put(logs, group: str, stream: str, *messages: str) -> None:
    t = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": t, "message": m} for m in messages],
    )


def test_events_put_by_another_client_arrive_within_a_second(logs, group, open_tail) -> None:
    reader = open_tail(logGroupIdentifiers=[arn(group)])
    start = reader.next()["sessionStart"]
    assert start["logGroupIdentifiers"] == [arn(group)]
    assert start["sessionId"] and start["requestId"]
    put(logs, group, "app-1", "first")
    sent = time.monotonic()
    put(logs, group, "web", "hello live tail")
    found = reader.results(2)
    latency = time.monotonic() - sent
    assert [r["message"] for r in found] == ["first", "hello live tail"]
    assert found[1]["logStreamName"] == "web"
    assert found[1]["logGroupIdentifier"] == arn(group)
    assert found[1]["ingestionTime"] >= found[1]["timestamp"] - 1000
    assert latency < 1.5, latency


def test_updates_come_every_second_even_when_empty(group, open_tail) -> None:
    reader = open_tail(logGroupIdentifiers=[group])  # a name works as well as an ARN
    assert "sessionStart" in reader.next()
    first = reader.next()["sessionUpdate"]
    second = reader.next()["sessionUpdate"]
    assert first == second == {"sessionMetadata": {"sampled": False}, "sessionResults": []}


def test_events_before_the_session_are_not_sent(logs, group, open_tail) -> None:
    put(logs, group, "app-1", "old news")
    reader = open_tail(logGroupIdentifiers=[group])
    put(logs, group, "app-1", "fresh")
    assert [r["message"] for r in reader.results(1)] == ["fresh"]


def test_filter_pattern(logs, group, open_tail) -> None:
    reader = open_tail(logGroupIdentifiers=[group], logEventFilterPattern='{ $.level = "ERROR" }')
    assert reader.next()["sessionStart"]["logEventFilterPattern"] == '{ $.level = "ERROR" }'
    put(logs, group, "app-1", '{"level": "INFO", "n": 1}', '{"level": "ERROR", "n": 2}', "x")
    put(logs, group, "app-1", '{"level": "ERROR", "n": 3}')
    assert [r["message"] for r in reader.results(2)] == [
        '{"level": "ERROR", "n": 2}',
        '{"level": "ERROR", "n": 3}',
    ]


def test_stream_names_and_prefixes(logs, group, open_tail) -> None:
    by_prefix = open_tail(logGroupIdentifiers=[group], logStreamNamePrefixes=["app-"])
    by_name = open_tail(logGroupIdentifiers=[group], logStreamNames=["web"])
    logs.create_log_stream(logGroupName=group, logStreamName="app-3")  # created after the start
    for stream in ("web", "app-1", "app-3", "app-2"):
        put(logs, group, stream, f"to {stream}")
    assert {r["logStreamName"] for r in by_prefix.results(3)} == {"app-1", "app-2", "app-3"}
    assert [r["message"] for r in by_name.results(1)] == ["to web"]


def test_several_groups(logs, group, open_tail) -> None:
    other = f"{group}-other"
    logs.create_log_group(logGroupName=other)
    logs.create_log_stream(logGroupName=other, logStreamName="s")
    reader = open_tail(logGroupIdentifiers=[arn(group), other])
    put(logs, other, "s", "from the other")
    put(logs, group, "web", "from the first")
    found = reader.results(2)
    assert {(r["logGroupIdentifier"], r["message"]) for r in found} == {
        (other, "from the other"),
        (arn(group), "from the first"),
    }


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        (
            {"logGroupIdentifiers": ["GROUP"], "logStreamNames": ["a"],
             "logStreamNamePrefixes": ["b"]},
            "InvalidParameterException",
            "Only one of logStreamNames or logStreamNamePrefixes can be provided.",
        ),
        (
            {"logGroupIdentifiers": ["GROUP", "GROUP-2"], "logStreamNames": ["a"]},
            "InvalidParameterException",
            "logStreamNames and logStreamNamePrefixes can only be used with a single log group.",
        ),
        (
            {"logGroupIdentifiers": ["/test/no-such-group-for-tail"]},
            "ResourceNotFoundException",
            "The specified log group does not exist.",
        ),
        (
            {"logGroupIdentifiers": ["arn:aws:logs:us-east-1:123456789012:log-group:GROUP:*"]},
            "InvalidParameterException",
            "1 validation error detected: Value '[arn:aws:logs:us-east-1:123456789012:log-group:"
            "GROUP:*]' at 'logGroupIdentifiers' failed to satisfy constraint",
        ),
        (
            {"logGroupIdentifiers": ["arn:aws:logs:us-east-1:999999999999:log-group:GROUP"]},
            "InvalidParameterException",
            "Invalid log group identifier: arn:aws:logs:us-east-1:999999999999:log-group:GROUP",
        ),
        (
            {"logGroupIdentifiers": ["GROUP"], "logEventFilterPattern": '{ $.a = "x"'},
            "InvalidParameterException",
            "Invalid filter pattern",
        ),
    ],
)  # fmt: skip
def test_bad_input(tails, logs, group, params, code, message) -> None:
    logs.create_log_group(logGroupName=f"{group}-2")

    def fill(value: Any) -> Any:
        if isinstance(value, list):
            return [fill(item) for item in value]
        return value.replace("GROUP", group) if isinstance(value, str) else value

    with pytest.raises(ClientError) as caught:
        tails.start_live_tail(**{key: fill(value) for key, value in params.items()})
    error = caught.value.response["Error"]
    assert error["Code"] == code
    assert error["Message"].startswith(fill(message))


def test_model_constraints_are_checked(tails) -> None:
    with pytest.raises(ClientError) as caught:
        tails.start_live_tail(logGroupIdentifiers=[f"/g{i}" for i in range(11)])
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "length less than or equal to 10" in caught.value.response["Error"]["Message"]


def test_closing_the_stream_frees_the_session(tmp_path: Path) -> None:
    """Sessions are limited per account (15); a client that goes away gives its one back."""
    server = Server(tmp_path / "data").start()
    try:
        tails = tail_client(server)
        tails.create_log_group(logGroupName="g")
        readers = [Reader(tails.start_live_tail(logGroupIdentifiers=["g"])) for _ in range(15)]
        for reader in readers:
            assert "sessionStart" in reader.next()
        with pytest.raises(ClientError) as caught:
            tails.start_live_tail(logGroupIdentifiers=["g"])
        assert caught.value.response["Error"]["Code"] == "LimitExceededException"
        for reader in readers[:3]:
            reader.close()

        def opens() -> bool:
            try:
                Reader(tails.start_live_tail(logGroupIdentifiers=["g"])).close()
            except ClientError:
                return False
            return True

        wait_for(opens, timeout=15, what="a session slot given back", poll=0.2)
        for reader in readers[3:]:
            reader.close()
    finally:
        server.stop()


def test_aws_cli_start_live_tail(logs, group, server: Server) -> None:
    """``aws logs start-live-tail`` (CLI v1) prints the messages it receives."""
    aws = Path(os.environ.get("VIRTUAL_ENV", ".venv")) / "bin" / "aws"
    if not aws.exists():
        aws = Path(".venv/bin/aws")
    if not aws.exists():
        pytest.skip("the aws CLI is not installed in the virtual environment")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    process = subprocess.Popen(
        [str(aws), "logs", "start-live-tail", "--endpoint-url", server.url,
         "--log-group-identifiers", arn(group)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: Queue[str] = Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout], daemon=True
    ).start()
    try:

        def printed() -> bool:
            put(logs, group, "web", "seen by the cli")
            try:
                return "seen by the cli" in lines.get(timeout=1.5)
            except Empty:
                return False

        wait_for(printed, timeout=30, what="the CLI printing a message", poll=0)
    finally:
        process.kill()
        process.wait()
