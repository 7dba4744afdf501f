"""``[sns] auto_confirm = true`` (local use), durability of deliveries and of topics.

A server of its own: auto-confirm is a server setting, and this module stops the SMTP server
and kills the process on purpose.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.receivers import HttpReceiver, SmtpServer
from tests.server import Server, client
from tests.sns.helpers import start_server, text_body


@pytest.fixture(scope="module")
def late_smtp() -> Iterator[SmtpServer]:
    """An SMTP server that is down until a test starts it."""
    smtp = SmtpServer()
    yield smtp
    smtp.stop()


@pytest.fixture(scope="module")
def auto_server(tmp_path_factory: pytest.TempPathFactory, late_smtp: SmtpServer):
    root = tmp_path_factory.mktemp("sns-auto")
    server = start_server(root, late_smtp, extra="\n[sns]\nauto_confirm = true\n")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def auto_sns(auto_server: Server):
    return client(auto_server, "sns", retries=0)


def test_email_is_confirmed_at_once_and_arrives_once_smtp_is_back(
    auto_sns, late_smtp: SmtpServer
) -> None:
    address = f"auto-{uuid.uuid4().hex[:8]}@example.com"
    arn = auto_sns.create_topic(Name=f"auto-{uuid.uuid4().hex[:8]}")["TopicArn"]
    sub = auto_sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=address)["SubscriptionArn"]
    assert sub.startswith(arn + ":")  # not "pending confirmation"
    attributes = auto_sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attributes["PendingConfirmation"] == "false"
    # Published while the SMTP server is down: accepted, kept, and sent once it is back.
    auto_sns.publish(TopicArn=arn, Message="written while SMTP was down", Subject="later")
    late_smtp.start()
    (mail,) = late_smtp.wait_messages(address)  # exactly one: no confirmation email either
    assert mail["Subject"] == "later"
    assert text_body(mail).startswith("written while SMTP was down\n")


def test_http_gets_no_confirmation_request(auto_sns, receiver: HttpReceiver) -> None:
    arn = auto_sns.create_topic(Name=f"auto-{uuid.uuid4().hex[:8]}")["TopicArn"]
    path = f"/auto/{uuid.uuid4().hex[:8]}"
    sub = auto_sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=receiver.url + path)
    assert sub["SubscriptionArn"].startswith(arn + ":")
    auto_sns.publish(TopicArn=arn, Message="first thing received")
    (request,) = receiver.wait_requests(path)
    assert request.headers["x-amz-sns-message-type"] == "Notification"
    assert request.json()["Message"] == "first thing received"


def test_topics_and_subscriptions_survive_a_crash(
    auto_server: Server, auto_sns, receiver: HttpReceiver
) -> None:
    arn = auto_sns.create_topic(Name=f"durable-{uuid.uuid4().hex[:8]}")["TopicArn"]
    path = f"/durable/{uuid.uuid4().hex[:8]}"
    sub = auto_sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=receiver.url + path)[
        "SubscriptionArn"
    ]
    auto_server.kill()  # SIGKILL: nothing gets to flush
    auto_server.start()
    topics = [t["TopicArn"] for p in auto_sns.get_paginator("list_topics").paginate()
              for t in p["Topics"]]  # fmt: skip
    assert arn in topics
    assert [s["SubscriptionArn"] for s in auto_sns.list_subscriptions_by_topic(TopicArn=arn)[
        "Subscriptions"
    ]] == [sub]  # fmt: skip
    auto_sns.publish(TopicArn=arn, Message="after the crash")
    (request,) = receiver.wait_requests(path)
    assert request.json()["Message"] == "after the crash"


def test_signing_key_is_kept_across_restarts(auto_server: Server) -> None:
    pem = (auto_server.data_dir / "sns-signing-cert.pem").read_bytes()
    auto_server.stop()
    auto_server.start()
    assert (auto_server.data_dir / "sns-signing-cert.pem").read_bytes() == pem
