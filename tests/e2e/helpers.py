"""Helpers shared by the end-to-end tests: names, clocks and running a client subprocess."""

from __future__ import annotations

import email
import email.message
import email.policy
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


class Inbox:
    """An aiosmtpd handler keeping every email it receives, parsed (modern email API)."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]
