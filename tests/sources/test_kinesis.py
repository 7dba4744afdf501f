"""The kinesis source against a second logsieve server playing AWS: a log group, a
subscription filter and a Kinesis stream there; events arrive here exactly once."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from tests.server import Server
from tests.waiting import wait_for

from .helpers import (
    admin_get,
    feed_stream_from_group,
    local_messages,
    local_server,
    put,
    toml_sources,
)


def _now() -> int:
    return int(time.time() * 1000)


def test_events_arrive_once_with_names_times_and_messages_kept(tmp_path: Path) -> None:
    remote = Server(tmp_path / "remote").start()
    try:
        feed_stream_from_group(remote, "/aws/vpc/flow", "flow")
        start = _now() - 60_000
        put(remote, "/aws/vpc/flow", "eni-1", [f"a{i}" for i in range(50)], start)
        local = local_server(
            tmp_path,
            toml_sources({"name": "flow", "type": "kinesis", "stream_name": "flow",
                          "endpoint_url": remote.url, "region": "us-east-1",
                          "start": "trim_horizon", "poll_seconds": 0.2,
                          "into_prefix": "remote"}),
        ).start()  # fmt: skip
        try:
            put(remote, "/aws/vpc/flow", "eni-2", [f"b{i}" for i in range(30)], start)
            wait_for(lambda: len(local_messages(local, "remote/aws/vpc/flow")) >= 80, what="80")
            from tests.server import client

            logs = client(local)
            events = logs.get_log_events(
                logGroupName="remote/aws/vpc/flow", logStreamName="eni-1", startFromHead=True
            )["events"]
            assert [(e["timestamp"], e["message"]) for e in events] == [
                (start + i, f"a{i}") for i in range(50)
            ]
            status = wait_for(
                lambda: [s for s in admin_get(local, "sources")["sources"] if s["eventsReceived"]],
                what="status",
            )
            assert status[0]["name"] == "flow" and status[0]["type"] == "kinesis"
            assert status[0]["state"] == "running" and status[0]["eventsReceived"] == 80
            assert any(k.startswith("shardId-") for k in status[0]["position"])
            assert sorted(local_messages(local, "remote/aws/vpc/flow")) == sorted(
                [f"a{i}" for i in range(50)] + [f"b{i}" for i in range(30)]
            )
        finally:
            local.stop()
    finally:
        remote.stop()


def test_kill_minus_nine_mid_stream_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    remote = Server(tmp_path / "remote").start()
    try:
        feed_stream_from_group(remote, "/g", "feed", shards=3)
        local = local_server(
            tmp_path,
            toml_sources({"name": "feed", "type": "kinesis", "stream_name": "feed",
                          "endpoint_url": remote.url, "region": "us-east-1",
                          "start": "trim_horizon", "poll_seconds": 0.2}),
        ).start()  # fmt: skip
        expected: list[str] = []
        start = _now() - 60_000
        try:
            for batch in range(20):
                messages = [f"m{batch}-{i}" for i in range(200)]
                put(remote, "/g", f"s{batch % 4}", messages, start + batch * 200)
                expected += messages
                if batch == 8:  # mid-stream: some events stored, more on the way
                    wait_for(lambda: local_messages(local, "/g"), what="first events")
                    local.kill()
                if batch == 14:
                    local.start()
            wait_for(lambda: len(local_messages(local, "/g")) >= len(expected), what="all")
            wait_for(lambda: admin_get(local, "sources")["sources"][0]["lagSeconds"] == 0,
                     what="caught up")  # fmt: skip
            found = Counter(local_messages(local, "/g"))
            assert sorted(found) == sorted(expected)
            assert max(found.values()) == 1
        finally:
            local.stop()
    finally:
        remote.stop()


def test_errors_are_kept_and_retried_with_backoff_until_the_stream_exists(tmp_path: Path) -> None:
    remote = Server(tmp_path / "remote").start()
    try:
        local = local_server(
            tmp_path,
            toml_sources({"name": "later", "type": "kinesis", "stream_name": "later",
                          "endpoint_url": remote.url, "region": "us-east-1",
                          "start": "trim_horizon", "poll_seconds": 0.2}),
        ).start()  # fmt: skip
        try:
            status = wait_for(
                lambda: [s for s in admin_get(local, "sources")["sources"] if s["lastError"]],
                what="the error",
            )[0]
            assert status["state"] == "retrying"
            assert "ResourceNotFoundException" in status["lastError"]
            feed_stream_from_group(remote, "/later", "later", shards=1)
            put(remote, "/later", "s", ["after the error"], _now())
            wait_for(lambda: local_messages(local, "/later") == ["after the error"], what="event")
            assert admin_get(local, "sources")["sources"][0]["state"] == "running"
        finally:
            local.stop()
    finally:
        remote.stop()
