"""``logsieve put`` against the real server: stdin, files, batching, errors, rejected events."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from logsieve.shipping.sender import Rejected
from tests.server import Server

from .helpers import cli_env, read_events, read_messages, run_cli


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path / "data")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_put_from_stdin(server: Server, logs, env: dict[str, str]) -> None:
    group = unique("put-stdin")
    lines = [f"line {i} é" for i in range(50)]
    data = ("\n".join(lines[:25]) + "\n\n" + "\n".join(lines[25:])).encode()  # no final newline
    done = run_cli("put", "--group", group, "--stream", "s", "--create",
                   "--endpoint-url", server.url, env=env, input=data)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Sent 50 events from 51 lines" in done.stdout
    assert "1 empty line skipped" in done.stdout
    assert read_messages(logs, group, "s") == lines


def test_put_file_in_several_batches(
    server: Server, logs, env: dict[str, str], tmp_path: Path
) -> None:
    group = unique("put-file")
    path = tmp_path / "big.log"
    lines = [f"{i:06d} " + "x" * (i % 300) for i in range(25_000)]
    path.write_text("\n".join(lines) + "\n")
    done = run_cli("put", "--group", group, "--stream", "big", "--create", str(path),
                   "--endpoint-url", server.url, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Sent 25,000 events from 25,000 lines" in done.stdout
    # At most 10,000 events and 1 MiB (counting 26 bytes per event) per PutLogEvents.
    size = sum(len(line) + 26 for line in lines)
    least = max(-(-len(lines) // 10_000), -(-size // 1_048_576))
    batches = int(re.search(r"in (\d+) batches", done.stdout).group(1))
    assert least <= batches <= least + 1
    assert read_messages(logs, group, "big") == lines  # every line, once, in order


def test_put_parses_timestamps(server: Server, logs, env: dict[str, str]) -> None:
    import time

    group = unique("put-ts")
    now_ms = int(time.time() * 1000) // 1000 * 1000
    first, second = now_ms - 3_600_000, now_ms - 1_800_000
    data = (f"{_iso(first)} started\n  continuation line\n{second} epoch-ms line\n").encode()
    done = run_cli("put", "--group", group, "--stream", "s", "--create", "--timestamps",
                   "parse", "--endpoint-url", server.url, env=env, input=data)  # fmt: skip
    assert done.returncode == 0, done.stderr
    stamps = [(e["timestamp"], e["message"]) for e in read_events(logs, group, "s")]
    assert stamps == [
        (first, f"{_iso(first)} started"),
        (first, "  continuation line"),
        (second, f"{second} epoch-ms line"),
    ]


def test_put_reports_refused_events(server: Server, logs, env: dict[str, str]) -> None:
    group = unique("put-old")
    data = b"2020-01-01T00:00:00Z far too old\n2020-01-01T00:00:01Z also\n"
    done = run_cli("put", "--group", group, "--stream", "s", "--create", "--timestamps",
                   "parse", "--endpoint-url", server.url, env=env, input=data)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "2 refused: 2 too old" in done.stdout
    assert "warning: the server refused 2 events" in done.stderr
    assert "far too old" in done.stderr
    assert read_messages(logs, group, "s") == []


def test_put_missing_stream_needs_create(server: Server, logs, env: dict[str, str]) -> None:
    group = unique("put-missing")
    done = run_cli("put", "--group", group, "--stream", "s", "--endpoint-url", server.url,
                   env=env, input=b"x\n")  # fmt: skip
    assert done.returncode == 1
    assert "log group does not exist" in done.stderr and "--create" in done.stderr
    assert "Traceback" not in done.stderr
    logs.create_log_group(logGroupName=group)
    done = run_cli("put", "--group", group, "--stream", "s", "--endpoint-url", server.url,
                   env=env, input=b"x\n")  # fmt: skip
    assert done.returncode == 1 and "log stream does not exist" in done.stderr


def test_put_with_a_wrong_key_pair(server: Server, env: dict[str, str]) -> None:
    env = {**env, "LOGSIEVE_SECRET_ACCESS_KEY": "not-the-secret"}
    done = run_cli("put", "--group", "g", "--stream", "s", "--create",
                   "--endpoint-url", server.url, env=env, input=b"x\n")  # fmt: skip
    assert done.returncode == 1
    assert "refused the request signature" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_put_unreadable_file(server: Server, env: dict[str, str], tmp_path: Path) -> None:
    done = run_cli("put", "--group", "g", "--stream", "s", str(tmp_path / "missing.log"),
                   "--endpoint-url", server.url, env=env)  # fmt: skip
    assert done.returncode != 0 and "Traceback" not in done.stderr


def test_rejected_counts_from_the_response() -> None:
    info = {"tooOldLogEventEndIndex": 2, "expiredLogEventEndIndex": 3,
            "tooNewLogEventStartIndex": 8}  # fmt: skip
    rejected = Rejected.from_info(info, 10)
    assert (rejected.too_old, rejected.expired, rejected.too_new) == (2, 1, 2)
    assert rejected.total == 5 and "2 too new" in rejected.describe()
    assert not Rejected.from_info(None, 10)


def _iso(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
