"""apprise channel: a json:// URL delivered to a real local receiver."""

from __future__ import annotations

import json

import pytest

from logsieve.notify.apprise_channel import AppriseChannel
from logsieve.notify.message import Notification
from logsieve.notify.outbox import DeliveryFailed
from tests.receivers import HttpReceiver, Reply


def test_json_url_delivers_title_body_and_type() -> None:
    note = Notification(
        title="Port scan from 110.53.1.2", text="12 ports in 1 min", severity="error"
    )
    with HttpReceiver() as receiver:
        AppriseChannel("other", f"json://127.0.0.1:{receiver.port}/hook").send(note)
    [request] = receiver.requests()
    assert request.path == "/hook"
    body = json.loads(request.body)
    # apprise's JSON notification: version, title, message, type (+ attachments).
    assert body["title"] == "Port scan from 110.53.1.2"
    assert body["message"] == "12 ports in 1 min"
    assert body["type"] == "failure"
    assert "version" in body


def test_failure_is_a_retryable_delivery_failure_with_the_reason() -> None:
    with HttpReceiver(Reply(500, b"broken")) as receiver, pytest.raises(DeliveryFailed) as caught:
        AppriseChannel("other", f"json://127.0.0.1:{receiver.port}/").send(
            Notification(title="t", text="x")
        )
    assert caught.value.retryable
    assert "500" in caught.value.message


def test_unknown_url_is_refused_up_front() -> None:
    with pytest.raises(ValueError, match="does not recognise"):
        AppriseChannel("other", "nosuchservice://whatever")
