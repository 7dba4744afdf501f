"""Channels built from config, wired to the outbox, delivering to real local servers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from logsieve.errors import ConfigError
from logsieve.notify.apprise_channel import AppriseChannel
from logsieve.notify.channels import build_channels, register_channels, send_notification
from logsieve.notify.config import parse_channels
from logsieve.notify.datadog import DatadogChannel
from logsieve.notify.email import EmailChannel
from logsieve.notify.message import Notification
from logsieve.notify.outbox import Outbox
from logsieve.notify.slack import SlackChannel
from logsieve.notify.sns_topic import SnsTopicChannel
from logsieve.notify.webhook import WebhookChannel
from tests.notify.conftest import running
from tests.receivers import HttpReceiver, SmtpServer
from tests.server import free_port
from tests.waiting import wait_for

P = Path("/srv/logsieve.toml")
NOTE = Notification(
    title="VPN: alice connected from 203.0.113.7",
    text="user alice, device macOS, endpoint cvpn-endpoint-1",
    severity="info",
    source="vpn-connections",
    timestamp=1_714_554_000_000,
)


@dataclass
class Key:
    access_key_id: str = "AKIAEXAMPLEEXAMPLE22"
    secret_access_key: str = "secret"


def build(raw: list[dict[str, object]], smtp_url: str | None = "smtp://127.0.0.1:25"):
    return build_channels(
        parse_channels(P, raw), smtp_url, "logsieve@example.com", "http://127.0.0.1:4588",
        "us-east-1", Key(),
    )  # fmt: skip


def test_every_type_is_built_with_its_policy() -> None:
    built = build(
        [
            {"name": "e", "type": "email", "to": ["o@example.com"]},
            {"name": "s", "type": "slack", "webhook_url": "https://hooks.example/x"},
            {"name": "d", "type": "datadog", "api_key": "k", "site": "us3.datadoghq.com"},
            {"name": "w", "type": "webhook", "url": "https://example.com/h", "secret": "x"},
            {"name": "t", "type": "sns", "topic_arn": "arn:aws:sns:us-east-1:123456789012:a"},
            {"name": "a", "type": "apprise", "url": "json://127.0.0.1:9/", "retry_seconds": 60},
        ]
    )
    assert [type(c) for c in built.values()] == [
        EmailChannel,
        SlackChannel,
        DatadogChannel,
        WebhookChannel,
        SnsTopicChannel,
        AppriseChannel,
    ]
    assert built["e"].sender == "logsieve@example.com"  # type: ignore[attr-defined]
    assert built["d"].url == "https://api.us3.datadoghq.com/api/v1/events"  # type: ignore[attr-defined]
    assert built["t"].endpoint_url == "http://127.0.0.1:4588"  # type: ignore[attr-defined]
    assert built["s"].policy.rate_per_second == 1.0  # type: ignore[attr-defined]
    assert built["e"].policy.rate_per_second is None  # type: ignore[attr-defined]
    assert built["a"].policy.give_up_after == 60  # type: ignore[attr-defined]


def test_what_parsing_cannot_check_is_a_config_error_at_build_time() -> None:
    with pytest.raises(ConfigError, match=r"no SMTP server is configured; set \[smtp\] url"):
        build([{"name": "e", "type": "email", "to": ["o@example.com"]}], smtp_url=None)
    with pytest.raises(ConfigError, match="SMTP URL is not valid"):
        build([{"name": "e", "type": "email", "to": ["o@x.io"]}], smtp_url="smtp://h:25?x=1")
    with pytest.raises(ConfigError, match=r"\[\[channels\]\] a url: apprise does not recognise"):
        build([{"name": "a", "type": "apprise", "url": "nosuchservice://x"}])
    with pytest.raises(ConfigError, match="no credentials"):
        arn = "arn:aws:sns:us-east-1:123456789012:a"
        configs = parse_channels(P, [{"name": "t", "type": "sns", "topic_arn": arn}])
        build_channels(configs, None, "a@b.c", "http://127.0.0.1:4588", "us-east-1", None)


def test_notifications_reach_a_webhook_through_the_outbox(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    with HttpReceiver() as receiver:
        built = build([{"name": "hook", "type": "webhook", "url": receiver.url}])
        register_channels(outbox, built)
        with running(outbox):
            assert send_notification(outbox, "hook", NOTE, key="conn-1")
            assert not send_notification(outbox, "hook", NOTE, key="conn-1")  # redelivery
            receiver.wait_requests()
            wait_for(lambda: outbox.status()[0]["sent"] == 1, what="the recorded delivery")
    [request] = receiver.requests()
    assert json.loads(request.body)["title"] == NOTE.title
    assert outbox.status()[0]["kind"] == "channel:hook"
    outbox.close()


def test_smtp_down_for_a_while_then_the_alert_arrives_once(tmp_path: Path) -> None:
    port = free_port()
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    built = build(
        [{"name": "mail", "type": "email", "to": ["ops@example.com"]}],
        smtp_url=f"smtp://127.0.0.1:{port}?timeout=5",
    )
    built["mail"].policy = type(built["mail"].policy)(retry_base=0.1, retry_max_backoff=0.5)  # type: ignore[attr-defined]
    register_channels(outbox, built)
    with running(outbox):
        send_notification(outbox, "mail", NOTE, key="alert-1")
        wait_for(
            lambda: outbox.status()[0]["failed_attempts"] >= 2, what="failed attempts while down"
        )
        assert outbox.status()[0]["pending"] == 1
        with SmtpServer(port=port) as smtp:
            smtp.wait_messages()  # the email, once the server is up
            wait_for(lambda: outbox.status()[0]["sent"] == 1, what="the recorded delivery")
            # The same alert, redelivered upstream, is not sent again.
            assert not send_notification(outbox, "mail", NOTE, key="alert-1")
    [message] = smtp.messages()
    assert message["Subject"] == NOTE.title
    row = outbox.status()[0]  # recovered: the error is kept as a past one only
    assert row["last_error"] is None and row["past_error"].startswith("SMTP 127.0.0.1")
    outbox.close()


def test_a_corrupt_payload_is_given_up_not_retried(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    with HttpReceiver() as receiver:
        register_channels(outbox, build([{"name": "hook", "type": "webhook", "url": receiver.url}]))
        outbox.enqueue("channel:hook", b"not json")
        with running(outbox):
            wait_for(outbox.failures, what="the corrupt item to be given up")
    assert "not a notification" in outbox.failures()[0]["error"]
    assert receiver.requests() == []
    outbox.close()
