"""Alerts page, per rule: events processed, duplicates suppressed, notifications handed over,
ingest-to-alert latency; and the digest windows still open (TestClient on the real app with
two rules, events put through the logs service)."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from logsieve.app import create_app
from logsieve.sections import load_config
from tests.console.conftest import BASE, ConsoleClient, sign_in
from tests.server import ACCESS_KEY, SECRET_KEY, free_port
from tests.waiting import wait_for

CONFIG = """
[server]
port = 4588
data_dir = "{data}"

[[credentials]]
access_key_id = "{key}"
secret_access_key = "{secret}"

[[channels]]
name = "hook"
type = "webhook"
url = "http://127.0.0.1:{port}/down"

[[alerts]]
name = "vpn-errors"
log_groups = ["/console/alerting"]
pattern = "ERROR"
dedup_key = "{{{{ message }}}}"
dedup_window = "1h"
channels = ["hook"]

[[alerts]]
name = "warn-digest"
log_groups = ["/console/alerting"]
pattern = "WARN"
digest_window = "1h"
channels = ["hook"]
"""


@pytest.fixture(scope="module")
def alerting_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("console-alerting")
    path = root / "logsieve.toml"
    path.write_text(CONFIG.format(data=root / "data", key=ACCESS_KEY, secret=SECRET_KEY,
                                  port=free_port()))  # fmt: skip
    app = create_app(load_config(Path(path), environ={}))
    with TestClient(app, base_url=BASE):
        yield app


def _row(text: str, rule: str) -> str:
    found = re.search(rf'<tr data-rule="{rule}">(.*?)</tr>', text, re.S)
    assert found, text
    return found[1]


def _cell(row: str, name: str) -> str:
    found = re.search(rf'data-testid="{name}"[^>]*>(.*?)</td>', row, re.S)
    assert found, row
    return re.sub(r"<[^>]+>", "", found[1]).strip()


def test_rule_activity_latency_and_open_windows(alerting_app: Any) -> None:
    console = ConsoleClient(alerting_app, base_url=BASE)
    console.csrf = sign_in(console)
    services = alerting_app.state.console.app.state.services
    call = services.logs.operations
    call["CreateLogGroup"]({"logGroupName": "/console/alerting"})
    call["CreateLogStream"]({"logGroupName": "/console/alerting", "logStreamName": "s"})
    now = int(time.time() * 1000)
    messages = ["ERROR vpn down", "ERROR vpn down", "ERROR disk full", "WARN slow", "WARN slow"]
    call["PutLogEvents"]({
        "logGroupName": "/console/alerting", "logStreamName": "s",
        "logEvents": [{"timestamp": now + i, "message": m} for i, m in enumerate(messages)],
    })  # fmt: skip
    engine = services.alerts.engine
    wait_for(lambda: engine.activity()["vpn-errors"].processed == 3, 30, "3 ERROR events")
    wait_for(lambda: engine.activity()["warn-digest"].processed == 2, 30, "2 WARN events")

    text = html.unescape(console.get("/console/alerts").text)
    errors = _row(text, "vpn-errors")
    assert _cell(errors, "processed") == "3"
    assert _cell(errors, "suppressed") == "1"
    assert _cell(errors, "notifications") == "2"
    latency = _cell(errors, "latency")
    assert re.fullmatch(r"\d+ / \d+ ms \(2\)", latency), latency
    digest = _row(text, "warn-digest")
    assert (_cell(digest, "suppressed"), _cell(digest, "notifications")) == ("0", "1")
    assert _cell(digest, "open-windows") == "1"

    window = re.search(r'<tr data-window="warn-digest">(.*?)</tr>', text, re.S)
    assert window, text
    assert _cell(window[1], "window-count") == "1"  # one WARN after the first, summed up later
