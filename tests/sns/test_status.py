"""Issue 11 item 18: ``logsieve notifications`` shows an error only while it is current.

Against the package's real server (``sns_server``), through the real CLI: an HTTP endpoint
that fails once and then accepts shows its error while it fails, and afterwards the error is
gone from the LAST ERROR column (kept only as a past, recovered one).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from click.testing import CliRunner

from logsieve.cli import main
from tests.receivers import HttpReceiver, Reply
from tests.server import ACCESS_KEY, SECRET_KEY, Server
from tests.waiting import wait_for


def cli(server: Server, *args: str) -> str:
    env = {"LOGSIEVE_ACCESS_KEY_ID": ACCESS_KEY, "LOGSIEVE_SECRET_ACCESS_KEY": SECRET_KEY,
           "LOGSIEVE_CONFIG": ""}  # fmt: skip
    result = CliRunner().invoke(
        main, ["notifications", "--endpoint-url", server.url, *args], env=env
    )
    assert result.exit_code == 0, result.output
    return result.output


def _http_row(server: Server) -> dict[str, Any]:
    found = json.loads(cli(server, "--json"))
    return next(row for row in found["channels"] if row["kind"] == "sns-http")


def test_an_old_error_is_not_shown_as_current_once_sends_succeed(
    sns, sns_server: Server, receiver: HttpReceiver
) -> None:
    path = f"/recovering-{uuid.uuid4().hex[:8]}"
    arn = sns.create_topic(Name=f"status-{uuid.uuid4().hex[:8]}")["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=receiver.url + path)
    token = receiver.wait_requests(path)[0].json()["Token"]
    sns.confirm_subscription(TopicArn=arn, Token=token)
    receiver.script(Reply(503, b"down for a moment"), path=path)
    sns.publish(TopicArn=arn, Message="first try fails")

    failing = wait_for(
        lambda: next(
            (d for d in _http_row(sns_server)["failing_destinations"]
             if d["destination"].endswith(path)),
            None,
        ), what="the failure to show",
    )  # fmt: skip
    assert "HTTP 503" in failing["last_error"]
    assert f"failing: {receiver.url}{path} (sns-http" in cli(sns_server)
    receiver.wait_requests(path, count=3)  # confirmation, the failure, the retry that works
    wait_for(
        lambda: (
            not any(
                d["destination"].endswith(path)
                for d in _http_row(sns_server)["failing_destinations"]
            )
        ),
        what="the destination to recover",
    )
    row = _http_row(sns_server)
    assert path not in (row["last_error"] or "")  # not shown as current any more
    table = cli(sns_server)
    assert f"failing: {receiver.url}{path}" not in table
    line = next(text for text in table.splitlines() if text.startswith("sns-http"))
    if not row["last_error"]:  # nothing else failing: at most a past error, marked as such
        assert "HTTP 503" not in line or "(recovered; last error" in line
