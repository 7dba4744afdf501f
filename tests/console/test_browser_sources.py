"""Sources in a real browser: a server receiving Firehose deliveries shows its source, and
the count of events received goes up after a delivery (desktop and phone widths)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from tests.console.conftest import screenshot
from tests.server import ACCESS_KEY, SECRET_KEY, Server
from tests.sources.helpers import toml_sources
from tests.sources.test_firehose import awslogs_record, post


def test_the_sources_page_shows_a_firehose_source_and_what_it_received(
    page: Any, tmp_path: Path
) -> None:
    config = tmp_path / "logsieve.toml"
    config.write_text(toml_sources(
        {"name": "prod-firehose", "type": "firehose", "path": "/firehose/prod",
         "access_key_env": "FH_KEY", "raw_log_group": "/firehose/raw"}
    ))  # fmt: skip
    server = Server(tmp_path / "data", config=config,
                    env={"FH_KEY": "firehose-secret-key-0123456789"}).start(timeout=60)  # fmt: skip
    try:
        page.goto(f"{server.url}/console/sources")
        page.fill("input[name=access_key_id]", ACCESS_KEY)
        page.fill("input[name=secret_access_key]", SECRET_KEY)
        page.click("form button[type=submit]")
        row = page.locator("tr[data-source=prod-firehose]")
        assert row.locator("[data-testid=kind]").text_content() == "firehose"
        assert row.locator("[data-testid=received]").text_content() == "0"

        record = awslogs_record("/app/orders", "web-1", [(int(time.time() * 1000), "hello")])
        answer: httpx.Response = post(server, [record])  # type: ignore[arg-type]
        assert answer.status_code == 200, answer.text
        page.reload()
        assert row.locator("[data-testid=received]").text_content() == "1"
        assert row.locator("[data-testid=last-event]").text_content().endswith(" s ago")
        screenshot(page, "sources")
        page.set_viewport_size({"width": 390, "height": 844})
        assert row.locator("[data-testid=state]").is_visible()
        screenshot(page, "sources-phone")
    finally:
        server.stop()
