"""A node stops on SIGTERM even when its NATS cluster is gone: the README's walk-through stops
the nodes and the cluster one after the other, and a node left waiting for NATS must not
outlive them (CI found one still running minutes after its test ended)."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable

import pytest

from tests.cluster_api.harness import ApiCluster

# the whole shutdown: the work's tasks stopped and the leases left to expire
STOP_SECONDS = 30


def _jobs(deployment: ApiCluster) -> None:
    """A group with a metric filter: a per-item job besides the singletons."""
    logs = deployment.client(0)
    logs.create_log_group(logGroupName="/shutdown/app")
    logs.put_metric_filter(
        logGroupName="/shutdown/app",
        filterName="errors",
        filterPattern="ERROR",
        metricTransformations=[
            {"metricName": "Errors", "metricNamespace": "App", "metricValue": "1"}
        ],
    )


def _stopped_within(deployment: ApiCluster, seconds: float) -> float:
    process = deployment.nodes[0].process
    assert process is not None and process.poll() is None
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the node was still running {seconds} s after SIGTERM")
    assert code == 0, f"the node exited with {code}"
    return time.monotonic() - started


@pytest.mark.parametrize("after", [0.0, 5.0], ids=["at-once", "after-its-leases-expired"])
def test_a_node_stops_on_sigterm_after_its_cluster_died(
    own_deployment: Callable[..., ApiCluster], after: float
) -> None:
    deployment = own_deployment(nats_nodes=3, logsieve_nodes=1)
    _jobs(deployment)
    time.sleep(2)  # the node takes its jobs' leases within its first ownership rounds
    for node in deployment.nats.nodes:
        deployment.kill_nats(node)
    time.sleep(after)
    _stopped_within(deployment, STOP_SECONDS)
    log = (deployment.root / "logsieve1" / "serve.log").read_text(errors="replace")
    assert "Application shutdown failed" not in log  # a job's store error broke the stop
