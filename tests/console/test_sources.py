"""Sources page (TestClient on the real app): each ``[[sources]]`` entry the server runs,
with its kind, state, events received, last event, lag, position and last error; a server
without sources says so."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from logsieve.app import create_app
from logsieve.sections import load_config
from tests.console.conftest import BASE, ConsoleClient, sign_in
from tests.server import ACCESS_KEY, SECRET_KEY
from tests.sources.helpers import toml_sources
from tests.sources.test_firehose import awslogs_record

KEY = "firehose-secret-key-0123456789"
CONFIG = """
[server]
port = 4588
data_dir = "{data}"

[[credentials]]
access_key_id = "{key}"
secret_access_key = "{secret}"

"""


@pytest.fixture(scope="module")
def sourcing_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("console-sources")
    path = root / "logsieve.toml"
    sources = toml_sources(
        {"name": "fh", "type": "firehose", "path": "/firehose/prod",
         "access_key_env": "CONSOLE_FH_KEY", "raw_log_group": "/fh/raw"}
    )  # fmt: skip
    path.write_text(CONFIG.format(data=root / "data", key=ACCESS_KEY, secret=SECRET_KEY) + sources)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CONSOLE_FH_KEY", KEY)
        app = create_app(load_config(Path(path), environ=dict(os.environ)))
        with TestClient(app, base_url=BASE):
            yield app


def _firehose(client: TestClient, record: bytes) -> None:
    request_id = str(uuid.uuid4())
    answer = client.post("/firehose/prod", content=json.dumps({
        "requestId": request_id, "timestamp": int(time.time() * 1000),
        "records": [{"data": base64.b64encode(record).decode()}],
    }), headers={
        "Content-Type": "application/json", "X-Amz-Firehose-Protocol-Version": "1.0",
        "X-Amz-Firehose-Request-Id": request_id, "X-Amz-Firehose-Access-Key": KEY,
        "X-Amz-Firehose-Source-Arn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/p",
    })  # fmt: skip
    assert answer.status_code == 200, answer.text


def _cell(row: str, name: str) -> str:
    found = re.search(rf'data-testid="{name}"[^>]*>(.*?)</td>', row, re.S)
    assert found, row
    return " ".join(re.sub(r"<[^>]+>", "", found[1]).split())


def test_each_source_with_its_state_and_what_it_received(sourcing_app: Any) -> None:
    console = ConsoleClient(sourcing_app, base_url=BASE)
    console.csrf = sign_in(console)
    before = html.unescape(console.get("/console/sources").text)
    row = re.search(r'<tr data-source="fh">(.*?)</tr>', before, re.S)
    assert row, before
    assert _cell(row[1], "kind") == "firehose"
    assert _cell(row[1], "received") == "0"
    assert _cell(row[1], "last-event") == "never"

    _firehose(console, awslogs_record("/app", "s", [(int(time.time() * 1000), "hello")]))
    after = html.unescape(console.get("/console/sources").text)
    row = re.search(r'<tr data-source="fh">(.*?)</tr>', after, re.S)
    assert row, after
    assert _cell(row[1], "state") in ("listening", "running")
    assert _cell(row[1], "received") == "1"
    assert re.fullmatch(r"\d+(\.\d)? s ago", _cell(row[1], "last-event"))


def test_a_server_without_sources_says_how_to_add_one(console_client: ConsoleClient) -> None:
    page = console_client.get("/console/sources")
    assert page.status_code == 200
    assert "No sources: add <code>[[sources]]</code> tables" in page.text
