"""The `awslogs` CLI (groups / streams / get) against the real server.

awslogs points its boto3 client at a custom endpoint with `--aws-endpoint-url`, which defaults to
the AWS_ENDPOINT_URL environment variable; both ways are exercised.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.helpers import REGION, now_ms, run, unique_group
from tests.server import Server

AWSLOGS = Path(sys.executable).parent / "awslogs"
MINUTE = 60_000


def iso(ms: int) -> str:
    """awslogs' --timestamp format."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:23] + "Z"


@pytest.fixture(scope="module")
def seeded(logs) -> dict:
    """A group with two streams; events interleave in time and one is three hours old."""
    group = unique_group("awslogs")
    logs.create_log_group(logGroupName=group)
    t = now_ms() - 10 * MINUTE
    web = [
        (t - 180 * MINUTE, "GET /ancient 200"),
        (t, "GET /a 200"),
        (t + 2_000, "GET /b 500"),
        (t + 4_000, json.dumps({"level": "error", "path": "/c", "status": 503})),
    ]
    worker = [(t + 1_000, "job 1 done"), (t + 3_000, "job 2 failed: 500 retries")]
    for stream, events in (("web-1", web), ("worker-1", worker)):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": ts, "message": m} for ts, m in events],
        )
    return {"group": group, "web": web, "worker": worker}


def awslogs(server: Server, env: dict[str, str], *args: str, flag: bool = True) -> list[str]:
    assert AWSLOGS.exists(), f"{AWSLOGS} missing: install the dev extras (pip install -e '.[dev]')"
    argv = [AWSLOGS, *args, "--aws-region", REGION]
    if flag:
        argv += ["--aws-endpoint-url", server.url]
    else:
        env = {**env, "AWS_ENDPOINT_URL": server.url}
    done = run(argv, env)
    assert done.returncode == 0, f"awslogs {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout.splitlines()


def test_groups_and_streams(server: Server, client_env, seeded) -> None:
    group = seeded["group"]
    assert awslogs(server, client_env, "groups", "-p", group) == [group]
    assert group in awslogs(server, client_env, "groups", flag=False)
    # The three-hour-old event does not hide web-1: its newer events fall inside the window.
    assert awslogs(server, client_env, "streams", group, "--start", "1h ago") == [
        "web-1",
        "worker-1",
    ]


def test_get_all_streams_interleaved(server: Server, client_env, seeded) -> None:
    group = seeded["group"]
    out = awslogs(
        server, client_env, "get", group, "ALL", "--start=1h ago", "--timestamp", "--color=never"
    )
    expected = sorted(
        [(ts, "web-1", m) for ts, m in seeded["web"][1:]]
        + [(ts, "worker-1", m) for ts, m in seeded["worker"]]
    )
    # With ALL, awslogs pads stream names to 10 characters.
    assert out == [f"{group} {s.ljust(10)} {iso(ts)} {m}" for ts, s, m in expected]


def test_get_with_stream_prefix_filter_and_env_endpoint(server: Server, client_env, seeded) -> None:
    group = seeded["group"]
    out = awslogs(
        server, client_env, "get", group, "web", "--start=4h ago", "-G", "-S", "--color=never",
        flag=False,
    )  # fmt: skip
    assert out == [m for _, m in seeded["web"]]  # the old event is back with a wider window
    out = awslogs(
        server, client_env, "get", group, "ALL", "-s", "1h", "-f", "500", "-G", "--color=never"
    )
    assert out == ["web-1      GET /b 500", "worker-1   job 2 failed: 500 retries"]
    out = awslogs(
        server, client_env, "get", group, "ALL", "-s", "1h", "-G", "-S", "--color=never",
        "-f", "{ $.status >= 500 }", "--query", "path",
    )  # fmt: skip
    assert out == ["/c"]
