"""SNS topic channel: a real boto3 Publish call, received by a local SNS-shaped endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

import pytest

from logsieve.notify.message import Notification
from logsieve.notify.outbox import DeliveryFailed
from logsieve.notify.sns_topic import SnsTopicChannel, sns_subject
from tests.receivers import HttpReceiver, Reply
from tests.server import free_port

TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"
OK = Reply(
    200,
    b'<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
    b"<PublishResult><MessageId>6b1e4c3a-0000-4000-8000-000000000001</MessageId>"
    b"</PublishResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>"
    b"</PublishResponse>",
    {"Content-Type": "text/xml"},
)


def error(status: int, kind: str, code: str, message: str) -> Reply:
    return Reply(
        status,
        f'<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error>'
        f"<Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>r-2</RequestId></ErrorResponse>".encode(),
        {"Content-Type": "text/xml"},
    )


@dataclass
class Key:
    access_key_id: str = "AKIAEXAMPLEEXAMPLE22"
    secret_access_key: str = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"


def channel(url: str) -> SnsTopicChannel:
    return SnsTopicChannel("topic", TOPIC, url, "us-east-1", Key(), timeout=5)


def test_publish_request_has_the_query_protocol_shape() -> None:
    note = Notification(title="VPN接続: 田中 connected", text="本文\nline 2")
    with HttpReceiver(OK) as receiver:
        channel(receiver.url).send(note)
    [request] = receiver.requests()
    assert request.path == "/"
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert request.headers["authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEEXAMPLE22/"
    )
    assert "/us-east-1/sns/aws4_request" in request.headers["authorization"]
    form = {k: v[0] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()}
    assert form == {
        "Action": "Publish",
        "Version": "2010-03-31",
        "TopicArn": TOPIC,
        "Subject": "VPN接続: 田中 connected",
        "Message": "本文\nline 2",
    }


def test_subject_follows_sns_rules() -> None:
    # "UTF-8 text with no line breaks or control characters, and less than 100 characters".
    subject = sns_subject("line one\nline\ttwo\x07" + "x" * 200)
    assert len(subject) < 100
    assert subject.startswith("line one line two ")
    assert all(ch.isprintable() for ch in subject)
    assert sns_subject("") == ""


def test_empty_title_sends_no_subject() -> None:
    with HttpReceiver(OK) as receiver:
        channel(receiver.url).send(Notification(title="", text="body"))
    form = parse_qs(receiver.requests()[0].body.decode())
    assert "Subject" not in form


@pytest.mark.parametrize(
    ("reply", "retryable"),
    [
        (error(404, "Sender", "NotFound", "Topic does not exist"), False),
        (error(400, "Sender", "InvalidParameter", "Invalid parameter: Subject"), False),
        (error(403, "Sender", "AuthorizationError", "not authorized"), False),
        (error(400, "Sender", "Throttled", "slow down"), True),
        (error(500, "Receiver", "InternalError", "oops"), True),
    ],
)
def test_errors(reply: Reply, retryable: bool) -> None:
    with HttpReceiver(reply) as receiver:
        with pytest.raises(DeliveryFailed) as caught:
            channel(receiver.url).send(Notification(title="t", text="x"))
        assert len(receiver.requests()) == 1  # no hidden retries: the outbox retries
    assert caught.value.retryable is retryable


def test_unreachable_endpoint_is_retryable() -> None:
    with pytest.raises(DeliveryFailed) as caught:
        channel(f"http://127.0.0.1:{free_port()}").send(Notification(title="t", text="x"))
    assert caught.value.retryable
