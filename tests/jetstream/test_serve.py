"""``logsieve serve`` on the jetstream engine before every store is there: one line, no
traceback, naming the missing store and the way out."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def test_serve_on_jetstream_says_what_is_missing_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "LOGSIEVE_STORAGE_ENGINE": "jetstream", "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "logsieve", "serve", "--port", str(port),
         "--data-dir", str(tmp_path / "data")],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        'Error: the logs store is not yet on JetStream; use [storage] engine = "sqlite"'
    ]
