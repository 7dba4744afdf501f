"""Helpers shared by the end-to-end tests: names, clocks and running a client subprocess."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

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
