"""Balancing on real JetStream leases: a node that joins gets its share handed over between two
units of work (never two runs of a job at once, no unit cut short), and a node's death still
moves its jobs within TTL + TTL/3. On SQLite nothing is balanced and no presence is kept."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

from logsieve.cluster import Fence, Ownership
from logsieve.storage.leases import Leases
from tests.cluster.test_ownership import until

TTL = 1.0
JOBS = [f"subscription/{group}/f" for group in range(1, 7)]


class Units:
    """Each run of each job, and its units of work: (node, job, started, ended)."""

    def __init__(self) -> None:
        self.runs: list[list[Any]] = []
        self.cut: list[tuple[str, str]] = []  # units interrupted midway

    def job(self, node: str, name: str) -> Callable[[Fence], Coroutine[Any, Any, None]]:
        async def work(fence: Fence) -> None:
            run = [node, name, time.monotonic(), None]
            self.runs.append(run)
            try:
                while True:
                    with fence.work():
                        try:
                            await asyncio.sleep(0.05)  # a window read, delivered, committed
                        except asyncio.CancelledError:
                            self.cut.append((node, name))
                            raise
                    await asyncio.sleep(0.01)
            finally:
                run[3] = time.monotonic()

        return work

    def working(self) -> dict[str, str]:
        return {name: node for node, name, _, end in self.runs if end is None}

    def assert_one_run_at_a_time(self) -> None:
        for name in JOBS:
            spans = sorted((r[2], r[3] or float("inf")) for r in self.runs if r[1] == name)
            for (_, end), (start, _) in itertools.pairwise(spans):
                assert end <= start, (name, spans)


def test_a_joining_node_gets_its_share_between_units_and_a_dead_ones_move_back(
    shared_leases: Callable[[], Leases],
) -> None:
    async def scenario() -> None:
        units = Units()
        a, b = Ownership(shared_leases(), "a", TTL), Ownership(shared_leases(), "b", TTL)
        a_run = asyncio.create_task(a.run())
        a_jobs = [asyncio.create_task(a.hold(n, units.job("a", n))) for n in JOBS]
        await until(lambda: len(units.working()) == 6, 10, "node a to work every job")
        assert set(units.working().values()) == {"a"}
        b_run = asyncio.create_task(b.run())
        b_jobs = [asyncio.create_task(b.hold(n, units.job("b", n))) for n in JOBS]
        await until(lambda: Counter(units.working().values()) == {"a": 3, "b": 3}, 15,
                    "an even split")  # fmt: skip
        moved = len(units.runs) - 6
        await asyncio.sleep(3 * TTL)  # the split holds: nothing moves back and forth
        assert len(units.runs) - 6 == moved == 3
        assert units.cut == []
        units.assert_one_run_at_a_time()
        dead = time.monotonic()
        a_run.cancel()  # a stops renewing, as a dead node does
        await until(lambda: units.working() == dict.fromkeys(JOBS, "b"), 10,
                    "node b to take every job")  # fmt: skip
        assert time.monotonic() - dead <= TTL + TTL / 3 + 1.0
        units.assert_one_run_at_a_time()
        for task in [*a_jobs, *b_jobs, b_run]:
            task.cancel()
        await asyncio.gather(*a_jobs, *b_jobs, b_run, a_run, return_exceptions=True)

    asyncio.run(scenario())


def test_a_job_only_one_node_knows_is_taken_by_it_and_kept(
    shared_leases: Callable[[], Leases],
) -> None:
    """The job's assigned node does not hold it (its configuration lacks it): the node that
    knows it takes it after it stayed free for a TTL and does not hand it over again."""

    async def scenario() -> None:
        units = Units()
        a, b = Ownership(shared_leases(), "a", TTL), Ownership(shared_leases(), "b", TTL)
        tasks = [asyncio.create_task(a.run()), asyncio.create_task(b.run())]
        await asyncio.sleep(2 * TTL)  # both settled (the clock of the settle time)
        tasks += [asyncio.create_task(a.hold(n, units.job("a", n))) for n in JOBS]
        await until(lambda: len(units.working()) == 6, 10, "node a to work every job")
        await asyncio.sleep(4 * TTL)
        assert len(units.runs) == 6 and units.cut == []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(scenario())


def test_sqlite_keeps_no_presence_and_balances_nothing(local_leases: Leases) -> None:
    async def scenario() -> None:
        node = Ownership(local_leases, "solo", TTL)
        units = Units()
        tasks = [asyncio.create_task(node.hold(n, units.job("solo", n))) for n in JOBS]
        await until(lambda: len(units.working()) == 6, 5, "every job")
        await node.tick()
        assert [lease.name for lease in local_leases.held()] == JOBS
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(scenario())
