"""Running a background job on exactly one node: only while this node holds its lease.

Each job (the alarm evaluation, the outbox senders, one subscription filter's pump...) is
``hold(name, job)``: the job starts when this node acquires the lease ``name`` and is cancelled
as soon as the lease is lost, then waits to get it back. One coordinator loop per node
(``run``) renews every held lease each third of the TTL and tries to acquire the others, so a
dead node's jobs move to a live one within TTL + TTL/3.

A node must stop before another may start. On a shared engine each lease therefore also has a
local deadline, the TTL counted from *before* the renewal was sent (the store counts it from
when the write arrived, later), less a margin for clock skew; a job still running when it
passes is cancelled even if the renewal only hangs. A job writing progress (a cursor, a
metric position) checks its ``Fence`` first, in the same worker thread as the write: a node
that lost its lease cannot move a cursor back or forward.

On a shared engine the per-item jobs are also spread over the live nodes (cluster/balance.py):
each round the coordinator looks at every lease, works out which node each job should be on,
and hands over the jobs this node holds that belong elsewhere. A handover is planned, not a
failure: the job is asked to stop at its next safe point (``Fence.work`` marks a unit of work:
read, deliver, commit), its fence is then closed, and only then is the lease released, so the
next node starts from the committed cursor. A node takes a free job that is another's only
when it stayed free for a TTL (that node does not know the job), and keeps it until the live
set changes.

On SQLite (one process, ``leases.shared`` false) nobody else can take a lease, so there is no
deadline, no remote check and no balancing: jobs run as they did before leases existed.

Leases of jobs that no longer exist (a deleted subscription, a node's past presence) would stay
in the store for every round's look to read: every minute the first live node (by id; the only
one on SQLite) sweeps the leases expired for more than 10 TTLs, beside the rounds so a slow
store never delays a renewal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from logsieve.storage.leases import Lease, Leases

from .balance import PRESENCE, assign, balanced, first_choice, live_nodes, members, presence_name
from .settings import ClusterSettings

__all__ = ["Fence", "HandedOver", "LeaseLost", "Ownership", "build_ownership", "working"]

log = logging.getLogger("logsieve.cluster")

Job = Callable[["Fence"], Coroutine[Any, Any, None]]
_MARGIN = 0.5  # seconds of a lease a node gives up early: clock skew and a write in flight
_CATCH_SECONDS = 0.1  # how often a node looks for a job being handed over to it
_SWEEP_SECONDS = 60.0  # how often expired leases are swept
_SWEEP_TTLS = 10  # how long a lease must have been expired to be swept, in TTLs


class LeaseLost(Exception):
    """The job's lease is no longer this node's: stop, do not write."""


class HandedOver(LeaseLost):
    """The job is being handed over to another node: stop before the next unit of work."""


@dataclass(frozen=True)
class _View:
    """The cluster as one round saw it: live nodes, who should work what, who does."""

    live: tuple[str, ...]
    jobs: frozenset[str]
    assignment: dict[str, str]
    holders: dict[str, str]


class _Claim:
    """One job's lease as this node sees it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lease: Lease | None = None
        self.granted = asyncio.Event()
        self.lost = asyncio.Event()
        self.busy = False  # an acquisition in flight
        self.active = True  # the job is still held (not cancelled)
        self.fence: Fence | None = None  # the run in progress
        self.finished = asyncio.Event()  # the hold ended and its lease was given up
        self.moving = asyncio.Event()  # a handover to another node is asked for
        self.kept_for: tuple[str, ...] | None = None  # taken as nobody's: kept for this live set
        self._timer: asyncio.TimerHandle | None = None

    def grant(self, lease: Lease, deadline: float | None) -> None:
        self.lease = lease
        self.lost.clear()
        self.moving.clear()  # a handover asked for under an earlier grant is moot
        self.granted.set()
        self._expire_at(deadline)

    def renewed(self, lease: Lease, deadline: float | None) -> None:
        self.lease = lease
        self._expire_at(deadline)

    def lose(self) -> None:
        self.lease = None
        self.granted.clear()
        self.lost.set()
        self._expire_at(None)

    def _expire_at(self, deadline: float | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if deadline is not None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_at(loop.time() + deadline - time.monotonic(), self._expired)

    def _expired(self) -> None:
        log.warning("event=lease_expired name=%s: not renewed in time; job stopped", self.name)
        self.lose()


class Fence:
    """The lease one run of a job holds; ``check`` before a write only the holder may make."""

    def __init__(self, ownership: Ownership, claim: _Claim) -> None:
        self._ownership = ownership
        self._claim = claim
        self.draining = False  # a handover waits for the unit of work in progress
        self.busy = False
        self.idle = asyncio.Event()

    @contextlib.contextmanager
    def work(self) -> Iterator[None]:
        """One unit of work (read, deliver, commit) that a planned handover lets finish: the
        job is stopped only between units, so the next node starts from its commit. Raises
        ``HandedOver`` when a handover is under way."""
        if self.draining:
            raise HandedOver(self._claim.name)
        self.busy = True
        try:
            yield
        finally:
            self.busy = False
            if self.draining:
                self.idle.set()

    @property
    def token(self) -> int:
        """The lease's current fencing token (0 once lost)."""
        lease = self._claim.lease
        return 0 if lease is None else lease.token

    def valid(self) -> bool:
        """Whether this run still holds the lease, as far as this node knows."""
        claim = self._claim
        return claim.fence is self and claim.lease is not None and not claim.lost.is_set()

    def check(self) -> None:
        """Raise ``LeaseLost`` unless this run holds the lease; on a shared engine the store is
        asked too (blocking: call it from the worker thread that then writes)."""
        lease = self._claim.lease
        if not self.valid() or lease is None:
            raise LeaseLost(self._claim.name)
        leases = self._ownership.leases
        if not leases.shared or leases.valid(lease):
            return
        renewed = self._claim.lease  # renewed meanwhile: the old token is gone, not the lease
        if renewed is not None and renewed is not lease and leases.valid(renewed):
            return
        # A renewal written but not yet applied here (it runs in another thread): the store
        # holds a newer token of this node's while this run still holds the claim. A lost and
        # re-acquired lease is a new run with a new fence, refused by ``valid`` above.
        current = [held for held in leases.held(lease.name) if held.name == lease.name]
        ours = current and current[0].node == lease.node and current[0].token > lease.token
        if ours and self.valid():
            return
        raise LeaseLost(self._claim.name)


class Ownership:
    """This node's jobs and their leases (``node``: this node's id, ``ttl``: seconds)."""

    def __init__(
        self,
        leases: Leases,
        node: str,
        ttl: float = 3.0,
        settle: float | None = None,
        clock: Callable[[], float] = time.time,
        sweep_every: float = _SWEEP_SECONDS,
        sweep_after: float | None = None,
    ) -> None:
        self.leases = leases
        self.node = node
        self.ttl = ttl
        #: how long a node that joined waits before jobs are handed over to it (default: TTL)
        self.settle = ttl if settle is None else settle
        self._clock = clock
        self._claims: dict[str, _Claim] = {}
        self._presence: Lease | None = None  # shared engines: this node's presence lease
        self._view: _View | None = None
        self._free_since: dict[str, float] = {}  # jobs seen free, not ours, since (monotonic)
        self._catching: asyncio.Task[None] | None = None
        #: every how many seconds, and expired for how long (default: 10 TTLs), leases are swept
        self.sweep_every = sweep_every
        self.sweep_after = ttl * _SWEEP_TTLS if sweep_after is None else sweep_after
        self._sweep_at = time.monotonic() + sweep_every
        self._sweeping: asyncio.Task[None] | None = None

    @property
    def _ttl_ms(self) -> int:
        return max(1, int(self.ttl * 1000))

    def _deadline(self, sent: float) -> float | None:
        if not self.leases.shared:
            return None
        return sent + self.ttl - min(_MARGIN, self.ttl / 6)

    def holding(self) -> list[str]:
        """The names of the jobs this node holds now."""
        return sorted(name for name, claim in self._claims.items() if claim.lease is not None)

    # --- the coordinator --------------------------------------------------------------------

    async def run(self) -> None:
        """Renew what is held and try for what is not, every third of the TTL (forever); on a
        shared engine also keep this node's presence, given up when the loop is cancelled."""
        try:
            if self.leases.shared:
                with contextlib.suppress(Exception):  # the first round tries again
                    await self._join()
            while True:
                await asyncio.sleep(self.ttl / 3)
                try:
                    await self.tick()
                except Exception:  # the deadlines stop jobs whose leases were not renewed
                    log.exception("event=lease_round_failed node=%s", self.node)
        finally:
            for task in (self._catching, self._sweeping):
                if task is not None:
                    await _cancelled(task)
            presence, self._presence = self._presence, None
            if presence is not None:
                await self._release(presence)

    async def tick(self) -> None:
        """One round: renew every held lease, look at the cluster and hand over what belongs
        to another node (shared engines), then try to acquire the others."""
        held = [claim for claim in self._claims.values() if claim.lease is not None]
        if held or self._presence is not None:
            await self._renew(held)
        if self.leases.shared:
            if self._presence is None:
                await self._join()
            names = [name for name in self._claims if balanced(name)]
            self._view = await asyncio.to_thread(self._look, names)
            self._hand_over_surplus(self._view)
        wanted = [c for c in self._claims.values() if c.lease is None and not c.busy]
        wanted = [claim for claim in wanted if self._may_take(claim)]
        if wanted:
            await self._acquire(wanted)
        if self._view is not None and (self._catching is None or self._catching.done()):
            due = self._due(self._view)
            if due:
                self._catching = asyncio.create_task(self._catch(due), name="lease catch")
        if self._sweep_due():
            self._sweeping = asyncio.create_task(self._sweep(), name="lease sweep")

    # --- sweeping expired leases ------------------------------------------------------------

    def _sweep_due(self) -> bool:
        """Whether this node sweeps now: a sweep interval has passed since its last one and,
        on a shared engine, it is the first live node (by id) in the round's view."""
        if self._sweeping is not None and not self._sweeping.done():
            return False
        if time.monotonic() < self._sweep_at:
            return False
        if self.leases.shared and (self._view is None or self._view.live[:1] != (self.node,)):
            return False
        self._sweep_at = time.monotonic() + self.sweep_every
        return True

    async def _sweep(self) -> None:
        older_than_ms = int(self.sweep_after * 1000)
        try:
            swept = await asyncio.to_thread(self.leases.sweep, older_than_ms)
        except Exception as exc:  # the next interval tries again
            log.warning("event=lease_sweep_failed node=%s error=%s", self.node, exc)
            return
        level = logging.INFO if swept else logging.DEBUG
        log.log(level, "event=leases_swept node=%s count=%d", self.node, swept)

    # --- balancing (shared engines) -----------------------------------------------------------

    async def _join(self) -> None:
        """Announce this node (a new run of it: a new presence, settling again)."""
        name = presence_name(self.node, int(self._clock() * 1000))
        self._presence = await asyncio.to_thread(self.leases.acquire, name, self.node, self._ttl_ms)
        log.info("event=node_joined node=%s", self.node)

    def _look(self, names: list[str]) -> _View:
        """Who is live, who should work what, who does (a worker thread: one store read)."""
        leases = self.leases.held()
        now_ms = int(self._clock() * 1000)
        margin_ms = int(min(_MARGIN, self.ttl / 6) * 1000)
        live = live_nodes(members(leases), self.node, now_ms, int(self.settle * 1000), margin_ms)
        # every job's holder (singletons too: a held one is nobody's to take)
        holders = {
            lease.name: lease.node for lease in leases if not lease.name.startswith(PRESENCE)
        }
        jobs = frozenset(name for name in holders if balanced(name)) | frozenset(names)
        return _View(live, jobs, assign(jobs, live), holders)

    def _hand_over_surplus(self, view: _View) -> None:
        """Ask the jobs this node works that belong to another live node to move there."""
        for claim in self._claims.values():
            if claim.lease is None or claim.fence is None or claim.moving.is_set():
                continue
            target = view.assignment.get(claim.name, self.node)
            if target != self.node and claim.kept_for != view.live:
                log.info("event=lease_handover name=%s node=%s to=%s", claim.name, self.node,
                         target)  # fmt: skip
                claim.moving.set()

    def _may_take(self, claim: _Claim) -> bool:
        """Whether to try for a job not held here: one of this node's share (a singleton:
        one whose first choice this node is), or one that stayed free for a TTL (its node
        does not know it: kept until the live set changes)."""
        view, name = self._view, claim.name
        if view is None:
            return True  # first come (a node's first round)
        if balanced(name):
            jobs = view.jobs if name in view.jobs else view.jobs | {name}
            assignment = view.assignment if name in view.jobs else assign(jobs, view.live)
            target = assignment[name]
        else:
            target = first_choice(name, view.live)  # where a free singleton goes
        if target == self.node:
            claim.kept_for = None
            self._free_since.pop(name, None)
            return True
        if name in view.holders:
            self._free_since.pop(name, None)
            return False
        now = time.monotonic()
        if now - self._free_since.setdefault(name, now) < self.ttl:
            return False
        claim.kept_for = view.live
        del self._free_since[name]  # counted afresh once it is free again
        return True

    def _due(self, view: _View) -> list[str]:
        """This node's jobs that another node still works (being handed over, or soon)."""
        return [
            name
            for name, node in view.assignment.items()
            if node == self.node and view.holders.get(name, node) != node and name in self._claims
        ]

    async def _catch(self, names: list[str]) -> None:
        """Look for the jobs due here every 100 ms until the next round: a handover then
        pauses a job for the other node's stop, not for a third of the TTL more."""
        end = time.monotonic() + self.ttl / 3
        while time.monotonic() < end:
            await asyncio.sleep(_CATCH_SECONDS)
            claims = [self._claims.get(name) for name in names]
            wanted = [c for c in claims if c is not None and c.lease is None and not c.busy]
            if not wanted:
                return
            await self._acquire(wanted)

    async def _hand_over(self, claim: _Claim, task: asyncio.Task[None]) -> None:
        """Stop the job between two units of work, close its fence, then release its lease
        so the other node starts from the last commit."""
        fence = claim.fence
        if fence is not None:
            fence.draining = True
            if fence.busy and not task.done():
                idle = asyncio.create_task(fence.idle.wait())
                lost = asyncio.create_task(claim.lost.wait())
                try:
                    await asyncio.wait({task, idle, lost}, timeout=self.ttl,
                                       return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
                finally:
                    idle.cancel()
                    lost.cancel()
                if fence.busy and not task.done():
                    log.warning("event=handover_forced name=%s node=%s: the job did not "
                                "stop in time", claim.name, self.node)  # fmt: skip
        claim.fence = None  # later checks of this run's fence fail
        await _cancelled(task)
        claim.moving.clear()
        lease = claim.lease
        if lease is None:
            return  # lost meanwhile
        claim.lose()
        self._free_since.pop(claim.name, None)  # not taken back before the other node could
        await self._release(lease)
        log.info("event=lease_handed_over name=%s node=%s", claim.name, self.node)

    # --- leases -----------------------------------------------------------------------------

    async def _renew(self, claims: list[_Claim]) -> None:
        sent = time.monotonic()
        old = [claim.lease for claim in claims]
        presence = self._presence
        sending = old if presence is None else [presence, *old]
        renewed = await asyncio.to_thread(self.leases.renew_many, sending, self._ttl_ms)  # type: ignore[arg-type]
        if presence is not None:
            if renewed[0] is None:
                log.warning("event=presence_lost node=%s: joining again", self.node)
            self._presence, renewed = renewed[0], renewed[1:]
        for claim, before, lease in zip(claims, old, renewed, strict=True):
            if claim.lease is not before:
                continue  # lost (or re-acquired) meanwhile
            if lease is None:
                log.warning("event=lease_lost name=%s node=%s", claim.name, self.node)
                claim.lose()
            else:
                claim.renewed(lease, self._deadline(sent))

    async def _acquire(self, claims: list[_Claim]) -> None:
        for claim in claims:
            claim.busy = True
        sent = time.monotonic()
        try:
            found = await asyncio.to_thread(self._acquire_each, [c.name for c in claims])
        finally:
            for claim in claims:
                claim.busy = False
        for claim, lease in zip(claims, found, strict=True):
            if lease is None:
                continue
            if claim.active and claim.lease is None:
                log.info("event=lease_acquired name=%s node=%s", claim.name, self.node)
                claim.grant(lease, self._deadline(sent))
            else:
                await self._release(lease)

    def _acquire_each(self, names: list[str]) -> list[Lease | None]:
        found: list[Lease | None] = []
        for name in names:
            try:
                found.append(self.leases.acquire(name, self.node, self._ttl_ms))
            except Exception as exc:  # this round only: the next one tries again
                log.warning("event=lease_acquire_failed name=%s error=%s", name, exc)
                found.append(None)
        return found

    async def _release(self, lease: Lease) -> None:
        """Give ``lease`` up so another node may take its job at once; waited for no longer
        than the lease has left (past that it has expired anyway: a node stopping while its
        cluster does not answer must not wait a whole call budget per lease)."""
        left = lease.expires_ms / 1000 - time.time()
        if left <= 0:
            return
        try:
            await asyncio.wait_for(asyncio.to_thread(self.leases.release, lease), left)
        except (Exception, TimeoutError) as exc:  # it expires on its own
            why = exc if str(exc) else f"no answer within the {left:.1f} s the lease had left"
            log.warning("event=lease_release_failed name=%s error=%s", lease.name, why)

    # --- jobs -------------------------------------------------------------------------------

    async def hold(self, name: str, job: Job) -> None:
        """Run ``job(fence)`` whenever this node holds the lease ``name``, until cancelled (or
        until the job returns); a failing job's exception propagates. A hold of a job still
        stopping (cancelled, not yet done) is waited for first."""
        while (previous := self._claims.get(name)) is not None:
            await previous.finished.wait()  # a hold of the same job still stopping
        claim = self._claims[name] = _Claim(name)
        try:
            if self._may_take(claim):
                await self._acquire([claim])
            while True:
                await claim.granted.wait()
                claim.fence = Fence(self, claim)
                task = asyncio.create_task(job(claim.fence), name=f"owned {name}")
                try:
                    ended = await self._until_lost(claim, task)
                    if ended:
                        return
                    if ended is None:
                        await self._hand_over(claim, task)
                finally:
                    claim.fence = None
                    await _cancelled(task)
        finally:
            lease, claim.active = claim.lease, False
            claim.lose()
            try:
                if lease is not None:
                    await self._release(lease)
            finally:
                del self._claims[name]
                claim.finished.set()

    async def _until_lost(self, claim: _Claim, task: asyncio.Task[None]) -> bool | None:
        """Wait for the job to end (True), its lease to be lost (False) or a handover to be
        asked for (None)."""
        lost = asyncio.create_task(claim.lost.wait())
        moving = asyncio.create_task(claim.moving.wait())
        try:
            await asyncio.wait({task, lost, moving}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            moving.cancel()
        if claim.lost.is_set():
            log.warning("event=job_stopped name=%s node=%s: lease lost", claim.name, self.node)
            return False
        if not task.done():
            return None
        error = task.exception() if not task.cancelled() else None
        if isinstance(error, LeaseLost):
            claim.lose()
            return False
        if error is not None:
            raise error
        return True


def working(fence: Fence | None) -> AbstractContextManager[None]:
    """``fence.work()``, or nothing for a job that runs without a lease."""
    return contextlib.nullcontext() if fence is None else fence.work()


async def _cancelled(task: asyncio.Task[None]) -> None:
    """Cancel a job's task and wait until it has stopped. A cancellation of the caller
    meanwhile (the server stopping) is raised once the job has stopped, never swallowed:
    a swallowed one left ``hold`` waiting for a lease forever and the server never exited."""
    interrupted = False
    if not task.done():
        task.cancel()
    while not task.done():
        try:
            await asyncio.wait({task})
        except asyncio.CancelledError:
            interrupted = True
    if not task.cancelled():
        task.exception()  # retrieved: a job stopped by a handover raised HandedOver
    if interrupted:
        raise asyncio.CancelledError


def build_ownership(leases: Leases, settings: ClusterSettings) -> tuple[Ownership, float | None]:
    """This node's ownership of jobs, and how often its pumps poll for events appended
    through other nodes (None on an engine no other node shares)."""
    ownership = Ownership(leases, settings.node(), settings.lease_seconds)
    return ownership, settings.poll_seconds if leases.shared else None
