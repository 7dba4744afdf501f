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

On SQLite (one process, ``leases.shared`` false) nobody else can take a lease, so there is no
deadline and no remote check: jobs run as they did before leases existed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from logsieve.storage.leases import Lease, Leases

from .settings import ClusterSettings

__all__ = ["Fence", "LeaseLost", "Ownership", "build_ownership"]

log = logging.getLogger("logsieve.cluster")

Job = Callable[["Fence"], Coroutine[Any, Any, None]]
_MARGIN = 0.5  # seconds of a lease a node gives up early: clock skew and a write in flight


class LeaseLost(Exception):
    """The job's lease is no longer this node's: stop, do not write."""


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
        self._timer: asyncio.TimerHandle | None = None

    def grant(self, lease: Lease, deadline: float | None) -> None:
        self.lease = lease
        self.lost.clear()
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
        raise LeaseLost(self._claim.name)


class Ownership:
    """This node's jobs and their leases (``node``: this node's id, ``ttl``: seconds)."""

    def __init__(self, leases: Leases, node: str, ttl: float = 3.0) -> None:
        self.leases = leases
        self.node = node
        self.ttl = ttl
        self._claims: dict[str, _Claim] = {}

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
        """Renew what is held and try for what is not, every third of the TTL (forever)."""
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                await self.tick()
            except Exception:  # the deadlines stop jobs whose leases were not renewed
                log.exception("event=lease_round_failed node=%s", self.node)

    async def tick(self) -> None:
        """One round: renew every held lease, then try to acquire the others."""
        held = [claim for claim in self._claims.values() if claim.lease is not None]
        if held:
            await self._renew(held)
        wanted = [c for c in self._claims.values() if c.lease is None and not c.busy]
        if wanted:
            await self._acquire(wanted)

    async def _renew(self, claims: list[_Claim]) -> None:
        sent = time.monotonic()
        old = [claim.lease for claim in claims]
        renewed = await asyncio.to_thread(self.leases.renew_many, old, self._ttl_ms)  # type: ignore[arg-type]
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
        try:
            await asyncio.to_thread(self.leases.release, lease)
        except Exception as exc:  # it expires on its own
            log.warning("event=lease_release_failed name=%s error=%s", lease.name, exc)

    # --- jobs -------------------------------------------------------------------------------

    async def hold(self, name: str, job: Job) -> None:
        """Run ``job(fence)`` whenever this node holds the lease ``name``, until cancelled (or
        until the job returns); a failing job's exception propagates. A hold of a job still
        stopping (cancelled, not yet done) is waited for first."""
        while (previous := self._claims.get(name)) is not None:
            await previous.finished.wait()  # a hold of the same job still stopping
        claim = self._claims[name] = _Claim(name)
        try:
            await self._acquire([claim])
            while True:
                await claim.granted.wait()
                claim.fence = Fence(self, claim)
                task = asyncio.create_task(job(claim.fence), name=f"owned {name}")
                try:
                    if await self._until_lost(claim, task):
                        return
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

    async def _until_lost(self, claim: _Claim, task: asyncio.Task[None]) -> bool:
        """Wait for the job to end (True) or its lease to be lost (False)."""
        lost = asyncio.create_task(claim.lost.wait())
        try:
            await asyncio.wait({task, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
        if claim.lost.is_set():
            log.warning("event=job_stopped name=%s node=%s: lease lost", claim.name, self.node)
            return False
        error = task.exception() if not task.cancelled() else None
        if isinstance(error, LeaseLost):
            claim.lose()
            return False
        if error is not None:
            raise error
        return True


async def _cancelled(task: asyncio.Task[None]) -> None:
    if task.done():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


def build_ownership(leases: Leases, settings: ClusterSettings) -> tuple[Ownership, float | None]:
    """This node's ownership of jobs, and how often its pumps poll for events appended
    through other nodes (None on an engine no other node shares)."""
    ownership = Ownership(leases, settings.node(), settings.lease_seconds)
    return ownership, settings.poll_seconds if leases.shared else None
