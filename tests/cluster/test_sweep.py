"""The coordinator loop sweeps the leases of jobs that no longer exist: on SQLite its one node,
on a shared engine only the first live node, and never a lease that is held. Real lease
stores: SQLite's and JetStream's on a real 3-node cluster."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable

import pytest

from logsieve.cluster import Ownership
from logsieve.storage.leases import Leases
from tests.cluster.test_ownership import _start, _stop, until

SWEEP_EVERY = 0.3
SWEEP_AFTER = 0.2  # seconds expired before a lease is swept (10 TTLs by default)


def _gone(leases: Leases, *names: str) -> None:
    """Leases of jobs (and a node) that no longer exist: expired at once, never renewed."""
    for name in names:
        assert leases.acquire(name, "gone", 1) is not None


def _node(leases: Leases, name: str, settle: float | None = None) -> Ownership:
    """A node sweeping every ``SWEEP_EVERY`` the leases expired ``SWEEP_AFTER`` ago."""
    return Ownership(
        leases, name, 3.0, settle=settle, sweep_every=SWEEP_EVERY, sweep_after=SWEEP_AFTER
    )


def _swept(caplog: pytest.LogCaptureFixture) -> list[tuple[str, int]]:
    """(node, count) of each sweep the loops logged."""
    found = []
    for record in caplog.records:
        match = re.search(r"event=leases_swept node=(\S+) count=(\d+)", record.getMessage())
        if match:
            found.append((match[1], int(match[2])))
    return found


def test_a_single_node_sweeps_expired_leases_and_keeps_held_ones(
    local_leases: Leases, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="logsieve.cluster")

    async def scenario() -> None:
        node = _node(local_leases, "solo")
        _gone(local_leases, "subscription/deleted/f", "metric-filters/deleted")
        rounds = _start(node.run())
        held = _start(node.hold("outbox", lambda fence: asyncio.Event().wait()))
        await until(lambda: ("solo", 2) in _swept(caplog), 10, "the loop to sweep both")
        assert local_leases.sweep(0) == 0  # nothing expired is left
        assert [lease.name for lease in local_leases.held()] == ["outbox"]
        await _stop(held, rounds)

    asyncio.run(scenario())


def test_only_the_first_live_node_sweeps_on_a_shared_store(
    shared_leases: Callable[[], Leases], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="logsieve.cluster")
    store = shared_leases()

    async def scenario() -> None:
        a, b = (_node(shared_leases(), node, settle=0.1) for node in ("a", "b"))
        assert store.acquire("alarms", "x", 60_000) is not None  # another node's, live
        _gone(store, "subscription/deleted/f", "node/gone/1")
        a_rounds = _start(a.run())
        await until(lambda: any(lease.node == "a" for lease in store.held()), 10, "a to join")
        b_rounds = _start(b.run())
        await until(lambda: ("a", 2) in _swept(caplog), 10, "a to sweep both")
        assert store.sweep(0) == 0
        _gone(store, "subscription/deleted/g")  # deleted later: the next sweep takes it
        await until(lambda: ("a", 1) in _swept(caplog), 10, "a to sweep again")
        started = time.monotonic()
        await until(lambda: time.monotonic() - started > 3 * SWEEP_EVERY, 10, "more rounds")
        assert {node for node, _ in _swept(caplog)} == {"a"}, "b swept while a was live"
        held = [lease.name for lease in store.held()]
        assert "alarms" in held and sum(name.startswith("node/") for name in held) == 2
        await _stop(a_rounds)
        await until(lambda: "b" in dict(_swept(caplog)), 10, "b to sweep once a left")
        await _stop(b_rounds)

    asyncio.run(scenario())
