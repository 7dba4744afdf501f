"""Alerts page through a signed-in TestClient on the real app: the outbox per channel kind,
a given-up notification with its title and error, redriven one by one or all (CSRF-checked)."""

from __future__ import annotations

import html
from typing import Any

from logsieve.notify.codec import notification_to_json
from logsieve.notify.message import Notification
from logsieve.notify.outbox import DeliveryFailed
from tests.console.conftest import BASE, ConsoleClient
from tests.waiting import wait_for

ORIGIN = {"origin": BASE}


def _post(client: ConsoleClient, path: str, **data: str) -> Any:
    return client.post(path, data={"csrf_token": client.csrf, **data}, headers=ORIGIN,
                       follow_redirects=True)  # fmt: skip


def test_a_given_up_notification_is_shown_and_redriven(
    console_client: ConsoleClient, console_app: Any
) -> None:
    outbox = console_app.state.console.app.state.services.outbox
    sent: list[bytes] = []
    failing = {"on": True}

    def send(payload: bytes) -> None:
        if failing["on"]:
            raise DeliveryFailed("hook.example: connection refused")
        sent.append(payload)

    outbox.register("console-test", send, retry_base=0.01, give_up_after=0)
    note = Notification(title="checkout errors: 3 in 5 minutes", text="body")
    outbox.enqueue("console-test", notification_to_json(note), key="n1")
    wait_for(lambda: outbox.failures(), 20, "the notification given up")

    page = console_client.get("/console/alerts")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "No alert rules" in text
    assert 'data-kind="console-test"' in text
    assert "checkout errors: 3 in 5 minutes" in text
    assert "hook.example: connection refused" in text
    [item] = [f for f in outbox.failures() if f["kind"] == "console-test"]

    refused = console_client.post("/console/alerts/redrive", data={"id": str(item["id"])},
                                  headers=ORIGIN)  # fmt: skip
    assert refused.status_code == 403
    failing["on"] = False
    done = _post(console_client, "/console/alerts/redrive", id=str(item["id"]))
    assert "Requeued 1 notifications." in done.text
    wait_for(lambda: sent, 20, "the redriven notification sent")
    again = _post(console_client, "/console/alerts/redrive", id=str(item["id"]))
    assert f"No given-up notification {item['id']}." in again.text
    everything = _post(console_client, "/console/alerts/redrive")
    assert "Requeued 0 notifications." in everything.text
