"""The ``TopicStore`` contract (SNS-compatible topics and subscriptions), for every engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from logsieve.storage.factory import Stores
from logsieve.storage.topics import SubscriptionRow, TopicRow, TopicStore

ARN = "arn:aws:sns:us-east-1:123456789012:"


@pytest.fixture
def store(stores: Stores) -> Iterator[TopicStore]:
    opened = stores.topics()
    yield opened
    opened.close()


def topic(store: TopicStore, name: str, **attributes: str) -> TopicRow:
    row, created = store.create_topic(
        TopicRow(ARN + name, name, dict(attributes), {"b": "2", "a": "1"}, 5)
    )
    assert created
    return row


def subscribe(
    store: TopicStore, topic_arn: str, endpoint: str, protocol: str = "https"
) -> SubscriptionRow:
    row, created = store.add_subscription(
        SubscriptionRow(
            f"{topic_arn}:{endpoint[-8:]}", topic_arn, protocol, endpoint, "123456789012",
            {"RawMessageDelivery": "true"}, pending=True, token=f"token-{endpoint}",
        )
    )  # fmt: skip
    assert created
    return row


def test_topics_are_created_once_and_listed_in_creation_order(store: TopicStore) -> None:
    second = topic(store, "zeta", DisplayName="Z")
    first = topic(store, "alpha")
    again, created = store.create_topic(TopicRow(ARN + "zeta", "zeta", {"DisplayName": "other"}))
    assert not created and again.attributes == {"DisplayName": "Z"}
    assert second.seq < first.seq
    assert [t.name for t in store.list_topics(0, 10)] == ["zeta", "alpha"]
    assert [t.name for t in store.list_topics(second.seq, 10)] == ["alpha"]
    assert [t.name for t in store.list_topics(0, 1)] == ["zeta"]
    assert list(store.get_topic(ARN + "zeta").tags) == ["b", "a"]  # insertion order kept
    assert store.get_topic(ARN + "missing") is None


def test_update_replaces_attributes_or_tags(store: TopicStore) -> None:
    topic(store, "t", DisplayName="T")
    updated = store.update_topic(ARN + "t", attributes={"Policy": "{}"})
    assert updated.attributes == {"Policy": "{}"} and updated.tags == {"b": "2", "a": "1"}
    assert store.update_topic(ARN + "t", tags={"c": "3"}).tags == {"c": "3"}
    assert store.update_topic(ARN + "missing", attributes={}) is None


def test_subscriptions_are_unique_per_protocol_and_endpoint(store: TopicStore) -> None:
    t = topic(store, "t")
    sub = subscribe(store, t.arn, "https://example.com/hook")
    same, created = store.add_subscription(
        SubscriptionRow(t.arn + ":other", t.arn, "https", "https://example.com/hook", "o")
    )
    assert not created and same.arn == sub.arn
    assert store.get_subscription(sub.arn).attributes == {"RawMessageDelivery": "true"}
    with pytest.raises(ValueError):
        subscribe(store, ARN + "missing", "https://example.com/x")


def test_confirmation_by_token_and_authentication_only_turns_on(store: TopicStore) -> None:
    t = topic(store, "t")
    sub = subscribe(store, t.arn, "https://example.com/hook")
    assert store.subscription_by_token(sub.token).arn == sub.arn
    assert store.subscription_by_token("nope") is None
    confirmed = store.confirm_subscription(sub.arn, True)
    assert not confirmed.pending and confirmed.authenticated
    assert store.confirm_subscription(sub.arn, False).authenticated
    assert store.confirm_subscription(t.arn + ":missing", True) is None
    changed = store.set_subscription_attributes(sub.arn, {"FilterPolicy": "{}"})
    assert changed.attributes == {"FilterPolicy": "{}"}


def test_listing_and_deleting_subscriptions(store: TopicStore) -> None:
    a, b = topic(store, "a"), topic(store, "b")
    first = subscribe(store, a.arn, "https://example.com/1")
    other = subscribe(store, b.arn, "https://example.com/2")
    last = subscribe(store, a.arn, "user@example.com", "email")
    every = [s.arn for s in store.list_subscriptions(None, 0, 10)]
    assert every == [first.arn, other.arn, last.arn]
    assert [s.arn for s in store.list_subscriptions(a.arn, first.seq, 10)] == [last.arn]
    assert [s.arn for s in store.topic_subscriptions(a.arn)] == [first.arn, last.arn]
    assert store.delete_subscription(first.arn).arn == first.arn
    assert store.delete_subscription(first.arn) is None
    assert store.get_topic(a.arn).subscriptions_deleted == 1


def test_deleting_a_topic_deletes_its_subscriptions(store: TopicStore) -> None:
    t = topic(store, "t")
    sub = subscribe(store, t.arn, "https://example.com/hook")
    assert store.delete_topic(t.arn) is True and store.delete_topic(t.arn) is False
    assert store.get_subscription(sub.arn) is None and store.topic_subscriptions(t.arn) == []
    recreated = topic(store, "t")
    assert recreated.seq > t.seq and store.topic_subscriptions(t.arn) == []


def test_topics_survive_reopening(stores: Stores) -> None:
    first = stores.topics()
    t = topic(first, "t")
    subscribe(first, t.arn, "https://example.com/hook")
    first.close()
    again = stores.topics()
    try:
        assert again.get_topic(t.arn).tags == {"b": "2", "a": "1"}
        assert [s.endpoint for s in again.topic_subscriptions(t.arn)] == [
            "https://example.com/hook"
        ]
    finally:
        again.close()
