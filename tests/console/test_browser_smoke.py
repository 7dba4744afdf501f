"""The canary: a real browser signs in through the URL ``logsieve serve`` printed."""

from __future__ import annotations

from typing import Any

from tests.console.conftest import ConsoleServer, screenshot


def test_the_printed_url_signs_the_browser_in_and_shows_the_header(
    page: Any, console_server: ConsoleServer
) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(console_server.login_url)
    page.wait_for_selector("[data-testid=ingest-rate]")
    assert "token=" not in page.url  # the token left the address bar
    assert page.text_content("header .version").startswith("v")
    assert page.text_content("[data-testid=errors]") == "0"
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["logsieve_console"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert page.evaluate("typeof htmx") == "object"  # the vendored htmx loaded under the CSP
    screenshot(page, "signed-in")
    assert not [e for e in errors if "Content Security Policy" in e], errors
