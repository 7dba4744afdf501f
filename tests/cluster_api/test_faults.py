"""Processes die during sustained PutLogEvents through boto3 and no acknowledged event is lost:
a 200 from any node means the event is on a quorum of the NATS cluster, whatever dies next."""

from __future__ import annotations

from collections.abc import Callable

from tests.cluster_api.harness import ApiCluster
from tests.cluster_api.ingest import Ingest, read_stream
from tests.waiting import wait_for

GROUP, STREAM = "/faults/app", "writer"


def _prepare(deployment: ApiCluster) -> None:
    logs = deployment.client(0)
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName=STREAM)


def _every_acked_event_is_stored(deployment: ApiCluster, reader: int, acked: list[str]) -> None:
    stored = read_stream(deployment.client(reader), GROUP, STREAM)
    lost = sorted(set(acked) - set(stored))
    assert not lost, f"{len(lost)} of {len(acked)} acknowledged events lost: {lost[:5]}..."
    assert len(stored) == len(set(stored)), "an event was stored twice"


def test_killing_nats_servers_including_the_stream_leader_loses_no_acked_event(
    own_deployment: Callable[..., ApiCluster],
) -> None:
    deployment = own_deployment(nats_nodes=3, logsieve_nodes=2)
    _prepare(deployment)
    writer = Ingest(deployment.client(0), GROUP, STREAM).start()
    try:
        wait_for(lambda: writer.acked_after(200), what="ingest to get going")
        leader = deployment.leader_of("logs")
        follower = next(n for n in deployment.nats.nodes if n is not leader)

        deployment.kill_nats(follower)  # a replica dies: the quorum is still there
        seen = len(writer.acked)
        wait_for(lambda: writer.acked_after(seen + 200), what="ingest with a follower down")
        deployment.restart_nats(follower)

        leader = deployment.leader_of("logs")
        deployment.kill_nats(leader)  # the leader dies: the others elect one, writes resume
        seen = len(writer.acked)
        wait_for(lambda: writer.acked_after(seen + 200), what="ingest after the leader died")
        assert deployment.leader_of("logs") is not leader, f"still led by {leader.name}"
        deployment.restart_nats(leader)
        seen = len(writer.acked)
        wait_for(lambda: writer.acked_after(seen + 100), what="ingest after the restart")
    finally:
        writer.stop()
    _every_acked_event_is_stored(deployment, 1, writer.acked)


def test_a_logsieve_node_killed_mid_ingest_loses_no_acked_event(
    own_deployment: Callable[..., ApiCluster],
) -> None:
    deployment = own_deployment(nats_nodes=3, logsieve_nodes=2)
    _prepare(deployment)
    writer = Ingest(deployment.client(0), GROUP, STREAM).start()
    try:
        wait_for(lambda: writer.acked_after(500), what="ingest to get going")
        deployment.kill_node(0)
        failures = writer.failures
        wait_for(lambda: writer.failures > failures, what="the killed node to refuse calls")
    finally:
        writer.stop()
    assert writer.acked
    _every_acked_event_is_stored(deployment, 1, writer.acked)
    # the survivor keeps taking writes to the same stream
    survivor = Ingest(deployment.client(1), GROUP, STREAM, prefix="after-").start()
    try:
        wait_for(lambda: survivor.acked_after(100), what="the surviving node to take writes")
    finally:
        survivor.stop()
