"""Slack incoming webhooks, received by a real local HTTP server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from logsieve.notify.channels import DeliveryPolicy, register_channels, send_notification
from logsieve.notify.message import Notification
from logsieve.notify.outbox import DeliveryFailed, Outbox
from logsieve.notify.slack import SlackChannel, slack_payload
from tests.notify.conftest import running
from tests.notify.shapes import check_slack_message
from tests.receivers import HttpReceiver, Reply
from tests.waiting import wait_for

NOTE = Notification(
    title="IAM user alice called StopLogging",
    text="*who*: alice\nsource IP: 198.51.100.4\nregion: us-east-1",
    severity="critical",
    source="iam-user-activity",
    timestamp=1_714_554_000_123,
    tags=("env:prod",),
)


def test_message_has_the_documented_shape() -> None:
    with HttpReceiver() as receiver:
        SlackChannel("sec", f"{receiver.url}/services/T0/B0/XYZ").send(NOTE)
    [request] = receiver.requests()
    assert request.path == "/services/T0/B0/XYZ"
    assert request.headers["content-type"].startswith("application/json")
    payload = json.loads(request.body)
    check_slack_message(payload)
    header, section, context = payload["blocks"]
    assert header["type"] == "header" and header["text"]["text"] == NOTE.title
    assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
    assert section["text"]["text"] == NOTE.text
    assert context["type"] == "context"
    shown = " ".join(element["text"] for element in context["elements"])
    assert "critical" in shown and "iam-user-activity" in shown
    # Time as Slack's date token (reader's time zone) with a UTC fallback.
    assert "<!date^1714554000^" in shown and "|2024-05-01T09:00:00Z>" in shown
    assert payload["text"].startswith(NOTE.title)


def test_limits_are_respected_with_an_ellipsis() -> None:
    note = Notification(title="T" * 400, text="a & b " * 2000)
    payload = slack_payload(note)
    check_slack_message(payload)
    header, section, _ = payload["blocks"]
    assert len(header["text"]["text"]) == 150 and header["text"]["text"].endswith("…")
    assert len(section["text"]["text"]) <= 3000 and section["text"]["text"].endswith("…")
    # The cut never leaves half an entity behind.
    assert not section["text"]["text"][:-1].rstrip().endswith(("&", "&a", "&am", "&amp"))


def test_mrkdwn_control_characters_are_escaped() -> None:
    note = Notification(title="<b>", text="<!channel> hello & <https://evil.example|click>")
    payload = slack_payload(note)
    section = payload["blocks"][1]["text"]["text"]
    assert section == "&lt;!channel&gt; hello &amp; &lt;https://evil.example|click&gt;"
    assert "<!channel>" not in payload["text"]
    assert payload["blocks"][0]["text"]["text"] == "<b>"  # plain_text: shown literally


def test_429_is_retryable_and_carries_retry_after() -> None:
    with HttpReceiver() as receiver:
        receiver.script(Reply(429, b"rate_limited", {"Retry-After": "7"}))
        with pytest.raises(DeliveryFailed) as caught:
            SlackChannel("sec", receiver.url).send(NOTE)
    assert caught.value.retryable and caught.value.retry_after == 7


@pytest.mark.parametrize(
    ("status", "body", "retryable"),
    [
        (400, b"invalid_payload", False),
        (403, b"action_prohibited", False),
        (404, b"channel_not_found", False),
        (410, b"channel_is_archived", False),
        (500, b"rollup_error", True),
        (503, b"", True),
    ],
)
def test_error_answers(status: int, body: bytes, retryable: bool) -> None:
    with HttpReceiver() as receiver:
        receiver.script(Reply(status, body))
        with pytest.raises(DeliveryFailed) as caught:
            SlackChannel("sec", receiver.url + "/services/secret-token").send(NOTE)
    assert caught.value.retryable is retryable
    assert str(status) in caught.value.message
    assert "secret-token" not in caught.value.message  # the URL is the secret


def test_through_the_outbox_429_then_500_then_delivered_once(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    with HttpReceiver() as receiver:
        receiver.script(
            Reply(429, b"rate_limited", {"Retry-After": "1"}), Reply(500, b"rollup_error")
        )
        channel = SlackChannel("sec", receiver.url)
        channel.policy = DeliveryPolicy(retry_base=0.05)  # type: ignore[attr-defined]
        register_channels(outbox, {"sec": channel})
        with running(outbox):
            assert send_notification(outbox, "sec", NOTE, key="alert-1")
            receiver.wait_requests(count=3)
            wait_for(lambda: outbox.status()[0]["sent"] == 1, what="the delivery to be recorded")
            assert not send_notification(outbox, "sec", NOTE, key="alert-1")
        requests = receiver.requests()
    assert len(requests) == 3
    assert len({r.body for r in requests}) == 1  # the same message each time
    [row] = outbox.status()
    assert (row["sent"], row["failed_attempts"], row["given_up"]) == (1, 2, 0)
    outbox.close()
