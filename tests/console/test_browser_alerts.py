"""Alerts in a real browser on a server with a rule whose webhook is down: the rule counts
the ERROR events put with boto3, suppresses the duplicate, shows its ingest-to-alert latency;
the notification is given up with its error, and Redrive puts it back in the queue."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from tests.console.conftest import screenshot
from tests.server import ACCESS_KEY, SECRET_KEY, Server, client, free_port
from tests.waiting import wait_for

CONFIG = """
[[channels]]
name = "hook"
type = "webhook"
url = "http://127.0.0.1:{port}/down"
retry_seconds = 0

[[alerts]]
name = "checkout-errors"
log_groups = ["/browser/alerts"]
pattern = "ERROR"
dedup_key = "{{{{ message }}}}"
dedup_window = "1h"
channels = ["hook"]
"""


def test_a_rule_counts_its_match_and_its_given_up_notification_is_redriven(
    page: Any, tmp_path: Path
) -> None:
    config = tmp_path / "logsieve.toml"
    config.write_text(CONFIG.format(port=free_port()))  # nothing listens there
    server = Server(tmp_path / "data", config=config).start(timeout=60)
    try:
        logs = client(server)
        logs.create_log_group(logGroupName="/browser/alerts")
        logs.create_log_stream(logGroupName="/browser/alerts", logStreamName="s")
        page.goto(f"{server.url}/console/alerts")
        page.fill("input[name=access_key_id]", ACCESS_KEY)
        page.fill("input[name=secret_access_key]", SECRET_KEY)
        page.click("form button[type=submit]")
        page.wait_for_selector("[data-testid=alert-rules] tr[data-rule=checkout-errors]")
        now = int(time.time() * 1000)
        logs.put_log_events(
            logGroupName="/browser/alerts",
            logStreamName="s",
            logEvents=[{"timestamp": now + i, "message": "ERROR card declined"} for i in (0, 1)],
        )

        def given_up() -> bool:
            page.reload()
            return page.locator("[data-testid=redrive-notification]").count() == 1

        wait_for(given_up, 30, "the notification given up", poll=0.5)
        row = page.locator("tr[data-rule=checkout-errors]")
        assert row.locator("td[data-label='Matched events']").text_content() == "2"
        assert row.locator("[data-testid=suppressed]").text_content() == "1"
        assert row.locator("[data-testid=notifications]").text_content() == "1"
        latency = row.locator("[data-testid=latency]").text_content()
        assert re.fullmatch(r"\d+ / \d+ ms \(1\)", latency or ""), latency
        assert "ERROR card declined" in page.text_content("[data-testid=given-up-notifications]")
        screenshot(page, "alerts")
        page.click("[data-testid=redrive-notification]")
        assert "Requeued 1 notifications." in page.text_content("[data-testid=notice]")
    finally:
        server.stop()
