"""The ``OutboxStore`` contract, for every engine: what the outbox's fair scheduler relies on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from logsieve.storage.factory import Stores
from logsieve.storage.outbox import OutboxStore


@pytest.fixture
def queue(stores: Stores) -> Iterator[OutboxStore]:
    store = stores.outbox()
    yield store
    store.close()


def ids(queue: OutboxStore, **kwargs) -> list[int]:
    args = {"kind": "k", "now": 10.0, "busy": {}, "per_destination": 9, "inflight": [],
            "free": 9} | kwargs  # fmt: skip
    return [item.id for item in queue.ready(**args)[0]]


def test_enqueue_skips_a_key_already_enqueued_for_its_kind(queue: OutboxStore) -> None:
    added = queue.enqueue(
        [("k", b"a", "key", ""), ("k", b"b", None, ""), ("j", b"c", "key", "")], 1
    )
    assert added == ["k", "k", "j"]
    assert queue.enqueue([("k", b"again", "key", "")], 2) == []
    items = queue.ready("k", 10.0, {}, 9, [], 9)[0]
    assert [item.payload for item in items] == [b"a", b"b"]
    assert items[0].attempts == 0 and items[0].first_attempt is None


def test_ready_is_fair_per_destination(queue: OutboxStore) -> None:
    queue.enqueue([("k", b"", None, "dead")] * 5 + [("k", b"", None, "live")], 1)
    first = ids(queue)
    assert len(first) == 6
    capped = queue.ready("k", 10.0, {"dead": 1}, 2, [], 9)[0]
    assert [item.dest for item in capped] == ["dead", "live"]
    assert ids(queue, inflight=first[:5]) == [first[5]]


def test_an_item_waiting_for_its_retry_holds_back_its_destination_only(queue: OutboxStore) -> None:
    queue.enqueue([("k", b"", None, "a"), ("k", b"", None, "a"), ("k", b"", None, "b")], 1)
    first, second, third = ids(queue)
    queue.mark_failed("k", "a", first, 5.0, 20.0, "503", 6.0)
    ready, due = queue.ready("k", 10.0, {}, 9, [], 9)
    assert [item.id for item in ready] == [third] and due == 20.0
    retried = queue.ready("k", 20.0, {}, 9, [], 9)[0]
    assert [item.id for item in retried][:2] == [first, second]
    assert retried[0].attempts == 1 and retried[0].first_attempt == 5.0


def test_sent_items_leave_the_queue_and_count(queue: OutboxStore) -> None:
    queue.enqueue([("k", b"x", "key", "d")], 1)
    (item,) = queue.ready("k", 10.0, {}, 9, [], 9)[0]
    queue.mark_sent("k", "d", item.id, 11.0)
    assert ids(queue) == []
    assert queue.enqueue([("k", b"x", "key", "d")], 12) == []  # the key is remembered
    counts = queue.counts()
    assert [(row.kind, row.sent) for row in counts.kinds] == [("k", 1)]
    assert counts.last_sent == {"k": 11.0} and counts.failing == []


def test_give_up_with_window_takes_the_destinations_old_items(queue: OutboxStore) -> None:
    queue.enqueue([("k", b"", None, "d"), ("k", b"", None, "other")], 1)
    queue.enqueue([("k", b"", None, "d")], 50)
    first, other, late = ids(queue, now=60.0)
    queue.mark_given_up("k", "d", first, 2.0, "dead", 60.0, window=30.0)
    assert ids(queue, now=60.0) == [other, late]
    failures = queue.failures(10)
    assert [row["id"] for row in failures] == [first]
    assert failures[0]["error"] == "dead" and failures[0]["given_up_at"] == 60.0
    counts = queue.counts()
    assert [(row.dest, row.pending) for row in counts.failing] == [("d", 1)]
    assert ("k", "given_up", 1, 1.0) in counts.states
    assert queue.redrive(None, "k", 70.0) == 1
    assert ids(queue, now=70.0) == [first, other, late]


def test_pending_kinds_prune_and_reopen(stores: Stores) -> None:
    queue = stores.outbox()
    queue.enqueue([("k", b"", "key", ""), ("j", b"", None, "")], 1)
    (item,) = queue.ready("k", 10.0, {}, 9, [], 9)[0]
    queue.mark_sent("k", "", item.id, 2.0)
    assert queue.pending_kinds() == ["j"]
    marker = queue.change_marker()
    queue.prune(cutoff=3.0)
    queue.close()
    again = stores.outbox()
    try:
        assert again.enqueue([("k", b"", "key", "")], 4) == ["k"]  # pruned: forgotten
        assert isinstance(marker, int)
    finally:
        again.close()
    with pytest.raises(RuntimeError, match="closed"):
        queue.enqueue([("k", b"", None, "")], 5)


def test_pending_entries_are_what_is_still_to_send(queue: OutboxStore) -> None:
    queue.enqueue(
        [("k", b"sent", "s", "d1"), ("k", b"a", "key", "d1"), ("j", b"b", None, "d2"),
         ("k", b"given up", None, "d3")], 1
    )  # fmt: skip
    sent, kept, dropped = ids(queue)
    [other] = [item.id for item in queue.ready("j", 10.0, {}, 9, [], 9)[0]]
    queue.mark_sent("k", "d1", sent, 2)
    queue.mark_failed("k", "d1", kept, 3, 4, "refused", 3)  # failed once: still pending
    queue.mark_given_up("k", "d3", dropped, 3, "gone", 3, None)
    assert queue.pending_entries() == [
        (kept, ("k", b"a", "key", "d1")),
        (other, ("j", b"b", None, "d2")),
    ]
