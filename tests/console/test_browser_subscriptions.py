"""Subscriptions in a real browser on a server whose Lambda handler fails: the failing
subscription and its dead letter are shown; once the handler is fixed, Redrive delivers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.console.conftest import screenshot
from tests.server import ACCESS_KEY, SECRET_KEY
from tests.subscriptions.harness import function_arn, put, start
from tests.waiting import wait_for


def test_a_dead_letter_is_shown_and_redriven(page: Any, tmp_path: Path) -> None:
    setup = start(tmp_path, delivery="retry_window_seconds = 1")
    try:
        logs = setup.logs()
        logs.create_log_group(logGroupName="/browser/doomed")
        logs.create_log_stream(logGroupName="/browser/doomed", logStreamName="s")
        logs.put_subscription_filter(logGroupName="/browser/doomed", filterName="sub",
                                     filterPattern="", destinationArn=function_arn())  # fmt: skip
        setup.fail_flag.touch()
        put(logs, "/browser/doomed", "s", ["ERROR card declined"])

        page.goto(f"{setup.server.url}/console/subscriptions")
        page.fill("input[name=access_key_id]", ACCESS_KEY)
        page.fill("input[name=secret_access_key]", SECRET_KEY)
        page.click("form button[type=submit]")
        page.wait_for_selector("[data-testid=subscription-status]")

        def letter_shown() -> bool:
            page.reload()
            return page.locator("[data-testid=redrive]").count() == 1

        wait_for(letter_shown, 30, "the dead letter on the page", poll=0.5)
        assert int(page.text_content("[data-testid=failed-attempts]")) >= 1
        page.click("[data-testid=dead-letters] details summary")
        assert "ERROR card declined" in page.text_content("[data-testid=dead-letters] pre")
        screenshot(page, "subscriptions")

        setup.fail_flag.unlink()
        page.click("[data-testid=redrive]")
        notice = page.wait_for_selector("[data-testid=notice]")
        assert "delivered 1 events" in notice.text_content()
        assert setup.received_messages() == ["ERROR card declined"]
    finally:
        setup.server.stop()
