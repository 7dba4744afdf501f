"""One subscription filter, two logsieve nodes on one NATS cluster: exactly one node works it;
events appended through either node are delivered once each, in order per log stream; when
the working node is SIGKILLed during sustained ingest the other takes over within 5 s and
every matched event is delivered at least once, still in order per log stream."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from logsieve.storage.leases import Leases
from logsieve.storage.records import subscription_consumer
from tests.cluster_nodes.conftest import holder
from tests.server import ACCESS_KEY, SECRET_KEY, Server, client
from tests.waiting import wait_for

GROUP = "/app/nodes"
STREAMS = ("web-1", "web-2")
KINESIS_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/out"
ROLE_ARN = "arn:aws:iam::123456789012:role/CWLtoKinesisRole"


def _setup(server: Server) -> None:
    logs, kinesis = client(server, "logs"), client(server, "kinesis")
    kinesis.create_stream(StreamName="out", ShardCount=1)
    logs.create_log_group(logGroupName=GROUP)
    for stream in STREAMS:
        logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    logs.put_subscription_filter(
        logGroupName=GROUP, filterName="match", filterPattern="MATCH",
        destinationArn=KINESIS_ARN, roleArn=ROLE_ARN,
    )  # fmt: skip


def _subscription_lease(leases: Leases) -> str | None:
    """The subscription's lease name (its consumer, ``subscription/<group id>/match``) once
    a node holds it."""
    names = [lease.name for lease in leases.held("subscription/")]
    assert len(names) <= 1, names
    if not names:
        return None
    assert names[0] == subscription_consumer(int(names[0].split("/")[1]), "match")
    return names[0]


class Payloads:
    """The subscription's payloads as they arrived in the Kinesis stream."""

    def __init__(self, server: Server) -> None:
        self.kinesis = client(server, "kinesis")
        self.payloads: list[dict[str, Any]] = []
        self._iterator: str | None = None

    def read(self) -> list[dict[str, Any]]:
        if self._iterator is None:
            shard = self.kinesis.list_shards(StreamName="out")["Shards"][0]["ShardId"]
            self._iterator = self.kinesis.get_shard_iterator(
                StreamName="out", ShardId=shard, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        while True:
            page = self.kinesis.get_records(ShardIterator=self._iterator, Limit=1000)
            self._iterator = page["NextShardIterator"]
            for record in page["Records"]:
                payload = json.loads(gzip.decompress(record["Data"]))
                if payload["messageType"] == "DATA_MESSAGE":
                    self.payloads.append(payload)
            if not page["Records"]:
                return self.payloads

    def messages(self, stream: str) -> list[str]:
        return [
            event["message"]
            for payload in self.payloads
            if payload["logStream"] == stream
            for event in payload["logEvents"]
        ]


class Ingest:
    """Puts numbered events into every stream, alternating nodes, one batch per call; keeps
    the acknowledged ones (a 200)."""

    def __init__(self, servers: list[Server]) -> None:
        self.clients = [client(server, "logs") for server in servers]
        self.sent: dict[str, list[str]] = {stream: [] for stream in STREAMS}
        self.number = 0
        self.stop = threading.Event()
        self.failures = 0

    def batch(self, through: int, size: int = 20) -> None:
        logs = self.clients[through % len(self.clients)]
        now = int(time.time() * 1000)
        for stream in STREAMS:
            messages = [f"{'MATCH' if n % 2 == 0 else 'skip'} {stream} {self.number + n}"
                        for n in range(size)]  # fmt: skip
            events = [{"timestamp": now, "message": m} for m in messages]
            try:
                logs.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=events)
            except Exception:  # the node was killed: not acknowledged
                self.failures += 1
                continue
            self.sent[stream] += [m for m in messages if m.startswith("MATCH")]
        self.number += size

    def run(self, every: float = 0.02) -> None:
        through = 0
        while not self.stop.is_set():
            self.batch(through)
            through += 1
            time.sleep(every)  # the ingest rate, not a synchronisation


def _status(server: Server) -> dict[str, Any]:
    """The subscription's status as ``logsieve subscriptions --json`` shows it on ``server``."""
    env = {"LOGSIEVE_ACCESS_KEY_ID": ACCESS_KEY, "LOGSIEVE_SECRET_ACCESS_KEY": SECRET_KEY,
           "LOGSIEVE_CONFIG": "", "PATH": "/usr/bin:/bin"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "logsieve", "subscriptions", "--json", "--endpoint-url",
         server.url],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    (found,) = json.loads(result.stdout)["subscriptions"]
    return found


def _first_seen(messages: list[str]) -> list[str]:
    return list(dict.fromkeys(messages))


def test_two_nodes_deliver_each_event_once_in_order(
    node: Callable[[str], Server], leases: Leases
) -> None:
    # "Once each" holds while one node keeps the lease: a long lease keeps a loaded machine
    # (a renewal late by seconds) from moving it; the failover tests below use the default.
    a, b = (
        node("a", LOGSIEVE_CLUSTER_LEASE_SECONDS="30"),
        node("b", LOGSIEVE_CLUSTER_LEASE_SECONDS="30"),
    )
    _setup(a)
    name = wait_for(lambda: _subscription_lease(leases), what="a node to take the subscription")
    first = holder(leases, name)
    assert first in ("a", "b")
    ingest = Ingest([a, b])
    for through in range(20):
        ingest.batch(through)
    payloads = Payloads(b)
    expected = {stream: ingest.sent[stream] for stream in STREAMS}
    wait_for(lambda: payloads.read() and all(
        len(payloads.messages(s)) >= len(expected[s]) for s in STREAMS
    ), what="every matched event in Kinesis")  # fmt: skip
    assert holder(leases, name) == first, "the lease moved: this run saw a failover"
    for stream in STREAMS:
        assert payloads.messages(stream) == expected[stream]  # once each, in order
    working = holder(leases, name)
    assert [lease.node for lease in leases.held("subscription/")] == [working]
    servers = {"a": a, "b": b}
    other = "b" if working == "a" else "a"
    here = wait_for(lambda: (s := _status(servers[working]))["lagEvents"] == 0 and s,
                    what="the working node to report no lag")  # fmt: skip
    assert here["state"] == "idle" and here["deliveredEvents"] == 2 * 20 * 10
    there = _status(servers[other])  # the other node tells it is worked elsewhere
    assert (there["state"], there["lagEvents"], there["cursor"]) == (
        "elsewhere", 0, here["cursor"],
    )  # fmt: skip


def test_the_other_node_takes_over_within_5_s_of_a_sigkill_during_ingest(
    node: Callable[[str], Server], leases: Leases
) -> None:
    a, b = node("a"), node("b")
    _setup(a)
    name = wait_for(lambda: _subscription_lease(leases), what="a node to take the subscription")
    working = holder(leases, name)
    victim, survivor = (a, b) if working == "a" else (b, a)
    survivor_id = "b" if working == "a" else "a"
    ingest = Ingest([survivor])
    feeding = threading.Thread(target=ingest.run)
    feeding.start()
    try:
        payloads = Payloads(survivor)
        wait_for(lambda: payloads.read(), what="deliveries before the kill")
        killed = time.monotonic()
        victim.kill()
        wait_for(lambda: holder(leases, name) == survivor_id, timeout=10,
                 what="the survivor to hold the subscription")  # fmt: skip
        took = time.monotonic() - killed
        sent_at_takeover = {s: len(ingest.sent[s]) for s in STREAMS}
        wait_for(lambda: all(len(ingest.sent[s]) > sent_at_takeover[s] + 100 for s in STREAMS),
                 what="ingest to go on after the takeover")  # fmt: skip
    finally:
        ingest.stop.set()
        feeding.join(30)
    assert took <= 5.0, f"the takeover took {took:.2f} s"
    wait_for(lambda: payloads.read() and all(
        set(payloads.messages(s)) >= set(ingest.sent[s]) for s in STREAMS
    ), what="every acknowledged matched event delivered")  # fmt: skip
    for stream in STREAMS:
        delivered = payloads.messages(stream)
        assert _first_seen(delivered) == ingest.sent[stream]  # at least once, in order
        for payload in payloads.payloads:
            if payload["logStream"] == stream:
                numbers = [int(e["message"].split()[-1]) for e in payload["logEvents"]]
                assert numbers == sorted(numbers)


def test_events_put_through_the_other_node_wake_the_working_node_at_once(
    node: Callable[..., Server], leases: Leases
) -> None:
    """With the poll a minute apart, only the cluster-wide append signal can bring events put
    through the node that does not work the subscription to it in time."""
    slow_poll = {"LOGSIEVE_CLUSTER_POLL_SECONDS": "60"}
    servers = {"a": node("a", **slow_poll), "b": node("b", **slow_poll)}
    _setup(servers["a"])
    name = wait_for(lambda: _subscription_lease(leases), what="a node to take the subscription")
    other = servers["b" if holder(leases, name) == "a" else "a"]
    payloads = Payloads(other)
    ingest = Ingest([other])
    for through in range(3):
        ingest.batch(through)
        put = time.monotonic()
        wait_for(lambda: payloads.read() and all(
            payloads.messages(s) == ingest.sent[s] for s in STREAMS
        ), timeout=20, what="the events put through the other node")  # fmt: skip
        assert time.monotonic() - put < 10
