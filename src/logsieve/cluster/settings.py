"""The ``[cluster]`` section: how this node shares background work with the others.

``lease_seconds`` is how long a node's claim on a job lasts without renewal (it renews every
third of it): a dead node's jobs move to another within about that, plus a third for the other
node to look. ``node_id`` names this node in the leases (default ``<hostname>-<pid>``, unique
per process); ``poll_seconds`` is how often, on a shared engine, pumps look for events
appended through other nodes. ``LOGSIEVE_CLUSTER_<KEY>`` overrides each key. Registered in
``logsieve/sections.py``; read back with ``CLUSTER.of(config)``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from logsieve.config import Section
from logsieve.config_values import Invalid, environment_values, number, read, section, show

__all__ = ["CLUSTER", "ClusterSettings"]

_ENV_PREFIX = "LOGSIEVE_CLUSTER_"
_NODE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


@dataclass(frozen=True)
class ClusterSettings:
    """The ``[cluster]`` section."""

    lease_seconds: float = 3.0
    node_id: str = ""  # empty: <hostname>-<pid>
    poll_seconds: float = 0.2

    def node(self) -> str:
        """This node's id in the leases."""
        return self.node_id or f"{socket.gethostname()}-{os.getpid()}"


def _seconds(low: float, high: float, hint: str) -> Any:
    def check(value: Any) -> float:
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value)
        return float(number(value, low, high, hint, low_open=True))

    return check


def _node_id(value: Any) -> str:
    if not isinstance(value, str) or not _NODE_ID.match(value):
        raise Invalid(
            f"must be 1-128 letters, digits or '_.:-' (got {show(value)})",
            'use e.g. "node-a", unique per logsieve process, or leave it out',
        )
    return value


_CHECKS = {
    "lease_seconds": _seconds(0, 600, "use e.g. 3 (a dead node's work moves within ~4 s)"),
    "node_id": _node_id,
    "poll_seconds": _seconds(0, 60, "use e.g. 0.2"),
}


def parse_cluster(path: Path, raw: Any) -> ClusterSettings:
    return ClusterSettings(**read(path, "[cluster]", section(path, "cluster", raw), _CHECKS))


def cluster_environment(environ: Mapping[str, str], settings: ClusterSettings) -> ClusterSettings:
    """``LOGSIEVE_CLUSTER_<KEY>`` over the file's values (empty counts as unset)."""
    values = environment_values(environ, _ENV_PREFIX, _CHECKS)
    return dataclasses.replace(settings, **values) if values else settings


CLUSTER: Section[ClusterSettings] = Section(
    "cluster", parse_cluster, ClusterSettings, environ=cluster_environment
)
