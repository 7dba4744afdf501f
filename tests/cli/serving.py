"""``logsieve serve`` run the way a new user runs it, for the CLI and README tests.

Unlike ``tests.server.Server`` (which hands the server a fixed key pair), the server here starts
with a fresh data directory and no ``LOGSIEVE_*`` or ``AWS_*`` variables, so it generates its
own key pair and prints the lines to use it -- which is what these tests read.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.server import free_port

LISTENING = re.compile(r"^logsieve listening on (http://\S+)")


def user_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A shell environment with nothing of the developer's AWS or logsieve setup: HOME is
    ``home`` (so ``~/.logsieve`` and ``~/.aws`` are fresh) and the AWS config files are empty."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LOGSIEVE_", "PYTEST_"))
    }
    home.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), AWS_EC2_METADATA_DISABLED="true", PYTHONIOENCODING="utf-8")
    env.update(extra or {})
    return env


@dataclass
class UserServer:
    """``logsieve serve ARGS`` in ``cwd`` with ``env``; ``output`` collects stdout + stderr."""

    args: list[str]
    env: dict[str, str]
    cwd: Path
    command: list[str] = field(default_factory=lambda: [sys.executable, "-m", "logsieve"])
    process: subprocess.Popen[str] | None = None
    lines: list[str] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _reader: threading.Thread | None = None

    @property
    def output(self) -> str:
        with self._changed:
            return "".join(self.lines)

    def start(self) -> UserServer:
        self.process = subprocess.Popen(
            [*self.command, *self.args],
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_listening(self, timeout: float = 30.0, poll: bool = True) -> str:
        """The URL of the ``logsieve listening on`` line, once the server answers there
        (at once when not ``poll``: the server announces only once it answers).

        Raises AssertionError with everything printed when it exits or never says so.
        """
        assert self.process is not None
        deadline = time.monotonic() + timeout
        url = None
        with self._changed:
            while url is None:
                url = next((m[1] for m in map(LISTENING.match, self.lines) if m), None)
                left = deadline - time.monotonic()
                if url is None:
                    assert self.process.poll() is None, f"serve exited:\n{''.join(self.lines)}"
                    assert left > 0, f"no 'listening' line in {timeout} s:\n{''.join(self.lines)}"
                    self._changed.wait(min(left, 0.2))
        while poll:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    return url
            except httpx.HTTPError:
                pass
            assert self.process.poll() is None, f"serve exited:\n{self.output}"
            assert time.monotonic() < deadline, f"no answer at {url}:\n{self.output}"
            time.sleep(0.05)
        return url

    def wait_exit(self, timeout: float = 30.0) -> int:
        """The exit status, once everything the process printed has been read."""
        assert self.process is not None and self._reader is not None
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code

    def stop(self) -> None:
        """Stop it and whatever it started (its own session: a shell's children too)."""
        if self.process is None or self.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def serve_fresh(tmp: Path, *extra: str) -> UserServer:
    """A started ``logsieve serve`` on a free port with a fresh data dir under ``tmp``."""
    args = ["serve", "--port", str(free_port()), "--data-dir", str(tmp / "data"), *extra]
    return UserServer(args, user_env(tmp / "home"), tmp).start()


def export_line(printed: str) -> str:
    """The ``export AWS_...`` line among what the server printed."""
    found = [line for line in printed.splitlines() if line.startswith("export AWS_")]
    assert len(found) == 1, printed
    return found[0]
