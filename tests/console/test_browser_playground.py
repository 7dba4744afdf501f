"""The pattern playground in a real browser: load a sample, type a pattern, see the matches
and extracted values update as you type (htmx), and the caret under an invalid pattern."""

from __future__ import annotations

from typing import Any

from tests.console.conftest import ConsoleServer, screenshot


def test_typing_a_pattern_shows_matches_and_extracted_values(
    signed_in_page: Any, console_server: ConsoleServer
) -> None:
    page = signed_in_page
    page.goto(f"{console_server.url}/console/playground")
    page.select_option("[data-testid=sample]", "app-json")
    page.click("text=Load sample")
    page.wait_for_selector("text=payment gateway timeout")
    # The sample came with a new page: htmx (a deferred script) binds its input handlers by
    # the load event, and a value filled before that would send no request.
    page.wait_for_load_state("load")

    page.fill("[data-testid=pattern]", "{ $.status >= 500 }")  # htmx posts on input
    page.wait_for_selector("[data-testid=summary] >> text=2 of 6 lines matched")
    values = page.locator("[data-testid=value]").all_text_contents()
    assert values == ["$.status = 500", "$.status = 503"]
    screenshot(page, "playground")

    page.fill("[data-testid=pattern]", "{ $.status >= }")
    error = page.wait_for_selector("[data-testid=pattern-error]")
    lines = error.text_content().splitlines()
    assert lines[0].startswith("Invalid filter pattern:")
    assert lines[2].rstrip().endswith("^")
    screenshot(page, "playground-error")

    page.fill("[data-testid=pattern]", "[ts, id, level = ERROR, ...]")
    page.fill("[data-testid=lines]", "t1 r1 ERROR boom\nt2 r2 INFO fine")
    page.wait_for_selector("[data-testid=summary] >> text=1 of 2 lines matched")
    assert page.locator("mark[title='$level']").all_text_contents() == ["ERROR"]
