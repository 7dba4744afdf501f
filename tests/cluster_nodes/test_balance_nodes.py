"""Six subscription filters (one per log group, to a Lambda-style handler that records which
node ran each payload), two logsieve nodes on one NATS cluster: the subscriptions are spread
3 and 3. A node that joins while the other works all six gets its share by a planned handover
(every event delivered once, in order per log stream, the status of each node right); when a
node is SIGKILLed the survivor takes all six within 5 s (at least once, in order)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from logsieve.storage.leases import Leases
from tests.cluster_nodes.conftest import declared_function
from tests.server import ACCESS_KEY, SECRET_KEY, Server, client
from tests.waiting import wait_for

GROUPS = [f"/balance/g{number}" for number in range(6)]
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:record"
HANDLER = """
import base64, gzip, json, os


def handler(event, context):
    payload = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    if payload["messageType"] != "DATA_MESSAGE":
        return
    numbers = " ".join(e["message"] for e in payload["logEvents"])
    line = f"{os.environ['AWS_ENDPOINT_URL']} {payload['logGroup']} {numbers}\\n"
    out = os.open(os.environ["OUT_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(out, line.encode())
    finally:
        os.close(out)
"""


@pytest.fixture
def extra_config(tmp_path: Path) -> str:
    more = "timeout = 60\nmax_concurrency = 8\n"
    more += f'environment = {{ OUT_FILE = "{tmp_path / "handled.txt"}" }}\n'
    return declared_function(tmp_path, "record", "record_handler", HANDLER, more)


def _setup(server: Server) -> None:
    logs = client(server, "logs")
    for group in GROUPS:
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s")
        logs.put_subscription_filter(logGroupName=group, filterName="all", filterPattern="",
                                     destinationArn=FUNCTION_ARN)  # fmt: skip


def _split(leases: Leases) -> Counter[str]:
    """How many subscriptions each node holds."""
    return Counter(lease.node for lease in leases.held("subscription/"))


class Handled:
    """The payloads the handler ran, in the order it finished them: (node, group, numbers)."""

    def __init__(self, path: Path, servers: dict[str, Server]) -> None:
        self.path = path
        self.servers = servers

    def read(self) -> list[tuple[str, str, list[int]]]:
        if not self.path.exists():
            return []
        nodes = {urlsplit(s.url).port: name for name, s in self.servers.items()}
        found = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            endpoint, group, *numbers = line.split()
            found.append((nodes[urlsplit(endpoint).port], group, [int(n) for n in numbers]))
        return found

    def numbers(self, group: str) -> list[int]:
        return [n for _, g, numbers in self.read() if g == group for n in numbers]

    def last_node(self) -> dict[str, str]:
        """The node that ran each group's last payload."""
        return {group: node for node, group, _ in self.read()}


class Ingest:
    """Puts numbered events into every group through ``server``, one batch per group and
    round; keeps the acknowledged numbers (a 200) per group."""

    def __init__(self, server: Server) -> None:
        self.logs = client(server, "logs")
        self.sent: dict[str, list[int]] = {group: [] for group in GROUPS}
        self.stop = threading.Event()
        self.number = 0

    def round(self, size: int = 5) -> None:
        for group in GROUPS:
            numbers = list(range(self.number, self.number + size))
            now = int(time.time() * 1000)
            events = [{"timestamp": now, "message": str(n)} for n in numbers]
            try:
                self.logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=events)
            except Exception:  # not acknowledged
                continue
            self.sent[group] += numbers
        self.number += size

    def run(self) -> None:
        while not self.stop.is_set():
            self.round()
            time.sleep(0.05)  # the ingest rate, not a synchronisation

    def total(self) -> int:
        return sum(len(numbers) for numbers in self.sent.values())


def _elsewhere(server: Server) -> dict[str, bool]:
    """Per log group, whether ``logsieve subscriptions --json`` on ``server`` says another
    node works its subscription."""
    env = {"LOGSIEVE_ACCESS_KEY_ID": ACCESS_KEY, "LOGSIEVE_SECRET_ACCESS_KEY": SECRET_KEY,
           "LOGSIEVE_CONFIG": "", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "logsieve", "subscriptions", "--json", "--endpoint-url",
         server.url],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    found = json.loads(result.stdout)["subscriptions"]
    return {item["logGroupName"]: item["state"] == "elsewhere" for item in found}


def _feeding(ingest: Ingest) -> threading.Thread:
    thread = threading.Thread(target=ingest.run)
    thread.start()
    return thread


def test_a_node_that_joins_gets_its_share_by_a_planned_handover_without_duplicates(
    node: Callable[..., Server], leases: Leases, tmp_path: Path
) -> None:
    # A long lease: on a loaded machine a renewal late by seconds must not turn the planned
    # handover into a failover (which may deliver twice); the node settles for one lease time.
    slow = {"LOGSIEVE_CLUSTER_LEASE_SECONDS": "10"}
    servers = {"a": node("a", **slow)}
    handled = Handled(tmp_path / "handled.txt", servers)
    _setup(servers["a"])
    wait_for(lambda: _split(leases) == {"a": 6}, timeout=30, what="node a to work all six")
    # b starts before the ingest, which then runs through b's settling and the handover. (A
    # starting node leaves a's warm workers alone: functions declared in the config file are
    # each node's own, never written to the shared store; test_declared_function_nodes.py.)
    servers["b"] = node("b", **slow)
    ingest = Ingest(servers["a"])
    feeder = _feeding(ingest)
    try:
        wait_for(lambda: {g for _, g, _ in handled.read()} == set(GROUPS), timeout=30,
                 what="deliveries from every group")  # fmt: skip
        assert set(_split(leases)) == {"a"}, "handed over before b settled"
        wait_for(lambda: _split(leases) == {"a": 3, "b": 3}, timeout=60,
                 what="the subscriptions to be split 3 and 3")  # fmt: skip
        moved = {lease.name: lease.node for lease in leases.held("subscription/")}
        sent = ingest.total()
        wait_for(lambda: ingest.total() > sent + 300, what="ingest to go on after the split")
    finally:
        ingest.stop.set()
        feeder.join(30)
    wait_for(lambda: all(handled.numbers(g)[-1:] == ingest.sent[g][-1:] for g in GROUPS),
             timeout=60, what="every acknowledged event handled")  # fmt: skip
    for group in GROUPS:
        assert handled.numbers(group) == ingest.sent[group], group  # once each, in order
    last = handled.last_node()
    assert Counter(last.values()) == {"a": 3, "b": 3}
    runs = [(node_, group) for node_, group, _ in handled.read()]
    for group in GROUPS:  # moved once: from a to b, never back
        nodes = [node_ for node_, g in runs if g == group]
        assert nodes == sorted(nodes), (group, nodes)
    assert {lease.name: lease.node for lease in leases.held("subscription/")} == moved
    for name, server in servers.items():
        assert _elsewhere(server) == {group: last[group] != name for group in GROUPS}


def test_two_nodes_split_the_work_and_the_survivor_of_a_sigkill_takes_it_all_within_5_s(
    node: Callable[..., Server], leases: Leases, tmp_path: Path
) -> None:
    a, b = node("a"), node("b")
    handled = Handled(tmp_path / "handled.txt", {"a": a, "b": b})
    _setup(a)
    wait_for(lambda: sorted(_split(leases).values()) == [3, 3], timeout=60,
             what="the subscriptions to be split 3 and 3")  # fmt: skip
    ingest = Ingest(a)
    feeder = _feeding(ingest)
    try:
        wait_for(lambda: {n for n, _, _ in handled.read()} == {"a", "b"}, timeout=30,
                 what="both nodes to deliver")  # fmt: skip
        killed = time.monotonic()
        b.kill()
        wait_for(lambda: _split(leases) == {"a": 6}, timeout=10,
                 what="the survivor to work all six")  # fmt: skip
        took = time.monotonic() - killed
        sent = ingest.total()
        wait_for(lambda: ingest.total() > sent + 300, what="ingest to go on after the kill")
    finally:
        ingest.stop.set()
        feeder.join(30)
    assert took <= 5.0, f"the takeover took {took:.2f} s"
    wait_for(lambda: all(set(handled.numbers(g)) >= set(ingest.sent[g]) for g in GROUPS),
             timeout=60, what="every acknowledged event handled")  # fmt: skip
    for group in GROUPS:  # at least once, in order
        assert list(dict.fromkeys(handled.numbers(group))) == ingest.sent[group], group
    assert set(handled.last_node().values()) == {"a"}
