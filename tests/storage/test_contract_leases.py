"""The ``Leases`` contract, for every engine: one holder at a time, fencing tokens that only
grow, expiry handing a lease over, and two nodes racing for one lease."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from logsieve.storage.factory import Stores
from logsieve.storage.leases import Lease, Leases
from tests.storage.races import concurrently
from tests.waiting import wait_for

TTL = 60_000


@pytest.fixture
def leases(stores: Stores) -> Iterator[Leases]:
    store = stores.leases()
    yield store
    store.close()


def test_a_free_lease_is_granted_and_then_refused_to_another_node(leases: Leases) -> None:
    before = int(time.time() * 1000)
    lease = leases.acquire("alarms", "a", TTL)
    assert lease is not None
    assert (lease.name, lease.node) == ("alarms", "a")
    assert before + TTL <= lease.expires_ms <= int(time.time() * 1000) + TTL
    assert leases.acquire("alarms", "b", TTL) is None
    assert leases.valid(lease)
    assert [(held.name, held.node) for held in leases.held()] == [("alarms", "a")]


def test_the_holder_acquiring_again_renews_with_a_larger_token(leases: Leases) -> None:
    first = leases.acquire("job", "a", TTL)
    again = leases.acquire("job", "a", TTL)
    assert first is not None and again is not None
    assert again.token > first.token
    assert not leases.valid(first)  # a write made under the older token is fenced off
    assert leases.valid(again)


def test_renewal_extends_and_fails_once_the_lease_was_taken_over(leases: Leases) -> None:
    lease = leases.acquire("job", "a", 300)
    assert lease is not None
    renewed = leases.renew(lease, TTL)
    assert renewed is not None and renewed.token > lease.token
    assert renewed.expires_ms > lease.expires_ms
    assert leases.renew(lease, TTL) is None  # the old token is gone
    leases.release(renewed)
    taken = leases.acquire("job", "b", TTL)
    assert taken is not None and taken.token > renewed.token
    assert leases.renew(renewed, TTL) is None
    assert [held.node for held in leases.held("job")] == ["b"]


def test_expiry_hands_the_lease_over_to_another_node(leases: Leases) -> None:
    lease = leases.acquire("pump", "a", 400)
    assert lease is not None
    assert leases.acquire("pump", "b", TTL) is None
    taken = wait_for(lambda: leases.acquire("pump", "b", TTL), timeout=5)
    assert int(time.time() * 1000) >= lease.expires_ms  # not before it expired
    assert taken.node == "b" and taken.token > lease.token
    assert not leases.valid(lease)
    assert leases.renew(lease, TTL) is None  # the dead holder cannot come back on it
    assert [held.node for held in leases.held()] == ["b"]


def test_an_expired_lease_is_not_held_and_cannot_be_renewed(leases: Leases) -> None:
    lease = leases.acquire("pump", "a", 200)
    assert lease is not None
    wait_for(lambda: not leases.held(), timeout=5)
    assert not leases.valid(lease)
    assert leases.renew(lease, TTL) is None
    again = leases.acquire("pump", "a", TTL)
    assert again is not None and again.token > lease.token


def test_renewing_many_renews_each_that_is_still_held(leases: Leases) -> None:
    one = leases.acquire("one", "a", TTL)
    two = leases.acquire("two", "a", TTL)
    assert one is not None and two is not None
    leases.release(two)
    renewed = leases.renew_many([one, two], TTL)
    assert renewed[1] is None
    assert renewed[0] is not None and renewed[0].token > one.token
    assert [held.name for held in leases.held()] == ["one"]


def test_held_lists_by_name_and_prefix(leases: Leases) -> None:
    for name, node in [("sub.b", "x"), ("alarms", "y"), ("sub.a", "y")]:
        assert leases.acquire(name, node, TTL) is not None
    assert [(h.name, h.node) for h in leases.held()] == [
        ("alarms", "y"),
        ("sub.a", "y"),
        ("sub.b", "x"),
    ]
    assert [h.name for h in leases.held("sub.")] == ["sub.a", "sub.b"]
    tokens = {h.name: h.token for h in leases.held()}
    assert all(leases.valid(h) for h in leases.held()) and len(set(tokens.values())) == 3


def test_two_nodes_racing_for_one_lease_get_exactly_one_grant(stores: Stores) -> None:
    """Two nodes released at once for the same free leases: exactly one holder each time.
    On a shared engine each node has its own store (its own connection); SQLite's leases are
    one process's, so there the two nodes are two threads on one store."""
    first = stores.leases()
    nodes = [first, stores.leases() if first.shared else first]
    try:
        for round_ in range(5):
            name = f"race{round_}"
            grants: list[Lease | None] = [None, None]

            def race(i: int, name: str = name, grants: list[Lease | None] = grants) -> None:
                grants[i] = nodes[i].acquire(name, f"node{i}", TTL)

            assert concurrently(2, race) == [None, None]
            won = [grant for grant in grants if grant is not None]
            assert len(won) == 1, grants
            assert [held.node for held in nodes[0].held(name)] == [won[0].node]
            assert [held.node for held in nodes[1].held(name)] == [won[0].node]
    finally:
        for node in {id(node): node for node in nodes}.values():
            node.close()


def _tokens(leases: Leases, *names: str, ttl_ms: int = 1) -> dict[str, Lease]:
    """Acquire each of ``names`` for ``ttl_ms``: leases that expire at once."""
    found = {name: leases.acquire(name, "gone", ttl_ms) for name in names}
    assert all(found.values()), found
    return found  # type: ignore[return-value]


def test_a_sweep_deletes_only_leases_expired_long_enough_ago(leases: Leases) -> None:
    old = _tokens(leases, "sub/deleted", "node/gone/1")
    time.sleep(0.5)
    recent = _tokens(leases, "recent")
    released = leases.acquire("released", "a", TTL)
    live = leases.acquire("live", "a", TTL)
    assert released is not None and live is not None
    leases.release(released)
    time.sleep(0.01)  # "recent" has expired, but not 300 ms ago
    assert leases.sweep(300) == 3  # both old ones and the released one (expired at 0)
    assert leases.sweep(300) == 0
    assert [held.name for held in leases.held()] == ["live"]
    assert leases.valid(live)
    assert leases.renew(live, TTL) is not None
    assert leases.sweep(0) == 1  # "recent" is expired too: gone once the age is 0
    assert not leases.valid(recent["recent"])
    assert not any(leases.valid(lease) for lease in old.values())


def test_a_swept_name_is_acquired_again_with_a_larger_token(leases: Leases) -> None:
    old = _tokens(leases, "sub/deleted", "last-written")  # the stream's newest write is swept
    biggest = max(lease.token for lease in old.values())
    time.sleep(0.05)
    assert leases.sweep(0) == 2
    for name, lease in old.items():
        again = leases.acquire(name, "b", TTL)
        assert again is not None and again.token > biggest, (lease, again)
        assert leases.renew(lease, TTL) is None  # the swept holder cannot come back on it
        biggest = again.token
    assert [held.node for held in leases.held()] == ["b", "b"]


def test_a_sweep_racing_acquisitions_never_sweeps_a_granted_lease(stores: Stores) -> None:
    """A node acquiring expired leases while another sweeps them: each acquisition is either
    granted and stays held, or refused (the next round tries again), never granted and then
    swept; each grant has a larger token than the expired lease."""
    first = stores.leases()
    nodes = [first, stores.leases() if first.shared else first]
    try:
        for round_ in range(5):
            old = _tokens(first, *(f"job{round_}.{i}" for i in range(4)))
            time.sleep(0.05)
            grants: dict[str, Lease | None] = {}

            def race(i: int, old: dict[str, Lease] = old, grants: dict = grants) -> None:
                if i == 0:
                    nodes[0].sweep(0)
                else:
                    grants.update({name: nodes[1].acquire(name, "b", TTL) for name in old})

            assert concurrently(2, race) == [None, None]
            won = {name: lease for name, lease in grants.items() if lease is not None}
            assert all(won[name].token > old[name].token for name in won)
            assert {held.name: held for held in nodes[0].held(f"job{round_}.")} == won
            assert all(nodes[0].valid(lease) for lease in won.values())
    finally:
        for node in {id(node): node for node in nodes}.values():
            node.close()
