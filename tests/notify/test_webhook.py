"""Generic webhooks: JSON body, HMAC signature, custom headers; a real local receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from logsieve.notify.codec import notification_from_json, notification_to_json
from logsieve.notify.message import Notification
from logsieve.notify.outbox import DeliveryFailed
from logsieve.notify.webhook import WebhookChannel, verify_signature
from tests.receivers import HttpReceiver, Reply
from tests.server import free_port

NOTE = Notification(
    title="VPN: alice connected",
    text="from 203.0.113.7 (macOS)",
    severity="info",
    source="vpn-connections",
    timestamp=1_714_554_000_000,
    tags=("vpn",),
    aggregation_key="cvpn-conn-1",
    fields={"connection-id": "cvpn-connection-0a1b", "bytes": 1234},
)


def test_body_is_the_notification_and_is_signed() -> None:
    with HttpReceiver() as receiver:
        WebhookChannel(
            "hook", receiver.url + "/in", secret="s3cret", headers={"Authorization": "Bearer t"}
        ).send(NOTE)
    [request] = receiver.requests()
    assert request.path == "/in"
    assert request.headers["authorization"] == "Bearer t"
    assert request.headers["content-type"].startswith("application/json")
    body = json.loads(request.body)
    assert body == {
        "title": "VPN: alice connected",
        "text": "from 203.0.113.7 (macOS)",
        "severity": "info",
        "source": "vpn-connections",
        "timestamp": 1_714_554_000_000,
        "html": None,
        "tags": ["vpn"],
        "aggregation_key": "cvpn-conn-1",
        "fields": {"connection-id": "cvpn-connection-0a1b", "bytes": 1234},
    }
    # The receiver's check, written independently: HMAC-SHA256 of the raw body.
    expected = "sha256=" + hmac.new(b"s3cret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-logsieve-signature"] == expected
    assert verify_signature("s3cret", request.body, request.headers["x-logsieve-signature"])
    assert not verify_signature("other", request.body, request.headers["x-logsieve-signature"])
    assert not verify_signature("s3cret", request.body + b" ", expected)
    assert abs(int(request.headers["x-logsieve-timestamp"]) - time.time()) < 300


def test_unsigned_without_a_secret() -> None:
    with HttpReceiver() as receiver:
        WebhookChannel("hook", receiver.url).send(NOTE)
    [request] = receiver.requests()
    assert "x-logsieve-signature" not in request.headers
    assert notification_from_json(request.body) == NOTE


def test_codec_round_trip_and_odd_values() -> None:
    assert notification_from_json(notification_to_json(NOTE)) == NOTE
    odd = Notification(title="t", text="x", fields={"when": time.gmtime(0), "raw": b"\x00"})
    assert json.loads(notification_to_json(odd))["fields"]["raw"] == "b'\\x00'"
    with pytest.raises(ValueError):
        notification_from_json(b"[1, 2]")


def test_reserved_headers_are_refused() -> None:
    with pytest.raises(ValueError, match="X-Logsieve-Signature"):
        WebhookChannel("hook", "http://x", headers={"X-Logsieve-Signature": "forged"})


@pytest.mark.parametrize(
    ("status", "retryable"), [(400, False), (401, False), (408, True), (502, True)]
)
def test_errors(status: int, retryable: bool) -> None:
    with HttpReceiver(Reply(status, b"no")) as receiver, pytest.raises(DeliveryFailed) as caught:
        WebhookChannel("hook", receiver.url).send(NOTE)
    assert caught.value.retryable is retryable


def test_redirects_are_not_followed() -> None:
    redirect = Reply(301, b"", {"Location": "http://127.0.0.1:1/"})
    with (
        HttpReceiver(redirect) as receiver,
        pytest.raises(DeliveryFailed, match="redirects are not followed") as caught,
    ):
        WebhookChannel("hook", receiver.url).send(NOTE)
    assert not caught.value.retryable


def test_connection_refused_is_retryable() -> None:
    with pytest.raises(DeliveryFailed) as caught:
        WebhookChannel("hook", f"http://127.0.0.1:{free_port()}/").send(NOTE)
    assert caught.value.retryable
