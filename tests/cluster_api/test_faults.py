"""Processes die during sustained PutLogEvents through boto3 and no acknowledged event is lost:
a 200 from any node means the event is on a quorum of the NATS cluster, whatever dies next."""

from __future__ import annotations

from collections.abc import Callable

from logsieve.storage.jetstream.cluster import Node
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
        wait_for(lambda: _led_by_other(deployment, leader), what="another leader")
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


def _partition_during_ingest(deployment: ApiCluster, choose: Callable[[], Node]) -> Ingest:
    """Sustained ingest through node 1 while the server ``choose`` picks answers nothing
    (SIGSTOP, sockets left open) for as long as 200 more events take; then it comes back."""
    _prepare(deployment)
    writer = Ingest(deployment.client(0), GROUP, STREAM).start()
    try:
        wait_for(lambda: writer.acked_after(200), what="ingest to get going")
        cut_off = choose()
        deployment.pause_nats(cut_off)
        try:
            seen = len(writer.acked)
            wait_for(
                lambda: writer.acked_after(seen + 200),
                timeout=45,
                what=f"ingest with {cut_off.name} cut off",
            )
        finally:
            deployment.resume_nats(cut_off)
        deployment.nats.wait_ready()
        seen = len(writer.acked)
        wait_for(lambda: writer.acked_after(seen + 100), what="ingest after it came back")
    finally:
        writer.stop()
    return writer


def _led_by_other(deployment: ApiCluster, old: Node) -> bool:
    try:
        return deployment.leader_of("logs") is not old
    except AssertionError:  # no leader during the election
        return False


def test_a_partitioned_stream_leader_loses_no_acked_event(
    own_deployment: Callable[..., ApiCluster],
) -> None:
    """The event log's leader, not the server node 1 talks to, is cut off: the others elect a
    leader and writes go on; when it comes back it follows and nothing acked is lost."""
    deployment = own_deployment(nats_nodes=3, logsieve_nodes=2)

    def leader_elsewhere() -> Node:
        for _ in range(10):
            leader = deployment.leader_of("logs")
            if leader is not deployment.server_of(0):
                return leader
            deployment.step_down("logs")
            wait_for(lambda old=leader: _led_by_other(deployment, old), what="a new leader")
        raise AssertionError("the leader stayed on node 1's server through 10 step-downs")

    writer = _partition_during_ingest(deployment, leader_elsewhere)
    _every_acked_event_is_stored(deployment, 1, writer.acked)


def test_a_node_whose_server_is_partitioned_moves_to_another(
    own_deployment: Callable[..., ApiCluster],
) -> None:
    deployment = own_deployment(nats_nodes=3, logsieve_nodes=2)
    writer = _partition_during_ingest(deployment, lambda: deployment.server_of(0))
    _every_acked_event_is_stored(deployment, 1, writer.acked)
