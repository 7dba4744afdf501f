"""Ownership: a job runs on one node only, moves when its node dies, stops before another
starts, and a node that lost its lease cannot pass its fence. Real lease stores: SQLite's and
JetStream's on a real 3-node cluster."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from logsieve.cluster import Fence, LeaseLost, Ownership
from logsieve.storage.leases import Leases

TTL = 3.0  # the default [cluster] lease_seconds


async def until(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(0.02)


class Runs:
    """When each node's job ran: (node, start, stop) by the monotonic clock."""

    def __init__(self) -> None:
        self.spans: list[list[Any]] = []
        self.fences: dict[str, Fence] = {}

    def job(self, node: str) -> Callable[[Fence], Coroutine[Any, Any, None]]:
        async def work(fence: Fence) -> None:
            span = [node, time.monotonic(), None]
            self.spans.append(span)
            self.fences[node] = fence
            try:
                await asyncio.Event().wait()
            finally:
                span[2] = time.monotonic()

        return work

    def running(self) -> list[str]:
        return [node for node, _, stop in self.spans if stop is None]

    def assert_never_two_at_once(self) -> None:
        spans = sorted(self.spans, key=lambda span: span[1])
        for before, after in itertools.pairwise(spans):
            assert before[2] is not None and before[2] <= after[1], spans


def _start(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    return asyncio.create_task(coro)


async def _stop(*tasks: asyncio.Task[None]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def test_a_held_job_starts_at_once_and_its_lease_goes_when_it_is_cancelled(
    local_leases: Leases,
) -> None:
    async def scenario() -> None:
        node = Ownership(local_leases, "solo", TTL)
        runs = Runs()
        held = _start(node.hold("outbox", runs.job("solo")))
        await until(lambda: runs.running() == ["solo"], 5, "the job to start")
        assert node.holding() == ["outbox"]
        assert [(lease.name, lease.node) for lease in local_leases.held()] == [("outbox", "solo")]
        runs.fences["solo"].check()  # held: passes
        await _stop(held)
        assert runs.running() == []
        assert local_leases.held() == []

    asyncio.run(scenario())


def test_one_node_runs_the_job_and_the_other_takes_over_within_5_s_of_its_death(
    shared_leases: Callable[[], Leases],
) -> None:
    """Node a stops renewing (as a frozen or dead process does): its own job stops on its
    local deadline, before node b starts the job, and b starts it within 5 s."""

    async def scenario() -> None:
        a, b = Ownership(shared_leases(), "a", TTL), Ownership(shared_leases(), "b", TTL)
        runs = Runs()
        tasks = [_start(a.run()), _start(a.hold("alarms", runs.job("a")))]
        await until(lambda: runs.running() == ["a"], 10, "node a to start the job")
        tasks += [_start(b.run()), _start(b.hold("alarms", runs.job("b")))]
        await asyncio.sleep(TTL)  # b looks three times: a holds the job throughout
        assert runs.running() == ["a"] and b.holding() == []
        dead = time.monotonic()
        tasks[0].cancel()  # a's renewals stop
        await until(lambda: runs.running() == ["b"], 10, "node b to take the job over")
        started = runs.spans[-1][1]
        assert started - dead <= 5.0, f"took {started - dead:.2f} s"
        runs.assert_never_two_at_once()
        with pytest.raises(LeaseLost):
            runs.fences["a"].check()
        runs.fences["b"].check()
        await _stop(*tasks)

    asyncio.run(scenario())


def test_a_node_shutting_down_hands_its_jobs_over_at_the_next_round(
    shared_leases: Callable[[], Leases],
) -> None:
    async def scenario() -> None:
        a, b = Ownership(shared_leases(), "a", TTL), Ownership(shared_leases(), "b", TTL)
        runs = Runs()
        a_tasks = [_start(a.run()), _start(a.hold("retention", runs.job("a")))]
        await until(lambda: runs.running() == ["a"], 10, "node a to start the job")
        b_tasks = [_start(b.run()), _start(b.hold("retention", runs.job("b")))]
        await asyncio.sleep(0.2)
        stopped = time.monotonic()
        await _stop(*a_tasks)  # releases the lease
        await until(lambda: runs.running() == ["b"], 5, "node b to take the job over")
        assert runs.spans[-1][1] - stopped <= TTL / 3 + 1.0
        runs.assert_never_two_at_once()
        await _stop(*b_tasks)

    asyncio.run(scenario())


def test_a_fence_fails_as_soon_as_another_node_holds_the_lease(
    shared_leases: Callable[[], Leases],
) -> None:
    """The check asks the store, so a write is refused even before this node's next round
    notices the loss (a paused process waking up after its lease moved)."""

    async def scenario() -> None:
        store = shared_leases()
        a = Ownership(store, "a", TTL)
        runs = Runs()
        held = _start(a.hold("subscription/1/f", runs.job("a")))
        await until(lambda: runs.running() == ["a"], 10, "the job to start")
        fence = runs.fences["a"]
        await asyncio.to_thread(fence.check)
        other = shared_leases()
        mine = store.held()[0]
        store.release(mine)  # as if it expired while this node was paused
        assert other.acquire("subscription/1/f", "b", 60_000) is not None
        with pytest.raises(LeaseLost):
            await asyncio.to_thread(fence.check)
        await _stop(held)

    asyncio.run(scenario())


def test_a_job_held_again_while_the_last_hold_still_stops_runs_after_it(
    local_leases: Leases,
) -> None:
    """A changed subscription filter: its pump is cancelled and a new one held under the same
    name at once, before the old one finished stopping."""

    async def scenario() -> None:
        node = Ownership(local_leases, "solo", TTL)
        runs = Runs()
        first = _start(node.hold("subscription/1/f", runs.job("old")))
        await until(lambda: runs.running() == ["old"], 5, "the first job")
        first.cancel()
        second = _start(node.hold("subscription/1/f", runs.job("new")))
        await until(lambda: runs.running() == ["new"], 5, "the second job")
        runs.assert_never_two_at_once()
        assert first.cancelled()
        await _stop(second)

    asyncio.run(scenario())


def test_a_fence_passes_while_its_own_renewal_is_written_but_not_yet_applied(
    shared_leases: Callable[[], Leases],
) -> None:
    """The coordinator renews in a worker thread while a pump checks its fence in another: the
    store already holds the newer token when the node still knows the older one."""

    async def scenario() -> None:
        store = shared_leases()
        a = Ownership(store, "a", TTL)
        runs = Runs()
        held = _start(a.hold("subscription/1/f", runs.job("a")))
        await until(lambda: runs.running() == ["a"], 10, "the job to start")
        (mine,) = store.held()
        assert await asyncio.to_thread(store.renew, mine, 60_000) is not None  # not applied
        await asyncio.to_thread(runs.fences["a"].check)
        await _stop(held)

    asyncio.run(scenario())


def test_a_hold_cancelled_while_its_job_stops_after_a_lost_lease_ends(
    local_leases: Leases,
) -> None:
    """The server stopping just as a lease is lost (its NATS cluster gone): the hold is
    cancelled while it waits for the job to stop, and must end, not wait for the lease to
    come back (a node never exited)."""

    async def scenario() -> None:
        node = Ownership(local_leases, "solo", TTL)
        stopping = asyncio.Event()

        async def slow_to_stop(fence: Fence) -> None:
            try:
                await asyncio.Event().wait()
            finally:
                stopping.set()
                await asyncio.sleep(0.5)  # e.g. a component's stop() flushing

        rounds = _start(node.run())
        held = _start(node.hold("outbox", slow_to_stop))
        await until(lambda: node.holding() == ["outbox"], 5, "the job to start")
        (lease,) = local_leases.held()
        local_leases.release(lease)
        assert local_leases.acquire("outbox", "thief", int(TTL * 1000)) is not None
        await until(stopping.is_set, 5, "the lost lease to stop the job")
        held.cancel()
        done, _ = await asyncio.wait({held}, timeout=5)
        assert done == {held}, "the hold did not end after it was cancelled"
        assert held.cancelled()
        await _stop(rounds)

    asyncio.run(scenario())


SINGLETONS = ["alarms", "outbox", "alert-ticks", "retention", "sources", "metric-retention"]


def test_a_dead_nodes_singletons_spread_over_the_survivors(
    shared_leases: Callable[[], Leases],
) -> None:
    """Singletons are never moved while held, but a free one goes to its first choice among
    the live nodes: when the node holding them all dies, each survivor takes its own instead
    of the quickest taking every one."""
    from logsieve.cluster.balance import first_choice

    async def scenario() -> None:
        nodes = {name: Ownership(shared_leases(), name, TTL) for name in "abc"}
        runs = {job: Runs() for job in SINGLETONS}
        a_run = _start(nodes["a"].run())
        tasks = [_start(nodes["a"].hold(job, runs[job].job("a"))) for job in SINGLETONS]
        await until(lambda: len(nodes["a"].holding()) == len(SINGLETONS), 10, "a to hold all")
        for name in "bc":
            tasks.append(_start(nodes[name].run()))
            tasks += [_start(nodes[name].hold(job, runs[job].job(name))) for job in SINGLETONS]
        await asyncio.sleep(TTL + 1)  # b and c settle; a keeps every singleton meanwhile
        assert nodes["a"].holding() == sorted(SINGLETONS)
        a_run.cancel()  # a's renewals stop: its leases expire
        await until(
            lambda: all(r.running() and r.running() != ["a"] for r in runs.values()),
            10,
            "the survivors to take every singleton",
        )
        taken = {job: runs[job].running()[0] for job in SINGLETONS}
        assert taken == {job: first_choice(job, ("b", "c")) for job in SINGLETONS}
        assert set(taken.values()) == {"b", "c"}  # these names split (checked, not assumed)
        for r in runs.values():
            r.assert_never_two_at_once()
        await _stop(a_run, *tasks)

    asyncio.run(scenario())
