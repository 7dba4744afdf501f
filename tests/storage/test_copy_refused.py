"""``logsieve storage copy`` onto a cluster that refuses what it must create (here a stream
needing more replicas than the cluster has servers) stops in one line naming the stream, the
server's reason and the fix, not a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from logsieve.storage.factory import open_stores
from logsieve.storage.jetstream.cluster import LocalCluster


def test_a_stream_the_cluster_cannot_place_stops_the_copy_in_one_line(
    nats_cluster: LocalCluster, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    open_stores(source, "sqlite").logs().close()
    config = tmp_path / "target.toml"
    config.write_text(
        nats_cluster.storage_lines(replicas=5) + 'namespace = "refused"\ntimeout_seconds = 1\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "logsieve", "storage", "copy", "--from", str(source),
         "--to", str(config)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("Error: the NATS cluster at nats://127.0.0.1:")
    assert " refused to create stream refused_" in line
    assert "no suitable peers for placement (err_code 10005); it needs 5 servers" in line
    assert line.endswith("then run the copy again (it resumes)")
