"""Who should work which per-item job: the live nodes, and a balanced, stable assignment.

Pure functions of the leases a node sees and its clock, so every node computes the same answer
from the same store and the tests drive them with a fake clock.

- A node is *present* while it renews its presence lease ``node/<id>/<since_ms>`` (a lease
  like any job's, renewed in the same round: it expires with the node's jobs, so a dead node
  leaves the live set when its jobs come free). ``since_ms`` (when this run of the node
  joined) is in the name because a lease has no payload and every observer must agree on it.
- A node is *live* for balancing once present for ``settle`` (one TTL): a node that just
  joined (or came back from a pause) gets no job handed over before then, so a node that starts
  and dies at once does not pull work around. A node always counts itself.
- Per-item jobs (names with a ``/``: ``subscription/<group>/<filter>``, including standing
  alert rules, and ``metric-filters/<group>``) are balanced per kind (the part before the
  first ``/``), so each kind is split evenly on its own. Singletons (``alarms``, ``outbox``,
  ``alert-ticks``, ``retention``, ``sources``) are never moved, since they cannot stop at a
  safe point and a planned move could send a notification twice; a free one goes first to its
  ``first_choice`` among the live nodes (rendezvous hashing), so after a node dies its
  singletons spread over the survivors instead of all going to the quickest.
- The assignment is rendezvous hashing with bounded loads: each job, in a fixed order, goes to
  the highest-ranked live node (by a hash of node and job) that has fewer than
  ceil(jobs / nodes) of that kind. Every node gets its fair share (±1), a job's node depends
  only on the job set and the live set (so a job moves at most once per change of either),
  and a joining node takes a slice from every node instead of all from one.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from logsieve.storage.leases import Lease

__all__ = [
    "PRESENCE",
    "Member",
    "assign",
    "balanced",
    "first_choice",
    "live_nodes",
    "members",
    "presence_name",
]

PRESENCE = "node/"


def presence_name(node: str, since_ms: int) -> str:
    """The presence lease of ``node``'s run that joined at ``since_ms`` (epoch ms)."""
    return f"{PRESENCE}{node}/{since_ms}"


@dataclass(frozen=True)
class Member:
    """A node's presence as seen in the leases."""

    node: str
    since_ms: int
    expires_ms: int


def members(leases: Iterable[Lease]) -> list[Member]:
    """The presence leases among ``leases`` (the others are jobs)."""
    found = []
    for lease in leases:
        if not lease.name.startswith(PRESENCE):
            continue
        node, _, since = lease.name[len(PRESENCE) :].rpartition("/")
        if node and since.isdigit():
            found.append(Member(node, int(since), lease.expires_ms))
    return found


def live_nodes(
    present: Iterable[Member], me: str, now_ms: int, settle_ms: int, margin_ms: int
) -> tuple[str, ...]:
    """The nodes jobs are spread over: present for ``settle_ms`` and not about to expire
    (``margin_ms``: a dead node leaves the set no later than its jobs come free), and ``me``."""
    nodes = {
        member.node
        for member in present
        if member.expires_ms > now_ms + margin_ms and member.since_ms <= now_ms - settle_ms
    }
    nodes.add(me)
    return tuple(sorted(nodes))


def balanced(name: str) -> bool:
    """Whether the job ``name`` is spread over the nodes (a per-item job)."""
    return "/" in name and not name.startswith(PRESENCE)


def _score(*parts: str) -> int:
    digest = hashlib.blake2b("\0".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def first_choice(job: str, nodes: Sequence[str]) -> str:
    """The node of ``nodes`` (not empty) ranked first for ``job``."""
    return max(nodes, key=lambda node: (_score(node, job), node))


def assign(jobs: Iterable[str], nodes: Sequence[str]) -> dict[str, str]:
    """Each balanced job of ``jobs`` to one of ``nodes`` (not empty): see the module docstring."""
    kinds: dict[str, list[str]] = {}
    for job in set(jobs):
        if balanced(job):
            kinds.setdefault(job.split("/", 1)[0], []).append(job)
    found: dict[str, str] = {}
    for names in kinds.values():
        cap = math.ceil(len(names) / len(nodes))
        load: Counter[str] = Counter()
        for job in sorted(names, key=lambda name: (_score(name), name)):
            ranked = sorted(nodes, key=lambda node: (_score(node, job), node), reverse=True)
            node = next(node for node in ranked if load[node] < cap)
            found[job] = node
            load[node] += 1
    return found
