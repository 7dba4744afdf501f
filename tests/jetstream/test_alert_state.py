"""Alert state shared by two logsieve nodes: a decision commits on one node only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from nats.js.errors import KeyWrongLastSequenceError

from logsieve.storage.factory import open_stores
from logsieve.storage.jetstream import JetStreamOptions
from logsieve.storage.jetstream.cluster import LocalCluster
from tests.jetstream.cluster import drop_namespace, options


@pytest.fixture
def shared(nats_cluster: LocalCluster) -> Iterator[JetStreamOptions]:
    settings = options(nats_cluster)
    yield settings
    drop_namespace(settings)


def test_two_nodes_deciding_on_one_input_commit_once(shared: JetStreamOptions, tmp_path) -> None:
    """Both nodes see the event as new inside their transactions; the second to commit fails
    as a whole (its notification is not stored either), and afterwards both see it as seen."""
    one = open_stores(tmp_path, "jetstream", shared).alert_state()
    two = open_stores(tmp_path, "jetstream", shared).alert_state()
    try:
        with pytest.raises(KeyWrongLastSequenceError), one.transaction():
            assert one.mark_seen("r", "e1", 1)
            one.outbox_add("from-one", "slack", {"node": "one"}, 1)
            with two.transaction():
                assert two.mark_seen("r", "e1", 1)
                two.outbox_add("from-two", "slack", {"node": "two"}, 1)
            # two has committed; one commits (and fails) when its block ends
        assert [note for _, _, _, note in one.outbox_pending()] == [{"node": "two"}]
        assert not one.mark_seen("r", "e1", 2) and not two.mark_seen("r", "e1", 2)
        assert one.counts() == {"seen": 1, "dedup": 0, "windows": 0, "outbox": 1}
    finally:
        one.close()
        two.close()


def test_a_pruned_input_is_new_again(shared: JetStreamOptions, tmp_path) -> None:
    """Re-creating a deleted key must name its tombstone's revision, not 0."""
    state = open_stores(tmp_path, "jetstream", shared).alert_state()
    try:
        assert state.mark_seen("r", "e1", 10)
        state.prune(now=100, seen_before=50)
        assert state.counts()["seen"] == 0
        assert state.mark_seen("r", "e1", 60)
        assert not state.mark_seen("r", "e1", 61)
    finally:
        state.close()
