"""The ``AlarmStore`` contract, for every engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from logsieve.storage.alarms import AlarmRow, AlarmStore, HistoryRow, StateChange
from logsieve.storage.factory import Stores


@pytest.fixture
def alarms(stores: Stores) -> Iterator[AlarmStore]:
    store = stores.alarms()
    yield store
    store.close()


def _history(name: str, at: int, kind: str = "StateUpdate") -> HistoryRow:
    return HistoryRow(name, at, kind, f"{kind} {at}", "{}")


def test_an_update_replaces_the_configuration_and_keeps_state_and_tags(
    alarms: AlarmStore,
) -> None:
    alarms.put_alarm(AlarmRow("a", {"Threshold": 1.0}, config_updated_ms=1, tags={"k": "v"}))
    alarms.set_state("a", StateChange("ALARM", "crossed", '{"x":1}', 5))
    row = alarms.put_alarm(AlarmRow("a", {"Threshold": 2.0}, config_updated_ms=9, tags={"x": "y"}))
    assert row.config == {"Threshold": 2.0}
    assert (row.state_value, row.state_reason, row.state_reason_data) == (
        "ALARM",
        "crossed",
        '{"x":1}',
    )
    assert row.config_updated_ms == 9
    assert row.tags == {"k": "v"}  # Tags on an update are ignored, as on AWS


def test_alarms_list_by_name_with_prefix_and_paging(alarms: AlarmStore) -> None:
    for name in ["b2", "a1", "b1", "c"]:
        alarms.put_alarm(AlarmRow(name, {}))
    assert [a.name for a in alarms.list_alarms()] == ["a1", "b1", "b2", "c"]
    assert [a.name for a in alarms.list_alarms(prefix="b")] == ["b1", "b2"]
    assert [a.name for a in alarms.list_alarms(after_name="b1", limit=1)] == ["b2"]


def test_state_changes_move_the_transition_time_only_on_a_new_value(alarms: AlarmStore) -> None:
    alarms.put_alarm(AlarmRow("a", {}, state_updated_ms=1, state_transitioned_ms=1))
    row = alarms.set_state("a", StateChange("ALARM", "r1", None, 10), [_history("a", 10)])
    assert row is not None and (row.state_updated_ms, row.state_transitioned_ms) == (10, 10)
    row = alarms.set_state("a", StateChange("ALARM", "r2", None, 20))
    assert row is not None and (row.state_updated_ms, row.state_transitioned_ms) == (20, 10)
    assert [h.timestamp_ms for h in alarms.history("a")] == [10]


def test_a_state_change_for_an_older_configuration_is_dropped(alarms: AlarmStore) -> None:
    alarms.put_alarm(AlarmRow("a", {}, config_updated_ms=1))
    alarms.put_alarm(AlarmRow("a", {"new": True}, config_updated_ms=2))
    stale = StateChange("ALARM", "r", None, 5, config_updated_ms=1)
    assert alarms.set_state("a", stale, [_history("a", 5)]) is None
    assert alarms.get_alarm("a").state_value == "INSUFFICIENT_DATA"  # type: ignore[union-attr]
    assert list(alarms.history("a")) == []
    assert alarms.set_state("missing", StateChange("OK", "r", None, 5)) is None


def test_deleting_keeps_history_and_reports_what_existed(alarms: AlarmStore) -> None:
    alarms.put_alarm(AlarmRow("a", {}), [_history("a", 1, "ConfigurationUpdate")])
    deleted = alarms.delete_alarms(
        ["a", "nope"], [_history("a", 2, "ConfigurationUpdate"), _history("nope", 2)]
    )
    assert deleted == ["a"]
    assert alarms.get_alarm("a") is None
    assert [h.timestamp_ms for h in alarms.history("a")] == [2, 1]
    assert list(alarms.history("nope")) == []


def test_history_filters_and_pages_in_both_orders(alarms: AlarmStore) -> None:
    alarms.add_history([_history("a", t, "Action" if t % 2 else "StateUpdate") for t in range(6)])
    alarms.add_history([_history("b", 100)])
    newest = alarms.history("a", limit=2)
    assert [h.timestamp_ms for h in newest] == [5, 4]
    rest = alarms.history("a", after_seq=newest[-1].seq, limit=10)
    assert [h.timestamp_ms for h in rest] == [3, 2, 1, 0]
    assert [h.timestamp_ms for h in alarms.history(newest_first=False, limit=2)] == [0, 1]
    assert [h.timestamp_ms for h in alarms.history("a", item_type="Action")] == [5, 3, 1]
    assert [h.timestamp_ms for h in alarms.history(start_ms=2, end_ms=4)] == [3, 2]
    assert [h.alarm_name for h in alarms.history(start_ms=50)] == ["b"]


def test_tags_add_replace_and_remove(alarms: AlarmStore) -> None:
    alarms.put_alarm(AlarmRow("a", {}))
    alarms.tag("a", {"k1": "v1", "k2": "v2"})
    alarms.tag("a", {"k1": "new"})
    row = alarms.untag("a", ["k2", "absent"])
    assert row is not None and row.tags == {"k1": "new"}
    assert alarms.tag("missing", {"k": "v"}) is None


def test_configuration_set_without_update_time(alarms: AlarmStore) -> None:
    alarms.put_alarm(AlarmRow("a", {"ActionsEnabled": True}, config_updated_ms=3))
    row = alarms.set_config("a", {"ActionsEnabled": False})
    assert row is not None and row.config == {"ActionsEnabled": False}
    assert row.config_updated_ms == 3


def test_alarms_survive_reopening(stores: Stores) -> None:
    store = stores.alarms()
    store.put_alarm(AlarmRow("a", {"Period": 60}, tags={"t": "1"}))
    store.close()
    store = stores.alarms()
    try:
        assert store.get_alarm("a") == AlarmRow("a", {"Period": 60}, tags={"t": "1"}, seq=1)
    finally:
        store.close()


def test_actions_are_kept_with_their_transition_until_handed_on(alarms: AlarmStore) -> None:
    alarms.put_alarm(AlarmRow("a", {}, config_updated_ms=1))
    change = StateChange("ALARM", "r", None, 5, 1, [("k1", b"one"), ("k2", b"two")])
    alarms.set_state("a", change)
    stale = StateChange("OK", "r", None, 6, 0, [("k3", b"three")])
    assert alarms.set_state("a", stale) is None
    pending = alarms.pending_actions()
    assert [(key, payload) for _, key, payload in pending] == [("k1", b"one"), ("k2", b"two")]
    alarms.set_state("a", StateChange("ALARM", "r", None, 7, 1, [("k1", b"again")]))
    alarms.actions_done([pending[0][0]])
    assert [key for _, key, _ in alarms.pending_actions()] == ["k2"]


def test_history_older_than_the_retention_is_pruned(alarms: AlarmStore) -> None:
    alarms.add_history([_history("a", t) for t in (1, 5, 9)])
    assert alarms.prune_history(6) == 2
    assert [h.timestamp_ms for h in alarms.history("a")] == [9]


def test_an_action_is_recorded_once_per_key(alarms: AlarmStore) -> None:
    assert alarms.add_history([_history("a", 1, "Action")], once="a:1:arn")
    assert not alarms.add_history([_history("a", 2, "Action")], once="a:1:arn")
    assert [h.timestamp_ms for h in alarms.history("a")] == [1]


def test_copied_actions_are_added_once_per_key_even_after_they_were_handed_on(
    alarms: AlarmStore,
) -> None:
    alarms.put_alarm(AlarmRow("a", {}, config_updated_ms=1))
    alarms.set_state("a", StateChange("ALARM", "r", None, 5, 1, [("own", b"here")]))
    copied = [("c1", b"one"), ("c2", b"two"), ("own", b"copied too")]
    assert alarms.add_copied_actions(copied) == 2  # "own" is already waiting
    pending = alarms.pending_actions()
    assert [(key, payload) for _, key, payload in pending] == [
        ("own", b"here"), ("c1", b"one"), ("c2", b"two")
    ]  # fmt: skip
    assert alarms.add_copied_actions(copied) == 0  # a re-run of the copy, still pending
    alarms.actions_done([ident for ident, _, _ in pending])
    assert alarms.add_copied_actions([*copied, ("c3", b"three")]) == 1  # handed on: not again
    assert [(key, payload) for _, key, payload in alarms.pending_actions()] == [("c3", b"three")]
