"""The SNS service in process: fan-out decisions, ``publish_internal`` and confirmation rules,
checked with a recording deliverer (no outbox, no network), so every "not delivered" is exact.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from logsieve.errors import ServiceError
from logsieve.sns import Message, SnsService
from logsieve.sns.fanout import Recipients
from logsieve.storage.topics import SubscriptionRow, TopicRow
from logsieve.storage.topics_sqlite import SqliteTopicStore

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:f"


class Recorder:
    """Records confirmations, goodbyes, and each message's recipients as the fan-out finds
    them (``Recipients``: confirmed subscriptions whose filter policy accepts it)."""

    recipients: Recipients

    def __init__(self) -> None:
        self.confirmations: list[str] = []
        self.deliveries: list[tuple[str, Message]] = []
        self.goodbyes: list[str] = []

    def confirm(self, topic: TopicRow, subscription: SubscriptionRow) -> None:
        self.confirmations.append(subscription.endpoint)

    def publish(self, topic: TopicRow, messages: list[Message]) -> None:
        for message in messages:
            for subscription in self.recipients.of(topic.arn, message):
                self.deliveries.append((subscription.endpoint, message))

    def unsubscribed(self, topic: TopicRow | None, subscription: SubscriptionRow) -> None:
        self.goodbyes.append(subscription.endpoint)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def service(tmp_path: Path, recorder: Recorder) -> Iterator[SnsService]:
    store = SqliteTopicStore(tmp_path / "sns.db")
    recorder.recipients = Recipients(store)
    yield SnsService(store, "us-east-1", "123456789012", recorder)
    store.close()


def topic(service: SnsService, name: str = "alerts") -> str:
    return service.create_topic({"Name": name})["TopicArn"]


def subscribe(service: SnsService, arn: str, protocol: str, endpoint: str, **extra) -> str:
    params = {"TopicArn": arn, "Protocol": protocol, "Endpoint": endpoint,
              "ReturnSubscriptionArn": True, **extra}  # fmt: skip
    return service.subscribe(params)["SubscriptionArn"]


def test_publish_internal_reaches_confirmed_subscriptions_only(service, recorder) -> None:
    arn = topic(service)
    subscribe(service, arn, "email", "pending@example.com")
    subscribe(service, arn, "lambda", LAMBDA)
    message_id = service.publish_internal(arn, "disk full", subject="Disk")
    assert recorder.confirmations == ["pending@example.com"]
    assert [(endpoint, m.message_id) for endpoint, m in recorder.deliveries] == [
        (LAMBDA, message_id)
    ]
    message = recorder.deliveries[0][1]
    assert (message.topic_arn, message.subject, message.body) == (arn, "Disk", "disk full")


def test_publish_internal_errors(service) -> None:
    arn = topic(service)
    with pytest.raises(ServiceError) as raised:
        service.publish_internal(arn + "-missing", "m")
    assert (raised.value.code, raised.value.message) == (
        "NotFoundException",
        "Topic does not exist",
    )
    with pytest.raises(ServiceError) as raised:
        service.publish_internal(arn, "m", subject="x" * 101)
    assert raised.value.message == "Invalid parameter: Subject"


def test_confirmation_enables_delivery(service, recorder) -> None:
    arn = topic(service)
    sub = subscribe(service, arn, "https", "https://hooks.example.com/sns")
    token = service.store.get_subscription(sub).token
    service.publish_internal(arn, "before")
    assert recorder.deliveries == []
    assert service.confirm_subscription_link({"TopicArn": arn, "Token": token}) == {
        "SubscriptionArn": sub
    }
    service.publish_internal(arn, "after")
    assert [m.body for _, m in recorder.deliveries] == ["after"]


def test_filter_policy_decides_fan_out(service, recorder) -> None:
    arn = topic(service)
    policy = json.dumps({"severity": ["high"]})
    subscribe(service, arn, "lambda", LAMBDA, Attributes={"FilterPolicy": policy})

    def severity(value: str) -> dict:
        return {"severity": {"DataType": "String", "StringValue": value}}

    service.publish_internal(arn, "low", attributes=severity("low"))
    service.publish_internal(arn, "none")
    service.publish_internal(arn, "high", attributes=severity("high"))
    assert [m.body for _, m in recorder.deliveries] == ["high"]


def test_authenticate_on_unsubscribe(service, recorder) -> None:
    arn = topic(service)
    sub = subscribe(service, arn, "http", "http://127.0.0.1:9/x")
    token = service.store.get_subscription(sub).token
    params = {"TopicArn": arn, "Token": token, "AuthenticateOnUnsubscribe": "true"}
    service.confirm_subscription(params)  # a signed call
    assert (
        service.get_subscription_attributes({"SubscriptionArn": sub})["Attributes"][
            "ConfirmationWasAuthenticated"
        ]
        == "true"
    )
    with pytest.raises(ServiceError) as raised:
        service.unsubscribe_link({"SubscriptionArn": sub})
    assert raised.value.code == "AuthorizationErrorException"
    service.unsubscribe({"SubscriptionArn": sub})  # the owner, signed: allowed, no goodbye
    assert recorder.goodbyes == []


def test_link_unsubscribe_says_goodbye_to_http_endpoints(service, recorder) -> None:
    arn = topic(service)
    sub = subscribe(service, arn, "http", "http://127.0.0.1:9/y")
    token = service.store.get_subscription(sub).token
    service.confirm_subscription_link({"TopicArn": arn, "Token": token})
    service.unsubscribe_link({"SubscriptionArn": sub})
    assert recorder.goodbyes == ["http://127.0.0.1:9/y"]
    assert service.store.get_subscription(sub) is None


def test_token_of_another_topic_is_refused(service) -> None:
    first, second = topic(service, "first"), topic(service, "second")
    sub = subscribe(service, first, "email", "a@example.com")
    token = service.store.get_subscription(sub).token
    with pytest.raises(ServiceError) as raised:
        service.confirm_subscription({"TopicArn": second, "Token": token})
    assert raised.value.message == "Invalid parameter: Token"


def test_deleting_a_topic_deletes_its_subscriptions(service) -> None:
    arn = topic(service)
    sub = subscribe(service, arn, "lambda", LAMBDA)
    service.delete_topic({"TopicArn": arn})
    assert service.store.get_subscription(sub) is None
    assert service.list_subscriptions({}) == {"Subscriptions": []}
