"""``logsieve serve`` as a plain subprocess whose exit and log the test sees (the shared
``tests.server.Server`` hides both)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import httpx

from tests.server import ACCESS_KEY, SECRET_KEY


def serve(data_dir: Path, port: int, log: IO[Any] | int = subprocess.PIPE) -> subprocess.Popen:
    """Start a server on ``data_dir``; its stderr (the server log) goes to ``log``."""
    env = {
        **os.environ,
        "LOGSIEVE_ACCESS_KEY_ID": ACCESS_KEY,
        "LOGSIEVE_SECRET_ACCESS_KEY": SECRET_KEY,
        "LOGSIEVE_CONFIG": "",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "logsieve", "serve", "--port", str(port),
         "--data-dir", str(data_dir), "--log-level", "info"],
        env=env, stdout=subprocess.PIPE, stderr=log, text=True,
    )  # fmt: skip


def exit_or_serve(process: subprocess.Popen, port: int, timeout: float = 30) -> str:
    """Wait until ``process`` exits ("exited") or answers on ``port`` ("serving")."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return "exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return "serving"
        except httpx.HTTPError:
            time.sleep(0.05)
    return "neither"
