"""Probe: email endpoints that pass Subscribe but that no SMTP server may accept. Each is either
refused by Subscribe (InvalidParameter) or its confirmation is sent or given up at once (kept
with its error), never retried for a day in the outbox."""

from __future__ import annotations

import time
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.receivers import SmtpServer
from tests.server import Server
from tests.sns.helpers import admin_get

ODD_ADDRESSES = [
    "j\u00f6hn-{tag}@example.com",  # a non-ASCII local part (needs SMTPUTF8)
    "john-{tag}@ex\u00e4mple.com",  # a non-ASCII domain
    "a\u202e-{tag}@example.com",  # a bidi override (a format character)
    "x" * 250 + "-{tag}@example.com",  # longer than an address may be (254)
    '"quoted local"-{tag}@example.com',
]


@pytest.mark.parametrize("template", ODD_ADDRESSES)
def test_an_odd_email_endpoint_is_refused_or_settled_at_once(
    sns, topic, smtp: SmtpServer, sns_server: Server, template: str
) -> None:
    endpoint = template.format(tag=uuid.uuid4().hex[:8])
    try:
        sub = sns.subscribe(
            TopicArn=topic(), Protocol="email", Endpoint=endpoint, ReturnSubscriptionArn=True
        )["SubscriptionArn"]
    except ClientError as error:
        assert error.response["Error"]["Code"] == "InvalidParameter"
        return
    deadline = time.monotonic() + 15
    seen: dict = {}
    while time.monotonic() < deadline:
        if smtp.messages(endpoint):
            return  # sent
        seen = admin_get(sns_server, "notifications")
        given_up = [f for f in seen["failures"] or [] if sub in f["key"]]
        if given_up:
            assert given_up[0]["attempts"] == 1, given_up
            return
        time.sleep(0.1)
    raise AssertionError(f"{endpoint!r}: neither sent nor given up; outbox: {seen['channels']}")


ODD_MESSAGES = [
    "nul \x00 inside",
    "line\u2028separator and\u2029paragraph",
    "bare\rcarriage return",
    "a " + "very-long-word" * 80_00,  # one 112,000-character line (SMTP allows 998 per line)
]


@pytest.mark.parametrize("message", ODD_MESSAGES, ids=["nul", "u2028", "cr", "long-line"])
def test_an_odd_message_to_email_is_sent_or_given_up_at_once(
    sns, topic, smtp: SmtpServer, sns_server: Server, message: str
) -> None:
    from tests.sns.test_poison import _confirmed_email

    arn, sub, address = _confirmed_email(sns, topic, smtp)
    sns.publish(TopicArn=arn, Message=message)
    deadline = time.monotonic() + 15
    seen: dict = {}
    while time.monotonic() < deadline:
        if len(smtp.messages(address)) >= 2:  # the confirmation, then this one
            return
        seen = admin_get(sns_server, "notifications")
        given_up = [f for f in seen["failures"] or [] if sub in f["key"]]
        if given_up:
            assert given_up[0]["attempts"] == 1, given_up
            return
        time.sleep(0.1)
    raise AssertionError(f"{message[:40]!r}: neither sent nor given up; outbox: {seen['channels']}")
