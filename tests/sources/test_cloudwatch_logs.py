"""The cloudwatch-logs source against a second logsieve server playing AWS: log groups
there, events put there arrive here exactly once, by polling and by live tail."""

from __future__ import annotations

import datetime
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.server import Server, client
from tests.waiting import wait_for

from .helpers import admin_get, local_messages, local_server, put, toml_sources


def _now() -> int:
    return int(time.time() * 1000)


def _iso(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).isoformat()


def _source(remote: Server, **options: Any) -> str:
    return toml_sources(
        {"name": "cwl", "type": "cloudwatch-logs", "endpoint_url": remote.url,
         "region": "us-east-1", **options}
    )  # fmt: skip


def _exactly(local: Server, group: str, expected: list[str]) -> None:
    wait_for(lambda: len(local_messages(local, group)) >= len(expected), what=f"{group} events")
    found = Counter(local_messages(local, group))
    assert sorted(found) == sorted(expected)
    assert max(found.values()) == 1


@pytest.mark.parametrize("mode", ["poll", "live-tail"])
def test_groups_and_prefixes_arrive_once_with_names_and_times(tmp_path: Path, mode: str) -> None:
    remote = Server(tmp_path / "remote").start()
    try:
        logs = client(remote)
        logs.create_log_group(logGroupName="/aws/clientvpn")
        logs.create_log_group(logGroupName="/aws/vpc/flow-a")
        logs.create_log_group(logGroupName="/other")
        t = _now()
        put(remote, "/aws/clientvpn", "before", ["too early"], t - 1000)  # before start = now
        local = local_server(
            tmp_path,
            _source(remote, log_groups=["/aws/clientvpn", "/aws/vpc/flow-*"], mode=mode,
                    poll_seconds=0.2, discover_seconds=1, into_prefix="prod"),
        ).start()  # fmt: skip
        try:
            wait_for(lambda: admin_get(local, "sources")["sources"][0]["position"], what="start")
            t = _now()
            put(remote, "/aws/clientvpn", "cvpn-1", [f"c{i}" for i in range(30)], t)
            put(remote, "/aws/vpc/flow-a", "eni-1", [f"a{i}" for i in range(20)], t)
            put(remote, "/other", "x", ["not wanted"], t)
            logs.create_log_group(logGroupName="/aws/vpc/flow-b")  # picked up later
            put(remote, "/aws/vpc/flow-b", "eni-2", [f"b{i}" for i in range(10)], t)
            _exactly(local, "prod/aws/clientvpn", [f"c{i}" for i in range(30)])
            _exactly(local, "prod/aws/vpc/flow-a", [f"a{i}" for i in range(20)])
            _exactly(local, "prod/aws/vpc/flow-b", [f"b{i}" for i in range(10)])
            events = client(local).get_log_events(
                logGroupName="prod/aws/clientvpn", logStreamName="cvpn-1", startFromHead=True
            )["events"]
            assert [(e["timestamp"], e["message"]) for e in events] == [
                (t + i, f"c{i}") for i in range(30)
            ]
            assert local_messages(local, "prod/other") == []
            status = admin_get(local, "sources")["sources"][0]
            assert status["type"] == "cloudwatch-logs" and status["eventsReceived"] == 60
        finally:
            local.stop()
    finally:
        remote.stop()


def test_poll_picks_up_late_events_within_the_lookback(tmp_path: Path) -> None:
    remote = Server(tmp_path / "remote").start()
    try:
        client(remote).create_log_group(logGroupName="/g")
        local = local_server(
            tmp_path,
            _source(remote, log_groups=["/g"], poll_seconds=0.2, lookback_seconds=120,
                    start=_iso(_now() - 600_000)),
        ).start()  # fmt: skip
        try:
            wait_for(lambda: admin_get(local, "sources")["sources"][0]["position"], what="start")
            t = _now()
            put(remote, "/g", "s", ["on time"], t)
            _exactly(local, "/g", ["on time"])
            put(remote, "/g", "late", ["a minute late"], t - 60_000)  # older than the newest
            _exactly(local, "/g", ["on time", "a minute late"])
        finally:
            local.stop()
    finally:
        remote.stop()


@pytest.mark.parametrize("mode", ["poll", "live-tail"])
def test_kill_minus_nine_and_remote_drops_lose_and_duplicate_nothing(
    tmp_path: Path, mode: str
) -> None:
    remote = Server(tmp_path / "remote").start()
    try:
        client(remote).create_log_group(logGroupName="/g")
        local = local_server(
            tmp_path,
            _source(remote, log_groups=["/g"], mode=mode, poll_seconds=0.2, session_seconds=2,
                    start="2020-01-01T00:00:00Z"),
        ).start()  # fmt: skip
        expected: list[str] = []
        start = _now() - 60_000
        try:
            for batch in range(16):
                messages = [f"m{batch}-{i}" for i in range(100)]
                put(remote, "/g", f"s{batch % 3}", messages, start + batch * 100)
                expected += messages
                if batch == 4:  # mid-stream: some events stored, more on the way
                    wait_for(lambda: local_messages(local, "/g"), what="first events")
                    local.kill()
                if batch == 7:
                    local.start()
                if batch == 10:  # the remote goes away and comes back: connections drop
                    wait_for(lambda: len(local_messages(local, "/g")) >= 500, what="caught up")
                    remote.stop()
                    remote.start()
            _exactly(local, "/g", expected)
        finally:
            local.stop()
    finally:
        remote.stop()


def test_bad_config_is_one_line(tmp_path: Path) -> None:
    from logsieve.errors import ConfigError
    from logsieve.sections import load_config

    path = tmp_path / "logsieve.toml"
    path.write_text(toml_sources({"name": "c", "type": "cloudwatch-logs", "log_groups": ["/a*b"]}))
    with pytest.raises(ConfigError, match=r"log_groups may have \* only at the end"):
        load_config(path)
    entry = {"name": "c", "type": "cloudwatch-logs", "log_groups": ["/a"], "start": "yesterday"}
    path.write_text(toml_sources(entry))
    with pytest.raises(ConfigError, match='start must be "now" or an ISO time'):
        load_config(path)


def test_live_tail_bursts_over_500_a_second_arrive_whole(tmp_path: Path) -> None:
    """Live tail samples above 500 events a second; the source fetches what it left out."""
    remote = Server(tmp_path / "remote").start()
    try:
        client(remote).create_log_group(logGroupName="/burst")
        local = local_server(
            tmp_path, _source(remote, log_groups=["/burst"], mode="live-tail")
        ).start()
        try:
            wait_for(lambda: admin_get(local, "sources")["sources"][0]["position"], what="start")
            messages = [f"b{i}" for i in range(3000)]
            put(remote, "/burst", "s", messages, _now())
            _exactly(local, "/burst", messages)
        finally:
            local.stop()
    finally:
        remote.stop()


def test_a_live_tail_on_the_local_server_sees_what_a_source_stores(tmp_path: Path) -> None:
    import boto3
    from botocore.config import Config

    from tests.server import ACCESS_KEY, SECRET_KEY

    remote = Server(tmp_path / "remote").start()
    try:
        client(remote).create_log_group(logGroupName="/seen")
        local = local_server(
            tmp_path, _source(remote, log_groups=["/seen"], mode="poll", poll_seconds=0.2)
        ).start()
        try:
            wait_for(lambda: admin_get(local, "sources")["sources"][0]["position"], what="start")
            put(remote, "/seen", "s", ["first"], _now())
            _exactly(local, "/seen", ["first"])  # the local group exists now
            tails = boto3.client(
                "logs", endpoint_url=local.url, region_name="us-east-1",
                aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                config=Config(inject_host_prefix=False),
            )  # fmt: skip
            stream = tails.start_live_tail(logGroupIdentifiers=["/seen"])["responseStream"]
            try:
                events = iter(stream)
                while "sessionUpdate" not in next(events):  # the session's first read is done
                    pass
                put(remote, "/seen", "s", ["second"], _now())
                found: list[str] = []
                for _, event in zip(range(10), events, strict=False):  # 10 s at most
                    results = event.get("sessionUpdate", {}).get("sessionResults", [])
                    found += [r["message"] for r in results]
                    if found:
                        break
                assert found == ["second"]
            finally:
                stream.close()
        finally:
            local.stop()
    finally:
        remote.stop()
