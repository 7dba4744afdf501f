"""Datadog Events API v1, received by a real local HTTP server."""

from __future__ import annotations

import json
import time

import pytest

from logsieve.notify.datadog import DatadogChannel, datadog_event, events_url
from logsieve.notify.message import Notification
from logsieve.notify.outbox import DeliveryFailed
from tests.notify.shapes import check_datadog_event
from tests.receivers import HttpReceiver, Reply


def note(**changes: object) -> Notification:
    values: dict[str, object] = {
        "title": "Rejected the 23 port access from 110.53.1.2",
        "text": "Source 110.53.1.2 probed port 23 (telnet) 42 times.",
        "severity": "warning",
        "source": "rejected-traffic",
        "timestamp": int(time.time() * 1000) - 60_000,
        "tags": ("port:23",),
        "aggregation_key": "rejected-110.53.1.2-23",
    }
    values.update(changes)
    return Notification(**values)  # type: ignore[arg-type]


def test_event_has_the_documented_shape() -> None:
    sent = note()
    with HttpReceiver(Reply(202, b'{"status": "ok", "event": {"id": 1}}')) as receiver:
        DatadogChannel(
            "dd", "0123abcd", api_url=f"{receiver.url}/api/v1/events", tags=["env:prod"]
        ).send(sent)
    [request] = receiver.requests()
    assert request.path == "/api/v1/events"
    assert request.headers["dd-api-key"] == "0123abcd"
    assert request.headers["content-type"].startswith("application/json")
    event = json.loads(request.body)
    check_datadog_event(event, time.time())
    assert event["title"] == sent.title
    assert event["text"] == f"%%% \n{sent.text}\n %%%"
    assert event["alert_type"] == "warning"
    assert event["tags"] == ["port:23", "env:prod"]
    assert event["aggregation_key"] == "rejected-110.53.1.2-23"
    assert event["date_happened"] == sent.timestamp // 1000
    assert event["source_type_name"]


@pytest.mark.parametrize(
    ("severity", "alert_type"),
    [("critical", "error"), ("error", "error"), ("warning", "warning"), ("info", "info")],
)
def test_alert_type_from_severity(severity: str, alert_type: str) -> None:
    assert datadog_event(note(severity=severity))["alert_type"] == alert_type


def test_limits() -> None:
    event = datadog_event(note(title="x" * 300, text="y" * 10_000, aggregation_key="k" * 300))
    check_datadog_event(event, time.time())
    assert len(event["title"]) == 100 and event["title"].endswith("…")
    assert len(event["text"]) <= 4000 and event["text"].endswith("…\n %%%")
    # Two different long keys stay different after shortening.
    other = datadog_event(note(aggregation_key="k" * 299 + "z"))
    assert len(other["aggregation_key"]) <= 100
    assert other["aggregation_key"] != event["aggregation_key"]


def test_events_older_than_18_hours_are_posted_as_now() -> None:
    old = note(timestamp=int((time.time() - 19 * 3600) * 1000))
    event = datadog_event(old)
    check_datadog_event(event, time.time())
    assert "date_happened" not in event
    assert "happened at" in event["text"]


@pytest.mark.parametrize(
    ("site", "url"),
    [
        ("datadoghq.com", "https://api.datadoghq.com/api/v1/events"),
        ("datadoghq.eu", "https://api.datadoghq.eu/api/v1/events"),
        ("us3.datadoghq.com", "https://api.us3.datadoghq.com/api/v1/events"),
        ("us5.datadoghq.com", "https://api.us5.datadoghq.com/api/v1/events"),
        ("ap1.datadoghq.com", "https://api.ap1.datadoghq.com/api/v1/events"),
        ("app.datadoghq.eu", "https://api.datadoghq.eu/api/v1/events"),
        ("ddog-gov.com", "https://api.ddog-gov.com/api/v1/events"),
    ],
)
def test_site_urls(site: str, url: str) -> None:
    assert events_url(site) == url
    assert DatadogChannel("dd", "k", site=site).url == url


@pytest.mark.parametrize(
    ("status", "retryable"), [(400, False), (403, False), (429, True), (500, True)]
)
def test_errors(status: int, retryable: bool) -> None:
    reply = Reply(status, b'{"errors": ["nope"]}')
    with HttpReceiver(reply) as receiver, pytest.raises(DeliveryFailed) as caught:
        DatadogChannel("dd", "secret-key", api_url=receiver.url).send(note())
    assert caught.value.retryable is retryable
    assert "secret-key" not in caught.value.message
