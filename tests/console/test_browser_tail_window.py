"""The live tail keeps 5,000 events as a virtual list (a 5,000-row page made every frame and
every keypress slow: bench/console.py): only the rows in view and a few around them are in the
DOM, each at the place its position in the list gives it, while following and while the reader
scrolls back; scrolling to the bottom follows again."""

from __future__ import annotations

import time
from typing import Any

from tests.console.conftest import ConsoleServer, screenshot
from tests.server import client
from tests.waiting import wait_for

GROUP = "/browser/tail-window"
# The rows the box shows, plus the 10 drawn above and below them; far below the events kept.
ROW_HEIGHT = "parseFloat(box.style.getPropertyValue('--tail-row'))"
MOST_IN_DOM = f"Math.ceil(box.clientHeight / {ROW_HEIGHT}) + 21"
NEWEST = "() => document.querySelector('#tail-rows .row:last-child .msg').textContent === '{}'"


def _fill(page: Any, server: ConsoleServer, group: str, batches: int) -> None:
    logs = client(server)  # type: ignore[arg-type]
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    page.goto(f"{server.url}/console/tail?group={group}")
    page.wait_for_selector("#tail[data-state=live]")
    for batch in range(batches):  # 100 at a time: below the tail's sampling cap, so all are kept
        logs.put_log_events(
            logGroupName=group, logStreamName="s",
            logEvents=[{"timestamp": int(time.time() * 1000), "message": f"n={n:04d}"}
                       for n in range(batch * 100, batch * 100 + 100)],
        )  # fmt: skip
        page.wait_for_selector(f"#tail[data-kept='{batch * 100 + 100}']")


def _at_top_of_view(page: Any) -> str:
    """The message of the row the reader sees at the top edge of the box."""
    return str(
        page.locator("#tail").evaluate(
            """box => {
              const r = box.getBoundingClientRect();
              const hit = document.elementFromPoint(r.left + r.width - 40, r.top + 2);
              const row = hit && hit.closest('.row');
              return row ? row.querySelector('.msg').textContent : '';
            }"""
        )
    )


def _top_is(page: Any, message: str) -> None:
    wait_for(lambda: _at_top_of_view(page) == message, 10, f"{message} at the top of the view")


def _scroll(page: Any, top: str) -> None:
    page.locator("#tail").evaluate(f"box => {{ box.scrollTop = {top}; }}")


def test_following_keeps_only_the_rows_in_view_in_the_page(
    signed_in_page: Any, console_server: ConsoleServer
) -> None:
    page = signed_in_page
    _fill(page, console_server, GROUP, 6)
    messages = page.locator("#tail-rows .row .msg")
    page.wait_for_function(NEWEST.format("n=0599"))
    most = page.locator("#tail").evaluate(f"box => {MOST_IN_DOM}")
    assert 0 < messages.count() <= most < 600
    # The box scrolls over all 600 rows' height; the newest is at the bottom of the view.
    heights = page.locator("#tail").evaluate(f"box => [box.scrollHeight, {ROW_HEIGHT}]")
    assert abs(heights[0] - 600 * heights[1]) <= 2
    assert page.locator("#tail-rows .row", has_text="n=0599").is_visible()
    screenshot(page, "tail-virtual-following")


def test_the_reader_scrolls_through_1200_events_and_back_to_live(
    signed_in_page: Any, console_server: ConsoleServer
) -> None:
    page = signed_in_page
    _fill(page, console_server, f"{GROUP}-1200", 12)
    box = page.locator("#tail")
    rows = page.locator("#tail-rows .row")
    most = box.evaluate(f"box => {MOST_IN_DOM}")

    _scroll(page, "0")
    page.wait_for_selector("#tail[data-state=paused]")
    wait_for(lambda: _at_top_of_view(page) == "n=0000", 10, "the oldest at the top of the view")
    assert rows.count() <= most

    # Any position: the row at the top of the view is the one its position gives.
    row_height = box.evaluate(f"box => {ROW_HEIGHT}")
    for index in (137, 650, 999):
        _scroll(page, str(index * row_height))
        _top_is(page, f"n={index:04d}")
        assert rows.count() <= most
    assert box.get_attribute("data-state") == "paused"

    _scroll(page, "box.scrollHeight")
    page.wait_for_selector("#tail[data-state=live]")
    page.wait_for_function(NEWEST.format("n=1199"))
    assert rows.count() <= most


def test_a_row_opened_while_scrolled_back_pushes_the_rows_below_it_down(
    signed_in_page: Any, console_server: ConsoleServer
) -> None:
    page = signed_in_page
    _fill(page, console_server, f"{GROUP}-open", 3)
    box = page.locator("#tail")
    row_height = box.evaluate(f"box => {ROW_HEIGHT}")
    _scroll(page, str(100 * row_height))
    wait_for(lambda: _at_top_of_view(page) == "n=0100", 10, "row 100 at the top")
    page.locator("#tail-rows .row", has_text="n=0102").click()
    page.wait_for_selector("#tail-rows .row.open + .detail")
    assert "paused" in (box.get_attribute("data-state") or "")
    detail = page.locator("#tail-rows .detail").bounding_box()
    below = page.locator("#tail-rows .row", has_text="n=0103").bounding_box()
    assert detail is not None and below is not None
    assert abs(below["y"] - (detail["y"] + detail["height"])) <= 1  # no overlap, no gap
    # Scrolling on: the opened row and its detail come back together.
    _scroll(page, str(200 * row_height))
    wait_for(lambda: _at_top_of_view(page).startswith("n=01"), 10, "scrolled past the detail")
    _scroll(page, str(100 * row_height))
    opened = page.locator("#tail-rows .row.open + .detail")
    wait_for(lambda: opened.count() == 1, 10, "the opened row and its detail again")


def test_at_a_phone_width_rows_are_taller_and_still_where_their_position_says(
    signed_in_page: Any, console_server: ConsoleServer
) -> None:
    page = signed_in_page
    page.set_viewport_size({"width": 390, "height": 844})
    _fill(page, console_server, f"{GROUP}-phone", 2)
    box = page.locator("#tail")
    row_height = box.evaluate(f"box => {ROW_HEIGHT}")
    drawn = page.locator("#tail-rows .row").first.bounding_box()
    assert drawn is not None and abs(drawn["height"] - row_height) <= 1
    _scroll(page, str(100 * row_height))
    _top_is(page, "n=0100")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.set_viewport_size({"width": 1280, "height": 800})  # the message joins the line
    wait_for(lambda: box.evaluate(f"box => {ROW_HEIGHT}") < row_height, 10, "rows measured again")
    screenshot(page, "tail-virtual-resized")
