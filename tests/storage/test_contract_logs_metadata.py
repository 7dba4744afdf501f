"""The ``LogsMetadata`` contract: log groups, streams, retention and tags, for every engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from logsieve.storage import Deleted, LogsStore
from logsieve.storage.factory import Stores

from .test_contract_event_log import group_events, put


@pytest.fixture
def store(stores: Stores) -> Iterator[LogsStore]:
    s = stores.logs()
    yield s
    s.close()


def test_delete_stream_and_group(store: LogsStore) -> None:
    g = store.create_group("/g", 0, None, "STANDARD")
    s = store.create_stream(g.id, "s", 0)
    put(store, g.id, s.id, [(1, "abc")], 0)
    assert store.create_stream(g.id, "s", 0) is None
    store.delete_stream(s.id)
    assert store.group("/g").stored_bytes == 0
    assert list(group_events(store, g.id, None, None, None, None)) == []
    store.delete_group(g.id)
    assert store.group("/g") is None and store.create_group("/g", 0, None, "STANDARD")


def test_groups_are_listed_by_name_with_filters_and_paging(store: LogsStore) -> None:
    for name in ("/b/two", "/a/one", "/b/one"):
        store.create_group(name, 5, None, "STANDARD")
    store.create_group("/c/ia", 6, "key", "INFREQUENT_ACCESS")
    assert store.create_group("/a/one", 7, None, "STANDARD") is None
    every = [g.name for g in store.groups(None, None, None, None, 10)]
    assert every == ["/a/one", "/b/one", "/b/two", "/c/ia"]
    assert [g.name for g in store.groups("/b/", None, None, None, 10)] == ["/b/one", "/b/two"]
    assert [g.name for g in store.groups(None, "one", None, None, 10)] == ["/a/one", "/b/one"]
    infrequent = store.groups(None, None, "INFREQUENT_ACCESS", None, 10)
    assert [(g.name, g.kms_key_id) for g in infrequent] == [("/c/ia", "key")]
    assert [g.name for g in store.groups(None, None, None, "/a/one", 2)] == ["/b/one", "/b/two"]
    assert store.count_groups() == 4


def test_ids_are_never_handed_out_again(store: LogsStore) -> None:
    first = store.create_group("/g", 0, None, "STANDARD")
    stream = store.create_stream(first.id, "s", 0)
    store.delete_group(first.id)
    again = store.create_group("/g", 1, None, "STANDARD")
    assert again.id != first.id
    assert store.create_stream(again.id, "s", 1).id != stream.id


def test_writes_naming_a_deleted_group_or_stream_raise_deleted(store: LogsStore) -> None:
    g = store.create_group("/g", 0, None, "STANDARD")
    s = store.create_stream(g.id, "s", 0)
    store.delete_stream(s.id)
    with pytest.raises(Deleted) as stream_gone:
        put(store, g.id, s.id, [(1, "x")], 0)
    assert stream_gone.value.kind == "stream"
    with pytest.raises(Deleted):
        store.delete_stream(s.id)
    store.delete_group(g.id)
    for write in (
        lambda: store.create_stream(g.id, "t", 0),
        lambda: store.set_retention(g.id, 7),
        lambda: store.delete_group(g.id),
    ):
        with pytest.raises(Deleted) as group_gone:
            write()
        assert group_gone.value.kind == "group"


def test_streams_order_by_name_or_last_event_and_page(store: LogsStore) -> None:
    g = store.create_group("/g", 0, None, "STANDARD")
    ids = {name: store.create_stream(g.id, name, 0).id for name in ("b", "a", "c", "ab")}
    put(store, g.id, ids["c"], [(10, "x")], 0)
    put(store, g.id, ids["a"], [(20, "x")], 0)
    by_name = store.streams(g.id, None, False, False, None, 10)
    assert [s.name for s in by_name] == ["a", "ab", "b", "c"]
    assert [s.name for s in store.streams(g.id, "a", False, True, None, 10)] == ["ab", "a"]
    a = store.stream(g.id, "a")
    assert (a.first_event_timestamp, a.last_event_timestamp, a.stored_bytes) == (20, 20, 1)
    newest = store.streams(g.id, None, True, True, None, 2)
    assert [s.name for s in newest] == ["a", "c"]
    assert store.stream(g.id, "missing") is None
    assert store.stream_ids(g.id, ["a", "c", "zz"], None) == {ids["a"]: "a", ids["c"]: "c"}
    assert store.stream_ids(g.id, None, "a") == {ids["a"]: "a", ids["ab"]: "ab"}


def test_retention_and_tags_are_kept_per_group(store: LogsStore) -> None:
    g = store.create_group("/g", 0, None, "STANDARD")
    other = store.create_group("/other", 0, None, "STANDARD")
    store.set_retention(g.id, 30)
    assert store.group("/g").retention_days == 30 and store.group("/other").retention_days is None
    store.set_retention(g.id, None)
    assert store.group("/g").retention_days is None
    store.set_tags(g.id, {"team": "a", "env": "prod"})
    store.set_tags(g.id, {"team": "b"})
    assert store.tags(g.id) == {"team": "b", "env": "prod"} and store.tags(other.id) == {}
    store.remove_tags(g.id, ["env", "absent"])
    assert store.tags(g.id) == {"team": "b"}
