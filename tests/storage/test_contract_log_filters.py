"""The ``LogFilters`` contract: subscription and metric filters, for every engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from logsieve.storage import Deleted, LogsStore, MetricFilter, SubscriptionFilter
from logsieve.storage.factory import Stores

from .test_contract_event_log import put


@pytest.fixture
def store(stores: Stores) -> Iterator[LogsStore]:
    s = stores.logs()
    yield s
    s.close()


def subscription(group_id: int, group: str, name: str, pattern: str = "") -> SubscriptionFilter:
    return SubscriptionFilter(
        group_id, group, name, pattern, "arn:aws:lambda:us-east-1:1:function:f", None,
        "ByLogStream", 5, {"emitSystemFields": ["@aws.region"]},
    )  # fmt: skip


def metric(group: str, name: str, metric_name: str = "Errors") -> MetricFilter:
    transformation = {"metricName": metric_name, "metricNamespace": "App", "metricValue": "1"}
    return MetricFilter(group, name, "ERROR", [transformation], 5)


def test_a_new_subscription_starts_at_the_end_of_the_log(store: LogsStore) -> None:
    g = store.create_group("/g", 0, None, "STANDARD")
    s = store.create_stream(g.id, "s", 0)
    put(store, g.id, s.id, [(1, "before")], 0)
    item = subscription(g.id, "/g", "f")
    store.put_subscription_filter(item)
    assert store.read_after(store.cursor(item.consumer), 10) == []
    put(store, g.id, s.id, [(2, "after")], 0)
    assert [e[5] for e in store.read_after(store.cursor(item.consumer), 10)] == ["after"]
    store.commit_cursor(item.consumer, store.last_seq())
    moved = store.cursor(item.consumer)
    store.put_subscription_filter(subscription(g.id, "/g", "f", "changed"))  # a replace
    assert store.cursor(item.consumer) == moved
    assert [f.pattern for f in store.subscription_filters(g.id)] == ["changed"]


def test_subscriptions_are_listed_by_group_then_name(store: LogsStore) -> None:
    b = store.create_group("/b", 0, None, "STANDARD")
    a = store.create_group("/a", 0, None, "STANDARD")
    for group_id, group, name in ((b.id, "/b", "y"), (a.id, "/a", "z"), (b.id, "/b", "x")):
        store.put_subscription_filter(subscription(group_id, group, name))
    every = store.subscription_filters(None)
    assert [(f.group_name, f.name) for f in every] == [("/a", "z"), ("/b", "x"), ("/b", "y")]
    assert every[0].options == {"emitSystemFields": ["@aws.region"]}
    assert [f.name for f in store.subscription_filters(b.id, after="x")] == ["y"]
    assert [f.name for f in store.subscription_filters(b.id, prefix="x")] == ["x"]
    assert [f.name for f in store.subscription_filters(b.id, limit=1)] == ["x"]


def test_deleting_a_subscription_forgets_its_cursor(store: LogsStore) -> None:
    g = store.create_group("/g", 0, None, "STANDARD")
    item = subscription(g.id, "/g", "f")
    store.put_subscription_filter(item)
    store.commit_cursor(item.consumer, 7)
    assert store.delete_subscription_filter(g.id, "f") is True
    assert store.delete_subscription_filter(g.id, "f") is False
    assert store.cursor(item.consumer) == 0 and store.subscription_filters(g.id) == []


def test_metric_filters_by_name_group_and_metric(store: LogsStore) -> None:
    a = store.create_group("/a", 0, None, "STANDARD")
    b = store.create_group("/b", 0, None, "STANDARD")
    store.put_metric_filter(b.id, metric("/b", "errors"))
    store.put_metric_filter(a.id, metric("/a", "errors"))
    store.put_metric_filter(a.id, metric("/a", "latency", "Latency"))
    listed = store.metric_filters(None, None, None, None, 10)
    assert [(f.name, f.group_name) for f in listed] == [
        ("errors", "/a"), ("errors", "/b"), ("latency", "/a"),
    ]  # fmt: skip
    assert listed[0].transformations[0]["metricName"] == "Errors"
    assert [f.name for f in store.metric_filters("/a", "lat", None, None, 10)] == ["latency"]
    by_metric = store.metric_filters(None, None, ("Latency", "App"), None, 10)
    assert [f.name for f in by_metric] == ["latency"]
    page = store.metric_filters(None, None, None, ("errors", "/a"), 1)
    assert [(f.name, f.group_name) for f in page] == [("errors", "/b")]
    assert store.count_metric_filters(a.id) == 2
    assert store.delete_metric_filter(a.id, "errors") is True
    assert store.delete_metric_filter(a.id, "errors") is False
    assert store.count_metric_filters(a.id) == 1


def test_filters_of_a_deleted_group_go_with_it(store: LogsStore) -> None:
    g = store.create_group("/g", 0, None, "STANDARD")
    item = subscription(g.id, "/g", "f")
    store.put_subscription_filter(item)
    store.put_metric_filter(g.id, metric("/g", "m"))
    store.delete_group(g.id)
    assert store.subscription_filters(None) == []
    assert store.metric_filters(None, None, None, None, 10) == []
    assert store.cursor(item.consumer) == 0
    with pytest.raises(Deleted):
        store.put_subscription_filter(item)
    with pytest.raises(Deleted):
        store.put_metric_filter(g.id, metric("/g", "m"))
