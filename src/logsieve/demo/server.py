"""The real server, started as ``logsieve serve`` in a child process, stopped for sure.

A subprocess rather than uvicorn in a thread: it is exactly what a user runs (its own process,
config file, signal handling and shutdown), its CPU work does not compete with the demo's
display and the world for one interpreter lock, and stopping it stops everything it started.

The child gets its own process group, so the Ctrl-C a terminal sends to the demo's group does
not reach it: the demo decides when the server stops -- after it has read the final numbers --
and terminates it (SIGTERM, then SIGKILL if it does not exit within ``stop``'s timeout). It
stays in the demo's session, so it is still found as the demo's child. ``LOGSIEVE_*``
variables of the user's shell are not passed on: the demo's config file says everything.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from logsieve.errors import ConfigError

__all__ = ["ServerProcess", "check_port", "free_port"]


def free_port() -> int:
    """A port nobody listens on now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def check_port(port: int) -> None:
    """Raise ConfigError when ``port`` on 127.0.0.1 is taken: one clear line before anything
    starts, rather than a server that exits during start-up."""
    with socket.socket() as probe:
        # As uvicorn binds: connections of an earlier server in TIME_WAIT do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise ConfigError(
                f"port {port} on 127.0.0.1 is not available ({exc.strerror or exc}); choose "
                "another --port, or 0 for a free one"
            ) from None


class ServerProcess:
    def __init__(self, config_path: Path, data_dir: Path, port: int, log_path: Path) -> None:
        self.config_path = config_path
        self.data_dir = data_dir
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self, timeout: float = 30.0) -> None:
        """Start ``logsieve serve`` and wait until ``GET /health`` answers 200.

        Raises ConfigError with the server's last log line when it exits or never answers.
        """
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOGSIEVE_")}
        command = [
            sys.executable, "-m", "logsieve", "serve", "--config", str(self.config_path),
            "--port", str(self.port), "--data-dir", str(self.data_dir), "--log-level", "info",
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.data_dir,
                process_group=0 if os.name == "posix" else None,
            )
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise ConfigError(
                        f"the server exited with status {self.process.returncode}: "
                        f"{self._last_log_line()} (full log: {self.log_path})"
                    )
                try:
                    if client.get(f"{self.url}/health").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        self.stop()
        raise ConfigError(
            f"the server did not answer on {self.url} within {timeout:g} s; see {self.log_path}"
        )

    def _last_log_line(self) -> str:
        """The last error the server logged (uvicorn's "address already in use", a config
        problem...), else its last line."""
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        errors = [line for line in lines if "error" in line.lower()]
        chosen = errors[-1] if errors else lines[-1] if lines else "(empty log)"
        return " ".join(chosen.split())

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM (uvicorn's graceful shutdown: deliveries stop, files close), then SIGKILL
        if it is still there after ``timeout``. Returns the exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode
