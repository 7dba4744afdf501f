"""The firehose source: Firehose's HTTP endpoint protocol, on the server's own port."""

from __future__ import annotations

import base64
import gzip
import json
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from logsieve.formats.awslogs import LogEvent, control_message, data_message, encode
from tests.server import Server

from .helpers import local_messages, local_server, toml_sources

KEY = "firehose-secret-key-0123456789"
ARN = "arn:aws:firehose:us-east-1:123456789012:deliverystream/prod-logs"


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("firehose")
    server = local_server(
        tmp,
        toml_sources({"name": "fh", "type": "firehose", "path": "/firehose/prod",
                      "access_key_env": "FH_KEY", "raw_log_group": "/firehose/raw"}),
        env={"FH_KEY": KEY},
    ).start()  # fmt: skip
    yield server
    server.stop()


def awslogs_record(group: str, stream: str, events: list[tuple[int, str]]) -> bytes:
    payload = data_message(
        "123456789012", group, stream, ["to-firehose"],
        [LogEvent(str(i), t, m) for i, (t, m) in enumerate(events)],
    )  # fmt: skip
    return encode(payload)


def post(
    server: Server, records: list[bytes], key: str = KEY, request_id: str | None = None,
    gzipped: bool = False, body: bytes | None = None, verify: ssl.SSLContext | bool = True,
) -> httpx.Response:  # fmt: skip
    request_id = request_id or str(uuid.uuid4())
    if body is None:
        body = json.dumps({
            "requestId": request_id, "timestamp": int(time.time() * 1000),
            "records": [{"data": base64.b64encode(r).decode()} for r in records],
        }).encode()  # fmt: skip
    headers = {
        "Content-Type": "application/json",
        "X-Amz-Firehose-Protocol-Version": "1.0",
        "X-Amz-Firehose-Request-Id": request_id,
        "X-Amz-Firehose-Source-Arn": ARN,
        "X-Amz-Firehose-Access-Key": key,
        "X-Amz-Firehose-Common-Attributes": '{"commonAttributes":{}}',
    }
    if gzipped:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    return httpx.post(
        f"{server.url}/firehose/prod", content=body, headers=headers, timeout=30, verify=verify
    )


def _ok(response: httpx.Response, request_id: str | None = None) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert "content-encoding" not in response.headers
    answer = response.json()
    assert set(answer) == {"requestId", "timestamp"} and isinstance(answer["timestamp"], int)
    if request_id:
        assert answer["requestId"] == request_id
    return answer


def test_awslogs_records_become_events_control_messages_dropped_raw_kept(local: Server) -> None:
    now = int(time.time() * 1000)
    records = [
        encode(control_message("arn:x", now)),
        awslogs_record("/aws/clientvpn", "cvpn-1", [(now - 5, "connect"), (now - 1, "bye")]),
        b"plain text line\n",
    ]
    _ok(post(local, records, request_id="req-1"), "req-1")
    assert sorted(local_messages(local, "/aws/clientvpn")) == ["bye", "connect"]
    assert local_messages(local, "/firehose/raw") == ["plain text line"]


def test_gzip_content_encoding(local: Server) -> None:
    now = int(time.time() * 1000)
    _ok(post(local, [awslogs_record("/gz", "s", [(now, "zipped")])], gzipped=True))
    assert local_messages(local, "/gz") == ["zipped"]


def test_a_retried_request_id_stores_nothing_twice(local: Server) -> None:
    now = int(time.time() * 1000)
    records = [awslogs_record("/dedup", "s", [(now, "once")])]
    _ok(post(local, records, request_id="same-id"), "same-id")
    _ok(post(local, records, request_id="same-id"), "same-id")
    assert local_messages(local, "/dedup") == ["once"]


@pytest.mark.parametrize("key", ["wrong-key", "", KEY + "x"])
def test_a_wrong_access_key_stores_nothing(local: Server, key: str) -> None:
    now = int(time.time() * 1000)
    response = post(local, [awslogs_record("/denied", "s", [(now, "no")])], key=key)
    assert response.status_code == 401
    assert response.json()["errorMessage"] == "Invalid X-Amz-Firehose-Access-Key."
    assert local_messages(local, "/denied") == []


def test_bad_requests_get_firehose_shaped_errors(local: Server) -> None:
    bad = post(local, [], request_id="r-bad", body=b"{not json")
    assert bad.status_code == 400 and bad.json()["requestId"] == "r-bad"
    assert "errorMessage" in bad.json()
    huge = gzip.compress(b" " * (65 * 1024 * 1024))  # inflates past Firehose's 64 MiB
    response = httpx.post(
        f"{local.url}/firehose/prod", content=huge, timeout=30,
        headers={"Content-Encoding": "gzip", "X-Amz-Firehose-Access-Key": KEY,
                 "X-Amz-Firehose-Request-Id": "r-huge"},
    )  # fmt: skip
    assert response.status_code == 413  # permanent: Firehose does not retry it
    assert response.json()["requestId"] == "r-huge"


def test_200_means_durable_across_kill_minus_nine(tmp_path: Path) -> None:
    server = local_server(
        tmp_path,
        toml_sources({"name": "fh", "type": "firehose", "path": "/firehose/prod",
                      "access_key": KEY}),
    ).start()  # fmt: skip
    try:
        now = int(time.time() * 1000)
        for n in range(5):
            records = [
                awslogs_record("/durable", f"s{n}", [(now + i, f"{n}-{i}") for i in range(100)])
            ]
            _ok(post(server, records, request_id=f"r{n}"))
        server.kill()
        server.start()
        assert len(local_messages(server, "/durable")) == 500
        _ok(post(server, records, request_id="r4"))  # a retry after the restart: still known
        assert len(local_messages(server, "/durable")) == 500
    finally:
        server.stop()


def test_logsieve_sources_shows_state_counts_and_position(local: Server, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from logsieve.cli import main
    from tests.server import ACCESS_KEY, SECRET_KEY

    now = int(time.time() * 1000)
    _ok(post(local, [awslogs_record("/cli", "s", [(now, "seen")])], request_id="cli-1"))
    env = {"LOGSIEVE_ACCESS_KEY_ID": ACCESS_KEY, "LOGSIEVE_SECRET_ACCESS_KEY": SECRET_KEY,
           "LOGSIEVE_CONFIG": ""}  # fmt: skip
    runner = CliRunner()
    args = ["sources", "--endpoint-url", local.url, "--data-dir", str(tmp_path)]
    table = runner.invoke(main, args, env=env)
    assert table.exit_code == 0, table.output
    header, row = table.output.splitlines()[:2]
    assert header.split() == ["SOURCE", "TYPE", "STATE", "LAG", "RECEIVED", "POSITION"]
    assert row.split()[:3] == ["fh", "firehose", "listening"]
    document = json.loads(runner.invoke(main, [*args, "--json"], env=env).output)
    [status] = document["sources"]
    assert status["eventsReceived"] >= 1 and status["lastError"] is None
    assert status["position"] == {"lastRequestId": "cli-1"}


def test_the_sources_route_is_for_the_operator_only(local: Server) -> None:
    assert httpx.get(f"{local.url}/_logsieve/sources").status_code == 403


def test_many_large_bodies_at_once_share_the_servers_body_budget(tmp_path: Path) -> None:
    """Firehose bodies (up to 64 MiB each, read once the access key matched) count against
    the server-wide budget of body bytes the AWS routes share: senders over it get 503, which
    Firehose retries, instead of the server buffering every body at once (16 bodies of 60 MiB
    took its memory up by 1.8 GiB)."""
    from tests.api.test_body_limits import MB, _peak_rss, _stream

    server = local_server(
        tmp_path,
        toml_sources({"name": "fh", "type": "firehose", "path": "/firehose/prod",
                      "access_key_env": "FH_KEY"}),
        env={"FH_KEY": KEY},
    ).start()  # fmt: skip
    try:
        before = _peak_rss(server)
        statuses: list[int | None] = []
        key = f"X-Amz-Firehose-Access-Key: {KEY}\r\nX-Amz-Firehose-Request-Id: r\r\n"

        def call() -> None:
            statuses.append(_stream(server, "POST", "/firehose/prod", 60 * MB, key)[0])

        callers = [threading.Thread(target=call) for _ in range(16)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()
        grown = _peak_rss(server) - before
        assert 503 in statuses and 200 not in statuses, statuses  # the bodies are not JSON
        assert grown < 600 * MB, f"peak memory grew by {grown / MB:.0f} MiB for 16 bodies"
        now = int(time.time() * 1000)  # every share was given back
        _ok(post(server, [awslogs_record("/after", "s", [(now, "room again")])]))
    finally:
        server.stop()
