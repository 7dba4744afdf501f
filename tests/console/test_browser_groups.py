"""Log groups in a real browser: create, find, set retention, delete with confirmation."""

from __future__ import annotations

from typing import Any

from tests.console.conftest import ConsoleServer, screenshot


def test_manage_a_group_in_the_browser(signed_in_page: Any, console_server: ConsoleServer) -> None:
    page = signed_in_page
    page.goto(f"{console_server.url}/console/groups")
    page.fill("[data-testid=new-group]", "/browser/app")
    page.click("text=Create log group")
    page.wait_for_selector("text=Created log group /browser/app.")
    page.select_option("[data-testid=retention]", "30")
    page.click("text=Save retention")
    page.wait_for_selector("text=Events expire after 30 days.")
    screenshot(page, "group")
    page.click("nav >> text=Log groups")
    page.fill("[data-testid=prefix]", "/browser/")
    page.press("[data-testid=prefix]", "Enter")
    row = page.locator('tr[data-group="/browser/app"]')
    assert "30 days" in row.inner_text()
    screenshot(page, "groups")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    screenshot(page, "groups-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    page.set_viewport_size({"width": 1280, "height": 800})
    row.locator("a").click()
    page.click("[data-testid=delete-group]")
    page.click("[data-testid=confirm-delete]")
    page.wait_for_selector("text=Deleted log group /browser/app.")
    assert page.locator('tr[data-group="/browser/app"]').count() == 0
