"""The ``AlertStateStore`` contract, for every engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from logsieve.storage.alert_state import AlertStateStore
from logsieve.storage.factory import Stores


@pytest.fixture
def state(stores: Stores) -> Iterator[AlertStateStore]:
    store = stores.alert_state()
    yield store
    store.close()


def test_seen_events_are_recognised(state: AlertStateStore) -> None:
    assert state.mark_seen("r", "e1", 10)
    assert not state.mark_seen("r", "e1", 11)
    assert state.mark_seen("other", "e1", 11)


def test_dedup_and_windows_round_trip(state: AlertStateStore) -> None:
    assert state.dedup_get("r", "k") is None
    state.dedup_put("r", "k", 5, 100)
    assert state.dedup_get("r", "k") == 5
    state.window_put("r", "digest", "g", {"n": 1, "items": ["a"]}, due=50, expires=100)
    state.window_put("r", "count", "g", {"n": 2}, due=None, expires=100)
    assert state.window_get("r", "digest", "g") == {"n": 1, "items": ["a"]}
    assert state.windows_due(49) == []
    assert state.windows_due(50) == [("r", "digest", "g", {"n": 1, "items": ["a"]})]
    assert [row[1] for row in state.windows_due(None)] == ["digest"]
    state.window_delete("r", "digest", "g")
    assert state.window_get("r", "digest", "g") is None


def test_decided_notifications_wait_in_order_once_per_key(state: AlertStateStore) -> None:
    with state.transaction():
        state.outbox_add("k1", "slack", {"title": "one"}, 1)
        state.outbox_add("k2", "mail", {"title": "two"}, 2)
        state.outbox_add("k1", "slack", {"title": "again"}, 3)
    pending = state.outbox_pending()
    assert [(key, channel, note) for _, key, channel, note in pending] == [
        ("k1", "slack", {"title": "one"}),
        ("k2", "mail", {"title": "two"}),
    ]
    state.outbox_done(pending[0][0])
    assert [key for _, key, _, _ in state.outbox_pending()] == ["k2"]


def test_a_failed_transaction_keeps_nothing(state: AlertStateStore) -> None:
    with pytest.raises(RuntimeError), state.transaction():
        state.mark_seen("r", "e1", 10)
        raise RuntimeError("the decision failed")
    assert state.counts()["seen"] == 0


def test_prune_forgets_old_inputs_expired_keys_and_idle_windows(state: AlertStateStore) -> None:
    state.mark_seen("r", "old", 10)
    state.mark_seen("r", "new", 100)
    state.dedup_put("r", "gone", 1, 50)
    state.dedup_put("r", "kept", 1, 500)
    state.window_put("r", "count", "idle", {}, due=None, expires=50)
    state.window_put("r", "digest", "open", {}, due=60, expires=50)  # closed by the engine
    state.prune(now=100, seen_before=50)
    assert state.counts() == {"seen": 1, "dedup": 1, "windows": 1, "outbox": 0}


def test_state_survives_reopening(stores: Stores) -> None:
    first = stores.alert_state()
    first.mark_seen("r", "e1", 10)
    first.close()
    again = stores.alert_state()
    try:
        assert not again.mark_seen("r", "e1", 10)
    finally:
        again.close()


def test_dedup_entries_and_windows_list_everything_remembered(state: AlertStateStore) -> None:
    state.dedup_put("r", "k2", 6, 200)
    state.dedup_put("r", "k1", 5, 100)
    state.dedup_put("a.b", "x y", 7, 300)
    state.window_put("r", "digest", "g", {"items": ["a"]}, due=50, expires=100)
    state.window_put("r", "count", "g/1", {"n": 2}, due=None, expires=90)
    state.window_put("r", "count", "g/2", {"n": 3}, due=None, expires=90)
    state.window_delete("r", "count", "g/2")
    assert state.dedup_entries() == [("a.b", "x y", 7, 300), ("r", "k1", 5, 100),
                                     ("r", "k2", 6, 200)]  # fmt: skip
    assert state.windows() == [
        ("r", "count", "g/1", {"n": 2}, None, 90),
        ("r", "digest", "g", {"items": ["a"]}, 50, 100),
    ]
