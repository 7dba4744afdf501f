"""Issue 11 item 10: poison messages are refused up front, and never block or linger.

Publish and Set/CreateTopic reject what AWS rejects (a Subject or DisplayName with a line
break or another control character) with AWS's code and message. Items already in the outbox
that can never be sent (written by an older version, before these checks) are given up at
once with their error, while the other email keeps flowing, and can be re-driven.
"""

from __future__ import annotations

import uuid

import orjson
import pytest
from botocore.exceptions import ClientError

from logsieve.notify.outbox import Outbox
from tests.receivers import SmtpServer
from tests.server import Server
from tests.sns.helpers import admin_get
from tests.waiting import wait_for

BREAKS = ["a\nb", "a\rb", "a\r\nb", "a\u2028b", "a\u2029b", "a\x85b", "a\x0bb", "a\x0cb",
          "a\x07b", "a\x00b", "\tleading tab"]  # fmt: skip


def _error(call, **params) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


@pytest.mark.parametrize("subject", BREAKS)
def test_publish_rejects_a_subject_with_a_line_break_or_control_character(
    sns, topic, subject: str
) -> None:
    arn = topic()
    assert _error(sns.publish, TopicArn=arn, Message="m", Subject=subject) == (
        "InvalidParameter",
        "Invalid parameter: Subject",
    )
    entry = {"Id": "one", "Message": "m", "Subject": subject}
    assert _error(sns.publish_batch, TopicArn=arn, PublishBatchRequestEntries=[entry]) == (
        "InvalidParameter",
        "Invalid parameter: Subject",
    )


@pytest.mark.parametrize("name", ["Ops\r\nBcc: x@example.com", "a\nb", "a\u2028b", "a\x07b"])
def test_display_name_with_a_line_break_is_rejected(sns, topic, name: str) -> None:
    arn = topic()
    assert _error(
        sns.set_topic_attributes, TopicArn=arn, AttributeName="DisplayName", AttributeValue=name
    ) == ("InvalidParameter", "Invalid parameter: DisplayName")
    assert _error(
        sns.create_topic, Name=f"dn-{uuid.uuid4().hex[:8]}", Attributes={"DisplayName": name}
    ) == ("InvalidParameter", "Invalid parameter: Attributes Reason: DisplayName")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == ""


@pytest.mark.parametrize(
    ("protocol", "endpoint", "what"),
    [
        ("email", "someone@example.com\r\n", "Email address"),
        ("email", "someone@example.com\r\nBcc: x@example.com", "Email address"),
        ("email-json", "some\u2028one@example.com", "Email address"),
        ("http", "http://127.0.0.1:9/path\r\nX-Injected: 1", "Endpoint"),
    ],
)
def test_subscribe_rejects_an_endpoint_with_a_line_break(
    sns, topic, protocol: str, endpoint: str, what: str
) -> None:
    assert _error(sns.subscribe, TopicArn=topic(), Protocol=protocol, Endpoint=endpoint) == (
        "InvalidParameter",
        f"Invalid parameter: {what}",
    )


def _confirmed_email(sns, topic, smtp: SmtpServer) -> tuple[str, str, str]:
    """A topic with one confirmed email subscription: (topic ARN, subscription ARN, address)."""
    from tests.sns.helpers import find_link, text_body

    arn, address = topic(), f"poison-{uuid.uuid4().hex[:8]}@example.com"
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=address)
    (confirmation,) = smtp.wait_messages(address)
    token = find_link(text_body(confirmation), "ConfirmSubscription").rpartition("Token=")[2]
    sub = sns.confirm_subscription(TopicArn=arn, Token=token)["SubscriptionArn"]
    return arn, sub, address


def test_poison_items_in_the_outbox_are_given_up_at_once_and_email_still_flows(
    sns, topic, smtp: SmtpServer, sns_server: Server, address: str
) -> None:
    arn, sub, poisoned = _confirmed_email(sns, topic, smtp)
    # As an older version wrote them: a subject with U+2028, a From name with CR/LF (header
    # injection, refused by the email library), a recipient that is not an address.
    poison = [
        {"subject": "Disk\u2028full"},
        {"from_name": "Ops\r\nBcc: victim@example.com"},
        {"to": "not an address\r\n"},
        {"subject": "Para\u2029graph"},
    ]
    tag = uuid.uuid4().hex[:8]
    outbox = Outbox(sns_server.data_dir / "outbox.db")
    try:
        for number, change in enumerate(poison):
            payload = {
                "sub": sub, "check": "confirmed", "to": poisoned, "from_name": "Ops",
                "subject": "s", "text": "poison", "html": None, "headers": {}, **change,
            }  # fmt: skip
            outbox.enqueue("sns-email", orjson.dumps(payload), f"{tag}-{number}:{sub}")
    finally:
        outbox.close()

    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=address)
    (confirmation,) = smtp.wait_messages(address)
    assert confirmation  # email to someone else still flows behind five poison items

    def given_up() -> list[dict]:
        failures = admin_get(sns_server, "notifications")["failures"]
        return [f for f in failures if f["key"].startswith(tag)] if failures else []

    found = wait_for(
        lambda: len(given_up()) == 4 and given_up(), what="the poison items to be given up"
    )
    assert all(f["attempts"] == 1 for f in found), found
    errors = " | ".join(f["error"] for f in found)
    assert "line break" in errors.lower() or "linefeed" in errors.lower(), errors
    assert len(smtp.messages(poisoned)) == 1  # only its confirmation


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(400, False), (403, False), (404, False), (410, False), (408, True), (429, True),
     (500, True), (503, True)],
)  # fmt: skip
def test_http_answers_that_can_never_succeed_are_not_retried(
    tmp_path, status: int, retryable: bool
) -> None:
    from logsieve.notify.outbox import DeliveryFailed
    from logsieve.notify.sns_delivery import EmailSettings, SnsDeliveries
    from logsieve.sns.signing import Signer
    from logsieve.storage.topics_sqlite import SqliteTopicStore
    from tests.receivers import HttpReceiver, Reply

    store, outbox = SqliteTopicStore(tmp_path / "sns.db"), Outbox(tmp_path / "outbox.db")
    deliveries = SnsDeliveries(
        store, outbox, Signer(tmp_path / "keys"), "http://127.0.0.1:1",
        EmailSettings(None, "a@example.com"),
    )  # fmt: skip
    with HttpReceiver(default=Reply(status, b"no")) as receiver:
        payload = {"sub": "s", "check": "always", "url": receiver.url + "/x", "headers": {},
                   "body": "{}"}  # fmt: skip
        with pytest.raises(DeliveryFailed) as caught:
            deliveries.send_http(orjson.dumps(payload))
    assert caught.value.retryable is retryable
    assert f"HTTP {status}" in caught.value.message
    with pytest.raises(DeliveryFailed) as caught:  # not a delivery at all
        deliveries.send_http(b'{"sub": "s"}')
    assert caught.value.retryable is False
    deliveries.close()
    outbox.close()
    store.close()
