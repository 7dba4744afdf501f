"""``logsieve serve`` on the jetstream engine with no cluster to reach: one line, no
traceback, naming the URLs and the way to start one (serving itself: tests/jetstream_server)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_without_a_cluster_says_so_in_one_line(tmp_path: Path) -> None:
    url = f"nats://127.0.0.1:{_free_port()}"  # nothing listens there
    env = {
        **os.environ, "HOME": str(tmp_path), "LOGSIEVE_STORAGE_ENGINE": "jetstream",
        "LOGSIEVE_STORAGE_NATS_URLS": url, "LOGSIEVE_STORAGE_TIMEOUT_SECONDS": "1",
    }  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "logsieve", "serve", "--port", str(_free_port()),
         "--data-dir", str(tmp_path / "data")],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    lines = [line for line in done.stderr.strip().splitlines() if "nats error=" not in line]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"Error: the NATS cluster at {url} is unreachable")
    assert "logsieve cluster up" in lines[0]
