"""The README's console picture (docs/console-tail.png): a live tail of JSON events with two
highlight terms, one event opened as a tree (the tail pauses, and what arrives meanwhile is
counted on the pill). Saved as test-output/console/readme-tail.png; copy it to docs/ when the
console's look changes."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.console.conftest import ConsoleServer, screenshot
from tests.server import client

GROUP = "/app/checkout"


def _events(start: int, count: int) -> list[dict[str, Any]]:
    now = int(time.time() * 1000)
    found = []
    for n in range(start, start + count):
        status = 500 if n % 7 == 3 else 200
        level = "ERROR" if status == 500 else ("WARN" if n % 5 == 4 else "INFO")
        found.append({"timestamp": now + n, "message": json.dumps({
            "level": level, "status": status, "path": f"/checkout/{['cart', 'pay', 'ship'][n % 3]}",
            "ms": 20 + (n * 37) % 400,
        })})  # fmt: skip
    return found


def test_the_readme_picture_of_the_live_tail(
    signed_in_page: Any, console_server: ConsoleServer
) -> None:
    page = signed_in_page
    page.set_viewport_size({"width": 1100, "height": 700})  # small enough for the README
    logs = client(console_server)  # type: ignore[arg-type]
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName="web-1")
    page.goto(f"{console_server.url}/console/tail?group={GROUP}&highlight=ERROR,pay")
    page.wait_for_selector("#tail[data-state=live]")
    logs.put_log_events(logGroupName=GROUP, logStreamName="web-1", logEvents=_events(0, 24))
    page.wait_for_selector("#tail[data-kept='24']")
    page.locator("#tail-rows .row.sev-error").last.click()
    page.wait_for_selector("#tail[data-state=paused]")
    logs.put_log_events(logGroupName=GROUP, logStreamName="web-1", logEvents=_events(24, 3))
    page.wait_for_selector("[data-testid=tail-pill]:not([hidden])")
    assert page.text_content("[data-testid=tail-pill]") == "3 new"
    shot = screenshot(page, "readme-tail")
    assert shot.stat().st_size < 200_000
