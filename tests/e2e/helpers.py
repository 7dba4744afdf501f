"""Helpers shared by the end-to-end tests: names, clocks and running a client subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

REGION = "us-east-1"


def unique_group(client: str) -> str:
    return f"/e2e/{client}-{uuid.uuid4().hex[:10]}"


def now_ms() -> int:
    return int(time.time() * 1000)


def run(
    argv: Sequence[str | Path], env: dict[str, str], timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Run a client, failing the test (not hanging it) if the client never finishes."""
    try:
        return subprocess.run(
            [str(a) for a in argv],
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"{' '.join(map(str, argv[:4]))} ... did not finish in {timeout}s\n"
            f"stdout so far: {exc.stdout!r}\nstderr so far: {exc.stderr!r}"
        )


class AwsCli:
    """The aws CLI (v1, from the dev extras) pointed at a logsieve server, for one service."""

    def __init__(self, server: Any, env: dict[str, str], service: str) -> None:
        self.server, self.env, self.service = server, env, service

    def raw(self, *args: str) -> subprocess.CompletedProcess[str]:
        aws = Path(sys.executable).parent / "aws"
        assert aws.exists(), f"{aws} missing: install the dev extras (pip install -e '.[dev]')"
        argv = [aws, "--endpoint-url", self.server.url, "--region", REGION, "--output", "json"]
        return run([*argv, self.service, *args], self.env)

    def __call__(self, *args: str) -> Any:
        done = self.raw(*args)
        assert done.returncode == 0, f"aws {self.service} {' '.join(args)} failed:\n{done.stderr}"
        return json.loads(done.stdout) if done.stdout.strip() else None

    def error(self, *args: str) -> str:
        done = self.raw(*args)
        assert done.returncode != 0, f"aws {self.service} {' '.join(args)} unexpectedly succeeded"
        return done.stderr
