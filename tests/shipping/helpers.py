"""Running ``logsieve`` commands against the test server and reading back what arrived."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from logsieve.shipping.client import Target
from tests.server import ACCESS_KEY, SECRET_KEY, Server


def cli_env(data_dir: Path) -> dict[str, str]:
    """The environment of a CLI subprocess: the server's key pair, no config file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LOGSIEVE_"))}
    env.update(
        LOGSIEVE_ACCESS_KEY_ID=ACCESS_KEY,
        LOGSIEVE_SECRET_ACCESS_KEY=SECRET_KEY,
        LOGSIEVE_CONFIG="",
        LOGSIEVE_DATA_DIR=str(data_dir),
        PYTHONIOENCODING="utf-8",
    )
    return env


def argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "logsieve", *args]


def run_cli(
    *args: str, env: dict[str, str], input: bytes | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        argv(*args), env=env, input=input, capture_output=True, timeout=timeout, check=False
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


def target(server: Server) -> Target:
    return Target(server.url, "us-east-1", ACCESS_KEY, SECRET_KEY)


def read_events(logs: Any, group: str, stream: str) -> list[dict[str, Any]]:
    """Every event of a stream, oldest first (GetLogEvents from the head, all pages)."""
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = logs.get_log_events(
            logGroupName=group, logStreamName=stream, startFromHead=True, **kwargs
        )
        events.extend(page["events"])
        if page["nextForwardToken"] == kwargs.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextForwardToken"]


def read_messages(logs: Any, group: str, stream: str) -> list[str]:
    try:
        return [e["message"] for e in read_events(logs, group, stream)]
    except logs.exceptions.ResourceNotFoundException:
        return []
