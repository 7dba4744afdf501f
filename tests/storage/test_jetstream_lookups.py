"""PutLogEvents' lookups are cached in each JetStream node (logs_lookups.py): deletions and
changes made on another node still reach them, and a put made after a delete returned on
another node is refused, as AWS refuses it. Two stores on one namespace are two nodes."""

from __future__ import annotations

from collections.abc import Callable

from logsieve.storage import Deleted, LogsStore
from logsieve.storage.jetstream.logs_lookups import GROUP_FOR
from tests.waiting import wait_for

from .test_contract_event_log import put
from .test_jetstream_logs import nodes, shared  # noqa: F401 (fixtures)

ROUNDS = 15


def _put_as_the_service_does(store: LogsStore, group: str, stream: str) -> None:
    """PutLogEvents' store calls: look up the group and the stream, then append; Deleted (or
    a lookup finding nothing) is the service's ResourceNotFoundException."""
    g = store.group(group)
    if g is None:
        raise Deleted("group")
    s = store.stream(g.id, stream)
    if s is None:
        raise Deleted("stream")
    put(store, g.id, s.id, [(1, "late")], 0)


def _refused(write: Callable[[], object]) -> bool:
    try:
        write()
    except Deleted:
        return True
    return False


def test_a_put_after_a_stream_delete_on_another_node_is_refused(nodes: list[LogsStore]) -> None:  # noqa: F811
    one, two = nodes
    g = one.create_group("/g", 0, None, "STANDARD")
    for n in range(ROUNDS):
        s = two.create_stream(g.id, f"s{n}", 0)
        _put_as_the_service_does(one, "/g", f"s{n}")  # one's lookups now hold the stream
        _put_as_the_service_does(one, "/g", f"s{n}")
        two.delete_stream(s.id)
        assert _refused(lambda n=n: _put_as_the_service_does(one, "/g", f"s{n}")), n


def test_a_put_after_a_group_delete_on_another_node_is_refused(nodes: list[LogsStore]) -> None:  # noqa: F811
    one, two = nodes
    for n in range(ROUNDS):
        g = two.create_group(f"/g{n}", 0, None, "STANDARD")
        two.create_stream(g.id, "s", 0)
        _put_as_the_service_does(one, f"/g{n}", "s")
        _put_as_the_service_does(one, f"/g{n}", "s")
        two.delete_group(g.id)
        assert _refused(lambda n=n: _put_as_the_service_does(one, f"/g{n}", "s")), n


def test_a_group_remade_on_another_node_is_found_under_its_new_id(
    nodes: list[LogsStore],  # noqa: F811
) -> None:
    one, two = nodes
    old = two.create_group("/g", 0, None, "STANDARD")
    assert one.group("/g").id == old.id
    two.delete_group(old.id)
    new = two.create_group("/g", 0, None, "STANDARD")
    assert new.id != old.id
    wait_for(lambda: one.group("/g").id == new.id, what="node one to find the new group")
    s = two.create_stream(new.id, "s", 0)
    _put_as_the_service_does(one, "/g", "s")
    assert one.stream(new.id, "s").id == s.id


def test_retention_set_on_another_node_reaches_this_nodes_lookups(
    nodes: list[LogsStore],  # noqa: F811
) -> None:
    one, two = nodes
    g = one.create_group("/g", 0, None, "STANDARD")
    assert one.group("/g").retention_days is None
    two.set_retention(g.id, 7)
    wait_for(
        lambda: one.group("/g").retention_days == 7,
        timeout=GROUP_FOR + 5,
        what="node one to see the retention node two set",
    )
    one.set_retention(g.id, 14)  # this node's own change: seen at once
    assert one.group("/g").retention_days == 14
