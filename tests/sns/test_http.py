"""HTTP/HTTPS subscriptions end to end: a real local endpoint receives SNS's documented
requests (SubscriptionConfirmation, then Notification), signed so a standard validator accepts
them."""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET

import httpx

from tests.receivers import HttpReceiver, Reply, Request
from tests.sns.helpers import verify_sns_signature

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
NS = "{http://sns.amazonaws.com/doc/2010-03-31/}"


def subscribe_and_confirm(
    sns, receiver: HttpReceiver, arn: str, version: str = "1"
) -> tuple[str, str, Request]:
    """Subscribe a fresh path, check the SubscriptionConfirmation, visit its SubscribeURL."""
    path = f"/hook/{uuid.uuid4().hex[:8]}"
    endpoint = receiver.url + path
    pending = sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=endpoint)["SubscriptionArn"]
    assert pending == "pending confirmation"
    (request,) = receiver.wait_requests(path)
    assert request.headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert request.headers["x-amz-sns-topic-arn"] == arn
    assert "x-amz-sns-subscription-arn" not in request.headers
    assert request.headers["content-type"] == "text/plain; charset=UTF-8"
    assert request.headers["user-agent"] == "Amazon Simple Notification Service Agent"
    document = request.json()
    assert list(document) == [
        "Type", "MessageId", "Token", "TopicArn", "Message", "SubscribeURL", "Timestamp",
        "SignatureVersion", "Signature", "SigningCertURL",
    ]  # fmt: skip
    assert document["Type"] == "SubscriptionConfirmation"
    assert request.headers["x-amz-sns-message-id"] == document["MessageId"]
    assert re.fullmatch(UUID, document["MessageId"])
    assert document["TopicArn"] == arn
    assert document["Message"] == (
        f"You have chosen to subscribe to the topic {arn}.\n"
        "To confirm the subscription, visit the SubscribeURL included in this message."
    )
    assert document["SubscribeURL"].endswith(
        f"/?Action=ConfirmSubscription&TopicArn={arn}&Token={document['Token']}"
    )
    assert re.fullmatch(TIMESTAMP, document["Timestamp"])
    assert document["SignatureVersion"] == version
    verify_sns_signature(document)
    # The receiving application confirms by fetching SubscribeURL, as AWS's docs show.
    response = httpx.get(document["SubscribeURL"])
    assert response.status_code == 200, response.text
    sub = ET.fromstring(response.content).findtext(
        f"{NS}ConfirmSubscriptionResult/{NS}SubscriptionArn"
    )
    assert sub is not None
    return path, sub, request


def test_confirmation_then_notification(sns, topic, receiver: HttpReceiver) -> None:
    arn = topic()
    path, sub, _ = subscribe_and_confirm(sns, receiver, arn)
    message_id = sns.publish(
        TopicArn=arn,
        Subject="Rejected traffic",
        Message='{"port": 23, "src": "110.53.1.2"}',
        MessageAttributes={
            "severity": {"DataType": "String", "StringValue": "high"},
            "count": {"DataType": "Number", "StringValue": "40"},
            "raw": {"DataType": "Binary", "BinaryValue": b"\x01\x02"},
        },
    )["MessageId"]
    _, request = receiver.wait_requests(path, 2)
    assert request.headers["x-amz-sns-message-type"] == "Notification"
    assert request.headers["x-amz-sns-message-id"] == message_id
    assert request.headers["x-amz-sns-topic-arn"] == arn
    assert request.headers["x-amz-sns-subscription-arn"] == sub
    document = request.json()
    assert list(document) == [
        "Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion",
        "Signature", "SigningCertURL", "UnsubscribeURL", "MessageAttributes",
    ]  # fmt: skip
    assert document["MessageId"] == message_id
    assert document["Subject"] == "Rejected traffic"
    assert document["Message"] == '{"port": 23, "src": "110.53.1.2"}'
    assert re.fullmatch(TIMESTAMP, document["Timestamp"])
    assert document["UnsubscribeURL"].endswith(f"/?Action=Unsubscribe&SubscriptionArn={sub}")
    assert document["MessageAttributes"] == {
        "severity": {"Type": "String", "Value": "high"},
        "count": {"Type": "Number", "Value": "40"},
        "raw": {"Type": "Binary", "Value": "AQI="},
    }
    assert request.body.startswith(b'{\n  "Type" : "Notification",\n  "MessageId" : ')
    verify_sns_signature(document)


def test_no_subject_key_without_a_subject(sns, topic, receiver: HttpReceiver) -> None:
    arn = topic()
    path, _, _ = subscribe_and_confirm(sns, receiver, arn)
    sns.publish(TopicArn=arn, Message="plain")
    _, request = receiver.wait_requests(path, 2)
    document = request.json()
    assert "Subject" not in document
    assert "MessageAttributes" not in document
    verify_sns_signature(document)


def test_signature_version_2(sns, topic, receiver: HttpReceiver) -> None:
    arn = topic(Attributes={"SignatureVersion": "2"})
    path, _, _ = subscribe_and_confirm(sns, receiver, arn, version="2")
    sns.publish(TopicArn=arn, Message="sha256", Subject="v2")
    _, request = receiver.wait_requests(path, 2)
    assert request.json()["SignatureVersion"] == "2"
    verify_sns_signature(request.json())


def test_a_failing_endpoint_gets_the_message_again(sns, topic, receiver: HttpReceiver) -> None:
    arn = topic()
    path, _, _ = subscribe_and_confirm(sns, receiver, arn)
    receiver.script(Reply(500, b""), path=path)
    message_id = sns.publish(TopicArn=arn, Message="retry me")["MessageId"]
    _, failed, retried = receiver.wait_requests(path, 3)
    assert failed.json()["MessageId"] == retried.json()["MessageId"] == message_id
    assert failed.body == retried.body  # the same signed document, same MessageId


def test_raw_message_delivery(sns, topic, receiver: HttpReceiver) -> None:
    arn = topic()
    path, sub, _ = subscribe_and_confirm(sns, receiver, arn)
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="true"
    )
    sns.publish(TopicArn=arn, Message="just the body ✓", Subject="ignored")
    _, request = receiver.wait_requests(path, 2)
    assert request.body.decode("utf-8") == "just the body ✓"
    assert request.headers["x-amz-sns-rawdelivery"] == "true"


def test_filter_policy_selects_messages(sns, topic, receiver: HttpReceiver) -> None:
    arn = topic()
    path, sub, _ = subscribe_and_confirm(sns, receiver, arn)
    sns.set_subscription_attributes(
        SubscriptionArn=sub,
        AttributeName="FilterPolicy",
        AttributeValue='{"severity": ["high", "critical"]}',
    )

    def severity(value: str) -> dict:
        return {"severity": {"DataType": "String", "StringValue": value}}

    sns.publish(TopicArn=arn, Message="low", MessageAttributes=severity("low"))
    sns.publish(TopicArn=arn, Message="none")
    sns.publish(TopicArn=arn, Message="high", MessageAttributes=severity("high"))
    receiver.wait_requests(path, 2)
    _, *notifications = receiver.requests(path)
    assert [r.json()["Message"] for r in notifications] == ["high"]


def test_unsubscribe_link_sends_unsubscribe_confirmation(sns, topic, receiver) -> None:
    arn = topic()
    path, sub, _ = subscribe_and_confirm(sns, receiver, arn)
    sns.publish(TopicArn=arn, Message="one")
    _, notification = receiver.wait_requests(path, 2)
    response = httpx.get(notification.json()["UnsubscribeURL"])
    assert response.status_code == 200
    *_, goodbye = receiver.wait_requests(path, 3)
    assert goodbye.headers["x-amz-sns-message-type"] == "UnsubscribeConfirmation"
    document = goodbye.json()
    assert document["Type"] == "UnsubscribeConfirmation"
    assert document["Message"].startswith(f"You have chosen to deactivate subscription {sub}.")
    verify_sns_signature(document)
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
