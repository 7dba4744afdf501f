"""Email subscriptions end to end: a real SMTP server receives what the server sends.

Confirmation works as on AWS: the subscription stays pending, an email with AWS's subject and
a ``?Action=ConfirmSubscription&TopicArn=...&Token=...`` link arrives, and following the link
(with no credentials, like a mail reader) confirms it.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from email.utils import parseaddr
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.receivers import SmtpServer
from tests.server import Server, client
from tests.sns.helpers import find_link, function_arn, text_body, verify_sns_signature

NS = "{http://sns.amazonaws.com/doc/2010-03-31/}"


def confirm_by_link(smtp: SmtpServer, address: str, topic_arn: str) -> str:
    """Wait for the confirmation email, follow its link; returns the subscription ARN."""
    (confirmation,) = smtp.wait_messages(address)
    assert confirmation["Subject"] == "AWS Notification - Subscription Confirmation"
    text = text_body(confirmation)
    assert topic_arn in text
    assert "To confirm this subscription, click or visit the link below" in text
    link = find_link(text, "ConfirmSubscription")
    query = parse_qs(urlsplit(link).query)
    assert query["TopicArn"] == [topic_arn]
    assert re.fullmatch(r"[0-9a-f]{256}", query["Token"][0])
    response = httpx.get(link)  # no signature: what a mail reader does
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.content)
    assert root.tag == f"{NS}ConfirmSubscriptionResponse"
    arn = root.findtext(f"{NS}ConfirmSubscriptionResult/{NS}SubscriptionArn")
    assert arn is not None and arn.startswith(topic_arn + ":")
    return arn


def test_confirmation_email_link_and_japanese_subject(sns, topic, smtp: SmtpServer, address):
    arn = topic(Attributes={"DisplayName": "セキュリティ警告"})
    assert sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=address)["SubscriptionArn"] == (
        "pending confirmation"
    )
    sub = confirm_by_link(smtp, address, arn)
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attributes["PendingConfirmation"] == "false"
    listed = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == [sub]

    subject = "アラート: 不正なログインを検知しました"
    message = "ユーザー alice が 203.0.113.7 からログインしました。\nSecond line."
    message_id = sns.publish(TopicArn=arn, Subject=subject, Message=message)["MessageId"]
    _, notification = smtp.wait_messages(address, 2)
    assert notification["Subject"] == subject
    name, sender = parseaddr(notification["From"])
    assert (name, sender) == ("セキュリティ警告", "alerts@logsieve.test")
    assert notification["x-amz-sns-message-id"] == message_id
    assert notification["x-amz-sns-subscription-arn"] == sub
    body = text_body(notification)
    assert body.startswith(message + "\n\n--\nIf you wish to stop receiving notifications")
    unsubscribe = find_link(body, "Unsubscribe")
    assert unsubscribe.endswith(f"?Action=Unsubscribe&SubscriptionArn={sub}")

    response = httpx.get(unsubscribe)
    assert response.status_code == 200
    assert ET.fromstring(response.content).tag == f"{NS}UnsubscribeResponse"
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []


def test_default_subject_and_message_structure(sns, topic, smtp: SmtpServer, address):
    arn = topic()
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=address)
    confirm_by_link(smtp, address, arn)
    structured = json.dumps({"default": "for everyone", "email": "just for email"})
    sns.publish(TopicArn=arn, Message=structured, MessageStructure="json")
    _, notification = smtp.wait_messages(address, 2)
    assert notification["Subject"] == "AWS Notification Message"
    assert text_body(notification).startswith("just for email\n")


def test_confirm_through_the_api_and_email_json(sns, topic, smtp: SmtpServer, address):
    arn = topic()
    sns.subscribe(TopicArn=arn, Protocol="email-json", Endpoint=address)
    (confirmation,) = smtp.wait_messages(address)
    # email-json subscribers get the signed SubscriptionConfirmation document, as on AWS.
    assert confirmation["Subject"] == "AWS Notification - Subscription Confirmation"
    request = json.loads(text_body(confirmation))
    assert request["Type"] == "SubscriptionConfirmation"
    assert request["TopicArn"] == arn
    verify_sns_signature(request)
    token = request["Token"]
    assert request["SubscribeURL"].endswith(f"&Token={token}")
    sub = sns.confirm_subscription(TopicArn=arn, Token=token)["SubscriptionArn"]
    assert sub.startswith(arn + ":")
    # Confirming again is harmless and names the same subscription.
    assert sns.confirm_subscription(TopicArn=arn, Token=token)["SubscriptionArn"] == sub

    message_id = sns.publish(
        TopicArn=arn,
        Subject="Port scan",
        Message="110.53.1.2 probed 40 ports",
        MessageAttributes={"severity": {"DataType": "String", "StringValue": "high"}},
    )["MessageId"]
    _, notification = smtp.wait_messages(address, 2)
    assert notification["Subject"] == "Port scan"
    document = json.loads(text_body(notification))
    assert document["Type"] == "Notification"
    assert document["MessageId"] == message_id
    assert document["TopicArn"] == arn
    assert document["Subject"] == "Port scan"
    assert document["Message"] == "110.53.1.2 probed 40 ports"
    assert document["MessageAttributes"] == {"severity": {"Type": "String", "Value": "high"}}
    assert document["UnsubscribeURL"].endswith(f"?Action=Unsubscribe&SubscriptionArn={sub}")
    verify_sns_signature(document)


def test_resubscribing_a_pending_address_sends_the_confirmation_again(
    sns, topic, smtp: SmtpServer, address
):
    arn = topic()
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=address)
    smtp.wait_messages(address, 1)
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=address)
    first, second = smtp.wait_messages(address, 2)
    assert first["Subject"] == second["Subject"] == "AWS Notification - Subscription Confirmation"
    assert find_link(text_body(first), "ConfirmSubscription") == find_link(
        text_body(second), "ConfirmSubscription"
    )


def test_a_handler_written_for_aws_publishes_and_the_email_arrives(
    sns, sns_server: Server, smtp: SmtpServer, address
):
    """The ``sns-publisher`` function calls ``boto3.client("sns").publish`` unchanged, with
    the topic ARN from its environment; the subscriber's email arrives."""
    arn = sns.create_topic(Name="from-handler")["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=address)
    confirm_by_link(smtp, address, arn)
    lambdas = client(sns_server, "lambda")
    result = lambdas.invoke(
        FunctionName=function_arn("sns-publisher"),
        Payload=json.dumps({"subject": "VPN: alice connected", "message": "from 198.51.100.4"}),
    )
    assert "FunctionError" not in result, result["Payload"].read()
    _, notification = smtp.wait_messages(address, 2)
    assert notification["Subject"] == "VPN: alice connected"
    assert text_body(notification).startswith("from 198.51.100.4\n")
