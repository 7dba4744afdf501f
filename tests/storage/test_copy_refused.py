"""``logsieve storage copy`` onto a cluster that refuses what it must create (here a stream
needing more replicas than the cluster has servers), or refuses the login, stops in one line
naming what failed and the fix, not a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from logsieve.storage.factory import open_stores
from logsieve.storage.jetstream.cluster import LocalCluster


def _copy(source: Path, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "logsieve", "storage", "copy", "--from", str(source),
         "--to", str(config)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_wrong_credentials_stop_the_copy_in_one_line(tmp_path: Path) -> None:
    node = LocalCluster(
        tmp_path / "nats", nodes=1, extra='authorization { user: "ls", password: "s3cret" }'
    ).start()
    try:
        source = tmp_path / "source"
        open_stores(source, "sqlite").logs().close()
        config = tmp_path / "target.toml"
        config.write_text(
            node.storage_lines(replicas=1)
            + 'nats_user = "ls"\nnats_password = "wrong"\ntimeout_seconds = 1\n'
        )
        done = _copy(source, config)
    finally:
        node.stop()
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("Error: the NATS cluster at nats://127.0.0.1:")
    assert "authorization" in line.lower() and "credentials" in line
    assert "wrong" not in line  # never echoes a password
    assert line.endswith("then run the copy again (it resumes)")


def test_a_stream_the_cluster_cannot_place_stops_the_copy_in_one_line(
    nats_cluster: LocalCluster, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    open_stores(source, "sqlite").logs().close()
    config = tmp_path / "target.toml"
    config.write_text(
        nats_cluster.storage_lines(replicas=5) + 'namespace = "refused"\ntimeout_seconds = 1\n'
    )
    done = _copy(source, config)
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("Error: the NATS cluster at nats://127.0.0.1:")
    assert " refused to create stream refused_" in line
    assert "no suitable peers for placement (err_code 10005); it needs 5 servers" in line
    assert line.endswith("then run the copy again (it resumes)")
