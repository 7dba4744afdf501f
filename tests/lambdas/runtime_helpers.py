"""Helpers and fixtures for tests that run real worker processes through FunctionRuntime."""

from __future__ import annotations

import json
import os
import re
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from logsieve.lambdas.runtime import FunctionRuntime
from logsieve.lambdas.spec import FunctionSpec, InvokeResult

ARN = "arn:aws:lambda:us-east-1:123456789012:function:{}"
BASE_ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:4599",
    "AWS_ACCESS_KEY_ID": "AKIDTEST",
    "AWS_SECRET_ACCESS_KEY": "secret",
}
STREAM = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")
REPORT = re.compile(
    r"^REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: \d+\.\d\d ms\t"
    r"Billed Duration: \d+ ms\tMemory Size: (?P<mem>\d+) MB\tMax Memory Used: \d+ MB"
)
WAIT = 60.0  # generous bound for anything asynchronous


class Sink:
    """A log sink that records every batch, thread-safely."""

    def __init__(self) -> None:
        self.batches: list[tuple[str, str, list[tuple[int, str]]]] = []
        self._lock = threading.Lock()

    def __call__(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        with self._lock:
            self.batches.append((group, stream, list(events)))

    def messages(self, stream: str | None = None) -> list[str]:
        with self._lock:
            return [m for _, s, events in self.batches for _, m in events if stream in (None, s)]

    def streams(self, group: str) -> set[str]:
        with self._lock:
            return {s for g, s, _ in self.batches if g == group}


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
def runtime(sink: Sink) -> Iterator[FunctionRuntime]:
    rt = FunctionRuntime(dict(BASE_ENV), sink)
    yield rt
    rt.close()


@pytest.fixture
def make_function(tmp_path: Path):
    """Writes ``app.py`` (and other files) into a fresh code dir and describes the function."""
    counter = iter(range(1000))

    def make(code: str, handler: str = "app.handler", files: dict[str, str] | None = None, **kw):
        name = f"fn{next(counter)}"
        code_dir = tmp_path / name
        code_dir.mkdir()
        (code_dir / "app.py").write_text(textwrap.dedent(code))
        for rel, text in (files or {}).items():
            (code_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (code_dir / rel).write_text(textwrap.dedent(text))
        return FunctionSpec(
            name=name, arn=ARN.format(name), handler=handler, code_dir=code_dir, **kw
        )

    return make


def call(runtime: FunctionRuntime, spec: FunctionSpec, event: Any = None, **kw) -> InvokeResult:
    return runtime.invoke(spec, json.dumps({} if event is None else event).encode(), **kw)


def payload(result: InvokeResult) -> Any:
    return json.loads(result.payload)


def gone(pid: int) -> bool:
    """True once ``pid`` no longer runs (reaped, or a zombie left to init)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):  # exited before open() or before read()
        return True


def our_children() -> list[int]:
    """Worker processes (live or zombie) whose parent is this test process."""
    me, children = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    command = cmdline.read()
            except OSError:
                continue
            if int(fields[1]) == me and (b"awslambdaric" in command or fields[0] == "Z"):
                children.append(int(entry))
    return children
