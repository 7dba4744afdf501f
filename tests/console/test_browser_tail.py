"""Live tail in a real browser: an event put with boto3 is drawn within 2 s, highlighted;
opening a row pauses with an "N new" pill; space pauses, / focuses the pattern; clicking a
JSON field filters on it."""

from __future__ import annotations

import json
import time
from typing import Any

from playwright.sync_api import expect

from tests.console.conftest import ConsoleServer, screenshot
from tests.server import client


def _put(logs: Any, group: str, *messages: str) -> float:
    logs.put_log_events(
        logGroupName=group, logStreamName="app-1",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": m} for m in messages],
    )  # fmt: skip
    return time.monotonic()


def test_a_put_event_appears_and_the_reader_controls_the_tail(
    signed_in_page: Any, console_server: ConsoleServer
) -> None:
    page = signed_in_page
    logs = client(console_server)  # type: ignore[arg-type]
    logs.create_log_group(logGroupName="/browser/tail")
    logs.create_log_stream(logGroupName="/browser/tail", logStreamName="app-1")
    page.goto(f"{console_server.url}/console/tail?group=/browser/tail&highlight=ERROR,checkout")
    page.wait_for_selector("#tail[data-state=live]")

    put_at = _put(logs, "/browser/tail", json.dumps({"level": "ERROR", "status": 500,
                                                     "path": "/checkout"}))  # fmt: skip
    page.wait_for_selector("#tail-rows .row", timeout=2000)
    assert time.monotonic() - put_at < 2.0
    assert page.locator("#tail-rows mark.hl-0").first.text_content() == "ERROR"
    assert page.locator("#tail-rows mark.hl-1").first.text_content() == "checkout"
    assert page.text_content("[data-testid=tail-count]") == "1 events"

    page.click("#tail-rows .row")  # open the event: the tail pauses
    page.wait_for_selector("#tail[data-state=paused]")
    _put(logs, "/browser/tail", "INFO while paused", "INFO and another")
    page.wait_for_selector("[data-testid=tail-pill]:not([hidden])")
    assert page.text_content("[data-testid=tail-pill]") == "2 new"
    assert page.locator("#tail-rows .row").count() == 1
    screenshot(page, "tail-paused")
    page.click("[data-testid=tail-pill]")
    page.wait_for_selector("#tail[data-state=live]")
    # The state turns live at once; the rows are drawn at the next animation frame.
    expect(page.locator("#tail-rows .row")).to_have_count(3, timeout=5000)

    page.locator("#tail").focus()
    page.keyboard.press("Space")
    page.wait_for_selector("#tail[data-state=paused]")
    page.keyboard.press("Space")
    page.wait_for_selector("#tail[data-state=live]")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.name") == "pattern"
    screenshot(page, "tail")

    page.click("#tail-rows .row >> nth=0")
    page.click("#tail-rows .detail .jf[data-path='$.status']")
    page.wait_for_selector("#tail[data-state=live]")
    assert page.input_value("[data-testid=tail-pattern]") == "{ $.status = 500 }"
    _put(logs, "/browser/tail", '{"status": 200}', '{"status": 500, "n": 2}')
    page.wait_for_selector("#tail-rows .row")
    # One PutLogEvents batch is one read: the 200 would be drawn with the 500.
    assert [m for m in page.locator("#tail-rows .msg").all_text_contents()] == [
        '{"status": 500, "n": 2}'
    ]


def test_the_tail_page_at_a_phone_width(signed_in_page: Any, console_server: ConsoleServer) -> None:
    page = signed_in_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{console_server.url}/console/tail")
    page.wait_for_selector("[data-testid=tail-groups]")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(page, "tail-phone")
