"""``logsieve simulate`` as users run it: summary, replay, file output, one-line errors."""

from __future__ import annotations

import calendar
import json
import re
import uuid
from pathlib import Path

import pytest

from logsieve.formats import cloudtrail as ct
from tests.server import Server
from tests.shipping.helpers import cli_env, read_messages, run_cli


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path / "data")


def test_a_run_can_be_replayed_exactly(server: Server, logs, env: dict[str, str]) -> None:
    first, second = (f"cli-ct-{uuid.uuid4().hex[:6]}" for _ in range(2))
    done = run_cli("simulate", "cloudtrail", "--group", first, "--count", "400", "--rate",
                   "2000", "--endpoint-url", server.url, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"Sent 400 cloudtrail events to {first}" in done.stdout
    assert "1 log stream." in done.stdout
    replay = re.search(r"Same events again: (.*)", done.stdout).group(1).split()
    assert replay[0] == "--seed" and replay[2] == "--start" and replay[4] == "--rate"
    again = run_cli("simulate", "cloudtrail", "--group", second, "--count", "400", *replay,
                    "--fast", "--endpoint-url", server.url, env=env)  # fmt: skip
    assert again.returncode == 0, again.stderr
    stream = ct.log_stream_name("123456789012", "us-east-1")
    one, two = read_messages(logs, first, stream), read_messages(logs, second, stream)
    assert len(one) == 400 and sorted(one) == sorted(two)


def test_flow_logs_with_a_custom_format_to_stdout(env: dict[str, str]) -> None:
    fmt = "${version} ${interface-id} ${srcaddr} ${dstaddr} ${dstport} ${action} ${tcp-flags}"
    done = run_cli("simulate", "vpc-flow", "--format", fmt, "--traffic-type", "reject",
                   "--count", "200", "--seed", "1", "--output", "-", env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 200
    for line in lines:
        fields = line.split(" ")
        assert fields[0] == "3" and len(fields) == 7  # tcp-flags is a version-3 field
        assert fields[5] in ("REJECT", "-")


def test_bad_input_is_one_line(server: Server, env: dict[str, str]) -> None:
    cases = [
        (["vpc-flow", "--start", "2020-01-01T00:00:00Z", "--count", "1"], "14 days"),
        (["vpc-flow", "--start", "yesterday-ish", "--count", "1"], "ISO-8601"),
        (["vpc-flow", "--start", "-15d", "--count", "1"], "14 days"),
        (["vpc-flow", "--format", "${version} ${nope}", "--count", "1"], "unknown flow log"),
        (["cloudtrail", "--output", "-"], "--count or --duration"),
    ]
    for args, message in cases:
        done = run_cli("simulate", *args, "--endpoint-url", server.url, env=env)
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr


def test_unreachable_server(env: dict[str, str]) -> None:
    done = run_cli("simulate", "client-vpn", "--count", "10", "--endpoint-url",
                   "http://127.0.0.1:9", env=env, timeout=120)  # fmt: skip
    assert done.returncode == 1
    assert "cannot reach http://127.0.0.1:9" in done.stderr and "--endpoint-url" in done.stderr
    assert "Traceback" not in done.stderr


def test_start_some_time_ago(env: dict[str, str]) -> None:
    import time

    done = run_cli("simulate", "client-vpn", "--start", "-2h", "--count", "5", "--output", "-",
                   "--seed", "3", env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    stamp = json.loads(done.stdout.splitlines()[0])["connection-last-update-time"]
    first = calendar.timegm(time.strptime(stamp, "%Y-%m-%d %H:%M:%S"))
    assert abs(first - (time.time() - 7200)) < 60


def test_progress_line_on_long_runs(server: Server, env: dict[str, str]) -> None:
    done = run_cli("simulate", "client-vpn", "--group", f"cli-p-{uuid.uuid4().hex[:6]}",
                   "--duration", "2.6", "--rate", "50", "--endpoint-url", server.url,
                   env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert re.search(r"client-vpn: [\d,]+ events sent .* events/s", done.stderr)
