"""Lambda subscriptions: a handler declared in the config file receives AWS's SNS event."""

from __future__ import annotations

import re
from pathlib import Path

from tests.sns.helpers import function_arn, lambda_events, verify_sns_signature
from tests.waiting import wait_for

TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def events_for(root: Path, message_id: str) -> list[dict]:
    return [e for e in lambda_events(root) if e["Records"][0]["Sns"]["MessageId"] == message_id]


def test_lambda_receives_the_sns_event(sns, topic, sns_root: Path) -> None:
    arn = topic()
    sub = sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint=function_arn("sns-recorder"))[
        "SubscriptionArn"
    ]
    message_id = sns.publish(
        TopicArn=arn,
        Subject="IAM activity",
        Message="alice called StopLogging",
        MessageAttributes={"user": {"DataType": "String", "StringValue": "alice"}},
    )["MessageId"]
    (event,) = wait_for(lambda: events_for(sns_root, message_id), what="the Lambda event")
    (record,) = event["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"] == sub
    notification = record["Sns"]
    assert list(notification) == [
        "Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion",
        "Signature", "SigningCertUrl", "UnsubscribeUrl", "MessageAttributes",
    ]  # fmt: skip
    assert notification["Type"] == "Notification"
    assert notification["TopicArn"] == arn
    assert notification["Subject"] == "IAM activity"
    assert notification["Message"] == "alice called StopLogging"
    assert re.fullmatch(TIMESTAMP, notification["Timestamp"])
    assert notification["SignatureVersion"] == "1"
    assert notification["UnsubscribeUrl"].endswith(f"?Action=Unsubscribe&SubscriptionArn={sub}")
    assert notification["MessageAttributes"] == {"user": {"Type": "String", "Value": "alice"}}
    # The same fields, named as in the HTTP document, verify with the served certificate.
    verify_sns_signature({**notification, "SigningCertURL": notification["SigningCertUrl"]})


def test_lambda_event_without_subject(sns, topic, sns_root: Path) -> None:
    arn = topic()
    sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint=function_arn("sns-recorder"))
    message_id = sns.publish(TopicArn=arn, Message="no subject")["MessageId"]
    (event,) = wait_for(lambda: events_for(sns_root, message_id), what="the Lambda event")
    notification = event["Records"][0]["Sns"]
    assert notification["Subject"] is None
    assert notification["MessageAttributes"] == {}


def test_message_structure_lambda_entry(sns, topic, sns_root: Path) -> None:
    arn = topic()
    sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint=function_arn("sns-recorder"))
    message_id = sns.publish(
        TopicArn=arn,
        MessageStructure="json",
        Message='{"default": "for others", "lambda": "for the function"}',
    )["MessageId"]
    (event,) = wait_for(lambda: events_for(sns_root, message_id), what="the Lambda event")
    assert event["Records"][0]["Sns"]["Message"] == "for the function"
