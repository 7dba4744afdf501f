"""Append signals: on JetStream an append told by one node reaches every node listening on
the namespace (and no other namespace); on SQLite there is no other node to tell."""

from __future__ import annotations

import threading

from logsieve.storage.jetstream.cluster import LocalCluster
from logsieve.storage.signals import LocalSignals
from tests.jetstream.cluster import options
from tests.waiting import wait_for


def test_an_append_on_one_node_reaches_the_others_of_its_namespace(
    nats_cluster: LocalCluster,
) -> None:
    from logsieve.storage.jetstream.signals import JetStreamSignals

    settings = options(nats_cluster)
    one, two = JetStreamSignals(settings), JetStreamSignals(settings)
    elsewhere = JetStreamSignals(options(nats_cluster))
    heard: list[int] = []
    strangers: list[int] = []
    lock = threading.Lock()

    def hear(group_id: int) -> None:
        with lock:
            if group_id:  # 0: the warm-up below
                heard.append(group_id)
            else:
                warm.set()

    warm = threading.Event()

    def warmed() -> bool:
        one.appended(0)
        return warm.wait(0.2)

    try:
        two.listen(hear)
        elsewhere.listen(strangers.append)
        # two's interest reaches one's server over the cluster's routes a moment later
        wait_for(warmed, timeout=10, what="the subscription to reach the other server")
        for group_id in (7, 8, 7):
            one.appended(group_id)
        wait_for(lambda: len(heard) == 3, timeout=10, what="three signals")
        assert sorted(heard) == [7, 7, 8]
        one.appended(9)  # after the others: when it has arrived, a stray one would have too
        wait_for(lambda: 9 in heard, timeout=10, what="the fourth signal")
        assert strangers == []
    finally:
        for signals in (one, two, elsewhere):
            signals.close()


def test_one_process_has_nobody_to_tell() -> None:
    signals = LocalSignals()
    heard: list[int] = []
    signals.listen(heard.append)
    signals.appended(1)
    assert heard == []
    signals.close()
