"""``logsieve cluster up``: a real local NATS cluster from the installed nats-server, its
[storage] lines usable as printed, stopped cleanly by SIGTERM."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from logsieve.storage import DeadLetter
from logsieve.storage.factory import open_stores
from logsieve.storage.jetstream import JetStreamOptions
from tests.waiting import wait_for

LOGSIEVE = [sys.executable, "-m", "logsieve"]


def _read_until_ready(process: subprocess.Popen[str]) -> str:
    """stdout up to the end of the [storage] lines."""
    lines: list[str] = []

    def storage_printed() -> bool:
        line = process.stdout.readline()  # type: ignore[union-attr]
        if not line:
            raise AssertionError(f"cluster up exited: {''.join(lines)}")
        lines.append(line)
        return line.startswith("replicas =")

    wait_for(storage_printed, timeout=60, what="the [storage] lines", poll=0)
    return "".join(lines)


@pytest.mark.parametrize("nodes", [3, 1])
def test_cluster_up_prints_working_storage_lines_and_stops_on_sigterm(
    tmp_path: Path, nodes: int
) -> None:
    process = subprocess.Popen(
        [*LOGSIEVE, "cluster", "up", "--nodes", str(nodes), "--nats-port", "0",
         "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        output = _read_until_ready(process)
        assert len(re.findall(r"^  n\d  nats://127\.0\.0\.1:\d+", output, re.M)) == nodes
        storage = tomllib.loads(output[output.index("[storage]") :])["storage"]
        assert storage["engine"] == "jetstream" and storage["replicas"] == min(nodes, 3)
        assert sorted(p.name for p in (tmp_path / "nats").iterdir()) == [
            f"n{i + 1}" for i in range(nodes)
        ]
        settings = JetStreamOptions(urls=tuple(storage["nats_urls"]), replicas=storage["replicas"])
        store = open_stores(tmp_path, "jetstream", settings).dead_letters()
        try:
            letter = DeadLetter(
                id=0, created=1, group_name="/g", filter_name="f", destination_arn="arn:x",
                log_stream="s", event_count=2, first_timestamp=1, last_timestamp=1,
                attempts=1, error="e", data=b"x", redriven=None,
            )  # fmt: skip
            assert store.get(store.add(letter)) is not None
        finally:
            store.close()
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "cluster stopped" in err
    for node in (tmp_path / "nats").iterdir():  # every node shut down (its log says so)
        assert "Server Exiting" in (node / "nats.log").read_text(encoding="utf-8")
