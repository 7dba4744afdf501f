"""`logsieve serve` prints a one-time console link that signs in (no browser needed)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.console.conftest import serving


def test_serve_prints_a_sign_in_link_that_works_once(tmp_path: Path) -> None:
    with serving(tmp_path / "data") as server:
        assert server.login_url.startswith(f"{server.url}/console/login?token=")
        with httpx.Client() as browser:
            answer = browser.get(server.login_url)
            assert answer.status_code == 303
            assert "logsieve_console" in browser.cookies
            page = browser.get(f"{server.url}/console/groups")
            assert page.status_code == 200 and "Log groups" in page.text
        assert httpx.get(server.login_url).status_code == 403
