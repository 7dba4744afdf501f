"""The ``[cluster]`` section: defaults that work alone, keys from the file, the environment
over the file, and a bad value as one line naming the key and the fix."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from logsieve.cluster import CLUSTER, ClusterSettings
from logsieve.config import ConfigError
from logsieve.sections import load_config


def load(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> ClusterSettings:
    path = tmp_path / "logsieve.toml"
    path.write_text(text, encoding="utf-8")
    return CLUSTER.of(load_config(path, environ={"HOME": str(tmp_path), **(environ or {})}))


def test_defaults_a_3_s_lease_and_a_node_id_unique_per_process(tmp_path: Path) -> None:
    settings = load(tmp_path, "")
    assert (settings.lease_seconds, settings.poll_seconds) == (3.0, 0.2)
    assert settings.node() == f"{socket.gethostname()}-{os.getpid()}"


def test_keys_from_the_file_and_the_environment_over_them(tmp_path: Path) -> None:
    text = '[cluster]\nlease_seconds = 6\nnode_id = "node-a"\npoll_seconds = 0.5\n'
    settings = load(tmp_path, text)
    assert settings == ClusterSettings(6.0, "node-a", 0.5)
    assert settings.node() == "node-a"
    overridden = load(
        tmp_path, text, {"LOGSIEVE_CLUSTER_LEASE_SECONDS": "2", "LOGSIEVE_CLUSTER_NODE_ID": "b"}
    )
    assert overridden == ClusterSettings(2.0, "b", 0.5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[cluster]\nlease_seconds = 0\n", r"lease_seconds .*use e\.g\. 3"),
        ('[cluster]\nnode_id = "a b"\n', r"node_id .*unique per logsieve process"),
        ("[cluster]\nleases = 3\n", r"leases"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        load(tmp_path, text)
    assert "\n" not in str(raised.value)
