"""Events in a real browser: put with boto3, search with a pattern, expand JSON, follow a
permalink, switch to local time; the header (refreshed by htmx) shows the ingest rate."""

from __future__ import annotations

import time
from typing import Any

import boto3

from tests.console.conftest import ConsoleServer, screenshot
from tests.server import ACCESS_KEY, SECRET_KEY
from tests.waiting import wait_for


def logs_client(server: ConsoleServer) -> Any:
    return boto3.client(
        "logs", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
    )  # fmt: skip


def test_search_events_with_a_pattern(signed_in_page: Any, console_server: ConsoleServer) -> None:
    logs = logs_client(console_server)
    logs.create_log_group(logGroupName="/browser/web")
    logs.create_log_stream(logGroupName="/browser/web", logStreamName="api")
    now = int(time.time() * 1000)
    lines = ['{"status":500,"path":"/pay","user":"eve"}', '{"status":200,"path":"/"}',
             "10.0.0.9 bob 503 GET /slow"]  # fmt: skip
    logs.put_log_events(
        logGroupName="/browser/web", logStreamName="api",
        logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(lines)],
    )  # fmt: skip
    page = signed_in_page
    page.goto(f"{console_server.url}/console/group?name=%2Fbrowser%2Fweb")
    page.click("text=Search all streams")
    page.fill("[data-testid=pattern]", "{ $.status = 500 }")
    page.press("[data-testid=pattern]", "Enter")
    page.wait_for_selector("[data-testid=extracted]")
    assert page.locator("[data-testid=extracted]").all_inner_texts() == ["$.status = 500"]
    assert page.locator("tr[data-event-id]").count() == 1
    page.wait_for_load_state("load")  # console.js (deferred) binds "Expand all" by then
    page.click("text=Expand all")
    pretty = page.locator("pre.pretty").first
    assert pretty.is_visible()
    assert '"path": "/pay"' in pretty.inner_text()
    screenshot(page, "events-json")
    page.fill("[data-testid=pattern]", "[ip, user, status=5*, ...]")
    page.press("[data-testid=pattern]", "Enter")
    page.wait_for_selector("mark[title='$user']")
    assert page.inner_text("mark[title='$user']") == "bob"
    screenshot(page, "events-extracted")
    page.click("[data-testid=permalink]")
    page.wait_for_selector("tr.linked")
    assert "event=" in page.url
    assert "10.0.0.9 bob 503" in page.inner_text("tr.linked")
    utc = page.inner_text("tr.linked time")
    assert utc.endswith("Z")
    page.wait_for_load_state("load")  # the toggle is console.js's, bound by the load event
    page.click("[data-zone-toggle]")
    assert page.inner_text("[data-zone-toggle]").startswith("Local time")
    assert page.inner_text("tr.linked time") != utc or page.evaluate(
        "new Date().getTimezoneOffset() === 0"
    )
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    screenshot(page, "events-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1


def test_the_header_shows_the_ingest_rate(
    signed_in_page: Any, console_server: ConsoleServer
) -> None:
    logs = logs_client(console_server)
    logs.create_log_group(logGroupName="/browser/rate")
    logs.create_log_stream(logGroupName="/browser/rate", logStreamName="s")
    page = signed_in_page  # its load sampled the event log's position
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName="/browser/rate", logStreamName="s",
        logEvents=[{"timestamp": now, "message": f"e{i}"} for i in range(500)],
    )  # fmt: skip

    # htmx refreshes the header every 5 s (under the CSP): the next sample shows a rate.
    # (Polled from here: wait_for_function evaluates a string, which the console's CSP refuses.)
    def rate() -> float:
        shown = page.inner_text("[data-testid=ingest-rate]")  # a dash before a first sample
        return float(shown) if shown.replace(".", "", 1).isdigit() else 0.0

    wait_for(rate, timeout=15, what="a positive ingest rate in the header", poll=0.25)
    # Few events were put in this session: a rate far above them would be miscounted.
    assert float(page.inner_text("[data-testid=ingest-rate]")) <= 600
