"""``logsieve ship`` as a real process: follow, restart, crash, rotate, truncate.

The guarantees under test: every complete line arrives; a clean stop (SIGTERM) and restart
sends nothing twice; a crash (SIGKILL) loses nothing (the last batch may come twice).
"""

from __future__ import annotations

import collections
import json
import random
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.server import Server
from tests.waiting import wait_for

from .helpers import argv, cli_env, read_messages, run_cli


class Shipper:
    """One ``logsieve ship`` process at a time for a file, restartable."""

    def __init__(self, server: Server, tmp_path: Path, file: Path, *extra: str) -> None:
        self.env = cli_env(tmp_path / "data")
        self.group = f"ship-{uuid.uuid4().hex[:8]}"
        self.args = ["ship", str(file), "--group", self.group, "--stream", "s", "--create",
                     "--endpoint-url", server.url, "--poll", "0.05", *extra]  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None
        self.stderr = tmp_path / f"ship-{uuid.uuid4().hex[:6]}.err"
        self.outputs: list[str] = []
        self.mark = 0  # where this run's stderr starts

    def start(self) -> None:
        self.mark = len(self.errors()) if self.stderr.exists() else 0
        self._err = self.stderr.open("ab")
        self.process = subprocess.Popen(
            argv(*self.args), env=self.env, stdout=subprocess.PIPE, stderr=self._err
        )

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        if sig == signal.SIGTERM:  # a clean stop needs the handler: wait until it is running
            wait_for(lambda: "ship: following" in self.errors()[self.mark :], 30,
                     "ship to start")  # fmt: skip
        self.process.send_signal(sig)
        out, _ = self.process.communicate(timeout=60)
        self.outputs.append(out.decode())
        self._err.close()
        return self.process.returncode

    def errors(self) -> str:
        return self.stderr.read_text()


def lines(start: int, stop: int) -> str:
    return "".join(f"line {i:05d}\n" for i in range(start, stop))


def append(path: Path, text: str) -> None:
    with path.open("a") as f:
        f.write(text)


def expect(logs, shipper: Shipper, count: int) -> list[str]:
    wait_for(lambda: len(read_messages(logs, shipper.group, "s")) >= count, 60,
             f"{count} events in {shipper.group}")  # fmt: skip
    return read_messages(logs, shipper.group, "s")


def test_follows_and_resumes_without_duplicates(server: Server, logs, tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text(lines(0, 100))
    shipper = Shipper(server, tmp_path, path)
    shipper.start()
    expect(logs, shipper, 100)
    append(path, lines(100, 150) + "partial")
    expect(logs, shipper, 150)
    time.sleep(0.5)
    assert "partial" not in read_messages(logs, shipper.group, "s")  # not a complete line yet
    assert shipper.stop() == 0, shipper.errors()
    assert "Shipped 150 events" in shipper.outputs[-1]

    append(path, " line\n" + lines(150, 200))  # written while ship is stopped
    shipper.start()
    got = expect(logs, shipper, 201)
    assert shipper.stop() == 0, shipper.errors()
    want = [f"line {i:05d}" for i in range(150)] + ["partial line"]
    want += [f"line {i:05d}" for i in range(150, 200)]
    assert got == want  # every line once, in order


def test_crash_loses_nothing(server: Server, logs, tmp_path: Path) -> None:
    """SIGKILL at random moments while a writer appends: after restarts every line is there
    at least once (a batch sent but not yet committed is sent again)."""
    path = tmp_path / "busy.log"
    path.write_text("")
    total = 4000
    done = threading.Event()

    def writer() -> None:
        for start in range(0, total, 40):
            append(path, lines(start, start + 40))
            time.sleep(0.01)
        done.set()

    shipper = Shipper(server, tmp_path, path)
    shipper.start()
    thread = threading.Thread(target=writer)
    thread.start()
    rng = random.Random(7)
    kills = 0

    def committed() -> int:
        """The offset the shipper saved (it saves only after a batch got its 200)."""
        saved = [json.loads(f.read_text())["offset"] for f in (tmp_path / "data").rglob("*.json")
                 if f.parent.name == "ship"]  # fmt: skip
        return max(saved, default=0)

    while not done.is_set() or kills < 3:
        before = committed()
        time.sleep(rng.uniform(0.3, 1.0))
        # Kill only once this run has committed progress (or everything): on a loaded machine
        # a slow start would otherwise be killed before it could commit anything, every time.
        wait_for(lambda b=before: committed() > b or committed() >= path.stat().st_size, 60,
                 "the shipper to commit progress")  # fmt: skip
        shipper.stop(signal.SIGKILL)
        kills += 1
        shipper.start()
    thread.join()
    got = expect(logs, shipper, total)
    wait_for(lambda: len(set(read_messages(logs, shipper.group, "s"))) >= total, 60,
             "every line")  # fmt: skip
    assert shipper.stop() == 0, shipper.errors()
    got = read_messages(logs, shipper.group, "s")
    counts = collections.Counter(got)
    assert set(counts) == {f"line {i:05d}" for i in range(total)}
    duplicated = sum(n - 1 for n in counts.values())
    print(f"\n{kills} kills, {duplicated} lines sent twice (at least once is the promise)")
    assert duplicated < total  # far fewer than everything: positions were committed


def test_rotation_while_running_and_while_stopped(server: Server, logs, tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text(lines(0, 10))
    shipper = Shipper(server, tmp_path, path)
    shipper.start()
    expect(logs, shipper, 10)
    # logrotate's create mode: rename, the writer finishes its line, a new file appears.
    append(path, lines(10, 15) + "unfinished")
    path.rename(tmp_path / "app.log.1")
    path.write_text(lines(20, 25))
    append(tmp_path / "app.log.1", " tail\n")
    expect(logs, shipper, 21)
    assert shipper.stop() == 0, shipper.errors()
    assert "rotated" in shipper.errors()

    # Rotated again while ship is down: the old file is found by its inode and finished.
    append(path, lines(25, 30))
    path.rename(tmp_path / "app.log.2")
    path.write_text(lines(30, 35))
    shipper.start()
    got = expect(logs, shipper, 31)
    assert shipper.stop() == 0, shipper.errors()
    want = [f"line {i:05d}" for i in range(15)] + ["unfinished tail"]
    want += [f"line {i:05d}" for i in range(20, 35)]
    assert got == want


def test_truncation(server: Server, logs, tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text(lines(0, 20))
    shipper = Shipper(server, tmp_path, path)
    shipper.start()
    expect(logs, shipper, 20)
    with path.open("r+") as f:  # copytruncate
        f.truncate(0)
    time.sleep(0.3)
    append(path, lines(100, 105))
    got = expect(logs, shipper, 25)
    assert shipper.stop() == 0, shipper.errors()
    assert got == [f"line {i:05d}" for i in [*range(20), *range(100, 105)]]
    assert "truncated" in shipper.errors()


def test_once_and_refused_lines(server: Server, logs, tmp_path: Path) -> None:
    path = tmp_path / "old.log"
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    path.write_text(f"2020-01-01T00:00:00Z ancient\n{now} recent\n")
    shipper = Shipper(server, tmp_path, path, "--once", "--timestamps", "parse")
    done = run_cli(*shipper.args, env=shipper.env)
    assert done.returncode == 0, done.stderr
    assert "refused 1 lines: 1 too old" in done.stderr and "ancient" in done.stderr
    assert "1 refused" in done.stdout
    assert read_messages(logs, shipper.group, "s") == [f"{now} recent"]
    again = run_cli(*shipper.args, env=shipper.env)  # nothing new: nothing sent
    assert "Shipped 0 events" in again.stdout
    assert read_messages(logs, shipper.group, "s") == [f"{now} recent"]


def test_one_shipper_per_state(server: Server, tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("x\n")
    shipper = Shipper(server, tmp_path, path)
    shipper.start()
    time.sleep(1.5)
    try:
        second = run_cli(*shipper.args, env=shipper.env)
    finally:
        shipper.stop()
    assert second.returncode == 1 and "already shipping" in second.stderr


@pytest.mark.parametrize("missing", ["group"])
def test_ship_without_create(server: Server, tmp_path: Path, missing: str) -> None:
    path = tmp_path / "app.log"
    path.write_text("x\n")
    shipper = Shipper(server, tmp_path, path)
    args = [a for a in shipper.args if a != "--create"]
    done = run_cli(*args, "--once", env=shipper.env)
    assert done.returncode == 1 and "--create" in done.stderr
