"""The kinesis source against moto's server (which splits and merges shards) and through a
proxy that throttles and drops connections: every event still arrives exactly once."""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

from logsieve.formats.awslogs import LogEvent, data_message, encode
from tests.server import free_port
from tests.waiting import wait_for

from .helpers import admin_get, local_messages, local_server, toml_sources


@pytest.fixture
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def _kinesis(url: str) -> Any:
    return boto3.client(
        "kinesis", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x" * 40,
    )  # fmt: skip


def _put(kinesis: Any, stream: str, label: str, count: int, start: int) -> list[str]:
    messages = [f"{label}-{i}" for i in range(count)]
    for i, message in enumerate(messages):
        payload = data_message("123456789012", "/remote", f"s{i % 3}", ["f"],
                               [LogEvent(str(i), start + i, message)])  # fmt: skip
        kinesis.put_record(StreamName=stream, Data=encode(payload), PartitionKey=f"k{i}")
    return messages


def _shards(kinesis: Any, stream: str) -> list[dict[str, Any]]:
    return kinesis.list_shards(StreamName=stream)["Shards"]


def test_splits_and_merges_are_followed_parents_first(tmp_path: Path, moto_url: str) -> None:
    """moto (5.2.5) keeps routing records to a parent after a split, unlike AWS, so records go
    in before the resharding; what is checked is that each closed shard is read to its end and
    marked SHARD_END, and that its children are then opened and read to theirs."""
    kinesis = _kinesis(moto_url)
    kinesis.create_stream(StreamName="resharded", ShardCount=1)
    start = int(time.time() * 1000) - 60_000
    expected = _put(kinesis, "resharded", "before", 60, start)
    [parent] = _shards(kinesis, "resharded")
    middle = str((int(parent["HashKeyRange"]["EndingHashKey"]) + 1) // 2)
    kinesis.split_shard(StreamName="resharded", ShardToSplit=parent["ShardId"],
                        NewStartingHashKey=middle)  # fmt: skip
    first, second = sorted(
        (s for s in _shards(kinesis, "resharded") if s.get("ParentShardId")),
        key=lambda s: s["ShardId"],
    )
    local = local_server(
        tmp_path,
        toml_sources({"name": "moto", "type": "kinesis", "stream_name": "resharded",
                      "endpoint_url": moto_url, "region": "us-east-1",
                      "start": "trim_horizon", "poll_seconds": 0.2}),
    ).start()  # fmt: skip
    try:
        wait_for(lambda: len(local_messages(local, "/remote")) >= 60, what="60 events")
        kinesis.merge_shards(StreamName="resharded", ShardToMerge=first["ShardId"],
                             AdjacentShardToMerge=second["ShardId"])  # fmt: skip

        def ended() -> bool:
            position = admin_get(local, "sources")["sources"][0]["position"]
            closed = (parent["ShardId"], first["ShardId"], second["ShardId"])
            return all(position.get(shard) == "SHARD_END" for shard in closed)

        wait_for(ended, what="every closed shard read to its end")
        found = Counter(local_messages(local, "/remote"))
        assert sorted(found) == sorted(expected) and max(found.values()) == 1
    finally:
        local.stop()


THROTTLED = (
    b'{"__type":"ProvisionedThroughputExceededException",'
    b'"message":"Rate exceeded for shard shardId-000000000000"}'
)


class FlakyProxy:
    """Forwards to ``target``; answers every other GetRecords with AWS's throttling error and
    drops every seventh request's connection without an answer."""

    def __init__(self, target: str) -> None:
        self.calls = 0
        self.throttled = 0
        self.dropped = 0
        proxy = self
        host, port = target.removeprefix("http://").split(":")

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                target_op = self.headers.get("X-Amz-Target", "")
                with threading.Lock():
                    proxy.calls += 1
                    n = proxy.calls
                if n % 7 == 0:
                    proxy.dropped += 1
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if target_op.endswith("GetRecords") and n % 2 == 0:
                    proxy.throttled += 1
                    reply = THROTTLED
                    self.send_response(400)
                    self.send_header("Content-Type", "application/x-amz-json-1.1")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                    return
                upstream = http.client.HTTPConnection(host, int(port), timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                upstream.request("POST", self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def test_throttling_and_dropped_connections_lose_and_duplicate_nothing(
    tmp_path: Path, moto_url: str
) -> None:
    kinesis = _kinesis(moto_url)
    kinesis.create_stream(StreamName="flaky", ShardCount=2)
    proxy = FlakyProxy(moto_url)
    start = int(time.time() * 1000) - 60_000
    local = local_server(
        tmp_path,
        toml_sources({"name": "flaky", "type": "kinesis", "stream_name": "flaky",
                      "endpoint_url": proxy.url, "region": "us-east-1",
                      "start": "trim_horizon", "poll_seconds": 0.2}),
    ).start()  # fmt: skip
    try:
        expected = _put(kinesis, "flaky", "a", 40, start)
        wait_for(lambda: len(local_messages(local, "/remote")) >= 40, what="40 events")
        expected += _put(kinesis, "flaky", "b", 40, start + 100)
        wait_for(lambda: len(local_messages(local, "/remote")) >= 80, what="80 events")
        found = Counter(local_messages(local, "/remote"))
        assert sorted(found) == sorted(expected) and max(found.values()) == 1
        assert proxy.throttled and proxy.dropped
        status = admin_get(local, "sources")["sources"][0]
        assert status["lastError"]  # kept for the operator even after recovery
    finally:
        local.stop()
        proxy.stop()
