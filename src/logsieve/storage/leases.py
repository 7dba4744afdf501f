"""The storage interface of leases: which node works which background job, for how long.

Several logsieve nodes on one JetStream cluster must not run the same job twice (two alarm
evaluations would send two notifications; two pumps of one subscription would break its
order). A job is named (``alarms``, ``subscription.<consumer>``...) and runs only on the node
holding the lease of that name; the holder renews it well before it expires, and when a node
dies its leases expire and another node acquires them.

Every write of a lease (an acquisition or a renewal, by any node) gets a larger ``token``
than any before it for that name: a fencing token, so a write made under a lease can be
refused once a newer holder exists (``valid``).

Expiry is by the wall clock of the node that looks (``time.time``): nodes of one cluster need
synchronised clocks (NTP), and the TTL must be larger than their skew.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Lease", "Leases"]


@dataclass(frozen=True)
class Lease:
    """``name`` held by ``node`` until ``expires_ms`` (epoch ms), written with ``token``."""

    name: str
    node: str
    token: int
    expires_ms: int


class Leases(Protocol):
    """Named leases with expiry. Every method is thread-safe."""

    #: whether other processes hold leases of this store too (JetStream: several nodes; then
    #: work appended through another node is only seen by polling or a cluster-wide signal)
    shared: bool

    def acquire(self, name: str, node: str, ttl_ms: int) -> Lease | None:
        """Take ``name`` for ``node`` for ``ttl_ms`` when nobody holds it, its lease expired,
        or ``node`` holds it already (then it is renewed): the new lease, or None when another
        node holds it (or won a race for it)."""
        ...

    def renew(self, lease: Lease, ttl_ms: int) -> Lease | None:
        """Extend ``lease`` to ``ttl_ms`` from now: the new lease (a new token), or None when
        it is no longer held with that token (expired, taken over or released): the work it
        guarded must stop."""
        ...

    def renew_many(self, leases: Sequence[Lease], ttl_ms: int) -> list[Lease | None]:
        """``renew`` each of ``leases`` (in one round where the engine can)."""
        ...

    def release(self, lease: Lease) -> None:
        """Give ``lease`` up now (another node may take it at once); nothing when it is no
        longer held with that token."""
        ...

    def valid(self, lease: Lease) -> bool:
        """Whether ``lease`` is still the unexpired lease of its name, with that token: the
        fence a write made under the lease checks first."""
        ...

    def held(self, prefix: str = "") -> list[Lease]:
        """The unexpired leases whose names start with ``prefix``, by name: who holds what."""
        ...

    def sweep(self, older_than_ms: int) -> int:
        """Delete the leases that expired (or were released) more than ``older_than_ms`` ago,
        so the leases of jobs that no longer exist do not pile up for ``held`` to read; how
        many were deleted. A later acquisition of a swept name still gets a larger token than
        any before, and an acquisition racing the sweep is either kept or refused, never
        granted and then swept."""
        ...

    def close(self) -> None: ...
