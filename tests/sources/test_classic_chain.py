"""The classic chain, end to end with real parts: "AWS" (a second logsieve server) has a
flow-log group with a REJECT subscription filter feeding a Kinesis stream; the local server's
kinesis source reads it into a local group where the rejected-traffic recipe alerts a
Datadog-style HTTP receiver."""

from __future__ import annotations

import json
import time
from pathlib import Path

from logsieve.alerts.recipes import rejected_traffic
from logsieve.alerts.rule_file import add_tables
from tests.receivers import HttpReceiver, Reply
from tests.server import Server

from .helpers import feed_stream_from_group, local_messages, local_server, put, toml_sources

REJECT_PATTERN = (
    "[version, account, eni, source, destination, srcport, destport, protocol, packets, "
    'bytes, start, end, action="REJECT", status]'
)


def _flow(source: str, port: int, action: str, when: int) -> str:
    return (
        f"2 123456789012 eni-0a1b {source} 10.0.0.5 51000 {port} 6 1 40 "
        f"{when} {when + 60} {action} OK"
    )


def test_flow_logs_through_kinesis_to_a_local_alert(tmp_path: Path) -> None:
    remote = Server(tmp_path / "remote").start()
    with HttpReceiver(Reply(202, b'{"status": "ok"}')) as receiver:
        try:
            feed_stream_from_group(remote, "/aws/vpc/flow-logs", "flow", pattern=REJECT_PATTERN)
            config = toml_sources(
                {"name": "flow", "type": "kinesis", "stream_name": "flow",
                 "endpoint_url": remote.url, "region": "us-east-1", "poll_seconds": 0.2,
                 "start": "trim_horizon"},
            ) + (
                '[[channels]]\nname = "datadog"\ntype = "datadog"\napi_key = "0123abcd"\n'
                f'api_url = "{receiver.url}/api/v1/events"\n'
            )  # fmt: skip
            path = tmp_path / "logsieve.toml"
            path.write_text(config)
            tables = rejected_traffic(["/aws/vpc/flow-logs"], ["datadog"], ports=[23])
            path.write_text(add_tables(path, tables, False, "rejected-traffic"))
            local = local_server(tmp_path, path.read_text()).start()
            try:
                now = int(time.time())
                lines = [
                    _flow("110.53.1.2", 443, "ACCEPT", now),
                    _flow("110.53.1.2", 23, "REJECT", now),
                    _flow("110.53.9.9", 443, "REJECT", now),
                ]
                put(remote, "/aws/vpc/flow-logs", "eni-0a1b-all", lines, now * 1000)
                [request] = receiver.wait_requests("/api/v1/events", count=1)
                event = json.loads(request.body)
                assert request.headers["dd-api-key"] == "0123abcd"
                assert "23" in event["title"] and "110.53.1.2" in event["title"]
                # Only what the remote REJECT filter let through left "AWS"
                assert sorted(local_messages(local, "/aws/vpc/flow-logs")) == sorted(lines[1:])
            finally:
                local.stop()
        finally:
            remote.stop()
