"""Static files are linked with a digest of their bytes (``?v=``), so a browser keeps them
between page loads (the event list loaded htmx, the scripts and the styles again on every
open: bench/console.py); pages themselves are never stored."""

from __future__ import annotations

import re

from tests.console.conftest import ConsoleClient


def test_static_links_carry_a_digest_and_may_be_kept(console_client: ConsoleClient) -> None:
    page = console_client.get("/console/events")
    assert page.headers["cache-control"] == "no-store"
    links = re.findall(r'(?:src|href)="(/console/static/[^"]+)"', page.text)
    assert links and all(re.search(r"\?v=[0-9a-f]{12}$", link) for link in links), links
    for link in links:
        answer = console_client.get(link.replace("&amp;", "&"))
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "private, max-age=31536000, immutable"

    bare = console_client.get(links[0].split("?")[0])
    assert bare.headers["cache-control"] == "no-store"  # no digest: it may change any time
