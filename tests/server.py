"""Run the real logsieve server as a subprocess on an ephemeral port (for tests and benches)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    data_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    config: Path | None = None  # a logsieve.toml to start with (none by default)
    env: dict[str, str] = field(default_factory=dict)  # extra environment variables
    log_file: Path | None = None  # where the server's stderr (its log) goes; inherited if None
    scheme: str = "http"  # "https" for a server configured with [server] tls_certfile

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> Server:
        env = {
            **os.environ,
            "LOGSIEVE_ACCESS_KEY_ID": ACCESS_KEY,
            "LOGSIEVE_SECRET_ACCESS_KEY": SECRET_KEY,
            "LOGSIEVE_CONFIG": str(self.config or ""),
            **self.env,
        }
        log = self.log_file.open("ab") if self.log_file else None
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "logsieve", "serve", "--port", str(self.port),
                 "--data-dir", str(self.data_dir), "--log-level", "warning"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )  # fmt: skip
        finally:
            if log is not None:
                log.close()  # the child has its own copy
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"logsieve serve exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1, verify=False).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        self.kill()  # not left running behind the failed test
        raise RuntimeError(f"logsieve serve did not become ready in {timeout:.0f} s")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs (the crash tests rely on that)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def client(server: Server, service: str = "logs", retries: int = 1):
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(retries={"max_attempts": retries, "mode": "standard"}),
    )
