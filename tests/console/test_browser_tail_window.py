"""The live tail keeps 5,000 events but draws only the newest 500 while following (a
5,000-row page made every frame slow: bench/console.py); scrolling up to the first drawn row
draws the older ones kept, above it, without moving what the reader looks at."""

from __future__ import annotations

import time
from typing import Any

from tests.console.conftest import ConsoleServer
from tests.server import client
from tests.waiting import wait_for

GROUP = "/browser/tail-window"


def test_older_events_are_drawn_when_the_reader_scrolls_up_to_them(
    signed_in_page: Any, console_server: ConsoleServer
) -> None:
    page = signed_in_page
    logs = client(console_server)  # type: ignore[arg-type]
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName="s")
    page.goto(f"{console_server.url}/console/tail?group={GROUP}")
    page.wait_for_selector("#tail[data-state=live]")
    for batch in range(6):  # 100 at a time: below the tail's sampling cap, so all are drawn
        logs.put_log_events(
            logGroupName=GROUP, logStreamName="s",
            logEvents=[{"timestamp": int(time.time() * 1000), "message": f"n={n:03d}"}
                       for n in range(batch * 100, batch * 100 + 100)],
        )  # fmt: skip
        page.wait_for_selector(f"#tail[data-kept='{batch * 100 + 100}']")

    messages = page.locator("#tail-rows .row .msg")
    assert messages.count() == 500
    assert messages.first.text_content() == "n=100"
    assert messages.last.text_content() == "n=599"

    page.locator("#tail").evaluate("box => { box.scrollTop = 0; }")
    page.wait_for_selector("#tail[data-state=paused]")
    page.wait_for_function("() => document.querySelectorAll('#tail-rows .row').length === 600")
    assert messages.first.text_content() == "n=000"
    in_view = page.locator("#tail").evaluate("box => box.scrollTop")
    assert in_view > 0  # the rows drawn above did not jump the view to the oldest


def test_the_reader_scrolls_through_1200_events_in_a_window_and_back_to_live(
    signed_in_page: Any, console_server: ConsoleServer
) -> None:
    page = signed_in_page
    group = f"{GROUP}-1200"
    logs = client(console_server)  # type: ignore[arg-type]
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    page.goto(f"{console_server.url}/console/tail?group={group}")
    page.wait_for_selector("#tail[data-state=live]")
    for batch in range(12):
        logs.put_log_events(
            logGroupName=group, logStreamName="s",
            logEvents=[{"timestamp": int(time.time() * 1000), "message": f"n={n:04d}"}
                       for n in range(batch * 100, batch * 100 + 100)],
        )  # fmt: skip
        page.wait_for_selector(f"#tail[data-kept='{batch * 100 + 100}']")
    messages = page.locator("#tail-rows .row .msg")
    box = page.locator("#tail")

    def scrolled_to(edge: str, message: str) -> bool:
        box.evaluate(f"box => {{ box.scrollTop = {edge}; }}")
        assert messages.count() <= 1000  # a window, never all 1,200
        end = messages.first if edge == "0" else messages.last
        return end.text_content() == message

    wait_for(lambda: scrolled_to("0", "n=0000"), 20, "the oldest event drawn")
    assert box.get_attribute("data-state") == "paused"
    assert messages.last.text_content() != "n=1199"  # the newest left the window
    wait_for(lambda: scrolled_to("box.scrollHeight", "n=1199"), 20, "the newest drawn again")
    wait_for(lambda: scrolled_to("box.scrollHeight", "n=1199")
             and box.get_attribute("data-state") == "live", 20, "following again")  # fmt: skip
    assert messages.count() == 500
