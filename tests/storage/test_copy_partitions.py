"""``logsieve storage copy --to-nats-urls`` makes a new namespace: its event log's partition
count is fixed then, so the copy takes ``--partitions`` as a config's [storage] would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from logsieve.storage.factory import open_stores
from logsieve.storage.jetstream.cluster import LocalCluster
from logsieve.storage.jetstream.connection import Connection
from logsieve.storage.jetstream.options import JetStreamOptions


def _copy(source: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "logsieve", "storage", "copy", "--from", str(source), *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_copy_into_a_new_namespace_makes_the_partitions_asked_for(
    nats_cluster: LocalCluster, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    open_stores(source, "sqlite").logs().close()
    urls = ",".join(nats_cluster.urls)
    done = _copy(source, "--to-nats-urls", urls, "--namespace", "parted", "--partitions", "3")
    assert done.returncode == 0, done.stderr
    assert "3 partitions" in done.stdout
    conn = Connection(JetStreamOptions(urls=tuple(nats_cluster.urls)), "check")
    try:
        names = conn.run(conn.js.streams_info())
    finally:
        conn.close()
    assert {"parted_logs", "parted_logs_1", "parted_logs_2"} <= {s.config.name for s in names}


def test_partitions_go_with_the_urls_not_a_config(tmp_path: Path) -> None:
    source = tmp_path / "source"
    open_stores(source, "sqlite").logs().close()
    config = tmp_path / "target.toml"
    config.write_text('[storage]\nengine = "jetstream"\nnats_urls = ["nats://127.0.0.1:1"]\n')
    done = _copy(source, "--to", str(config), "--partitions", "3")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "Error: --namespace, --replicas and --partitions go with --to-nats-urls"
        " (a config says them in [storage])"
    )
