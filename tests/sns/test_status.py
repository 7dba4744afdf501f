"""Issue 11 item 18: ``logsieve notifications`` shows an error only while it is current.

Against the package's real server (``sns_server``), through the real CLI: an HTTP endpoint
that fails once and then accepts shows its error while it fails, and afterwards the error is
gone from the LAST ERROR column (kept only as a past, recovered one).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from click.testing import CliRunner

from logsieve.cli import main
from tests.receivers import HttpReceiver, Reply
from tests.server import ACCESS_KEY, SECRET_KEY, Server
from tests.sns.helpers import REGION, wait_for


def admin_get(server: Server, path: str) -> Any:
    """GET ``/_logsieve/<path>`` signed as the CLI signs it."""
    url = f"{server.url}/_logsieve/{path}"
    request = AWSRequest(method="GET", url=url, data=b"")
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "logs", REGION).add_auth(request)
    response = httpx.get(url, headers=dict(request.headers.items()), timeout=30)
    response.raise_for_status()
    return response.json()


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
        "the failure to show",
        lambda: next(
            (d for d in _http_row(sns_server)["failing_destinations"]
             if d["destination"].endswith(path)),
            None,
        ),
    )  # fmt: skip
    assert "HTTP 503" in failing["last_error"]
    receiver.wait_requests(path, count=3)  # confirmation, the failure, the retry that works
    wait_for(
        "the destination to recover",
        lambda: (
            not any(
                d["destination"].endswith(path)
                for d in _http_row(sns_server)["failing_destinations"]
            )
        ),
    )
    table = cli(sns_server)
    line = next(row for row in table.splitlines() if row.startswith("sns-http"))
    if "HTTP 503" in line:  # only as a past error, never as the current one
        assert "recovered" in line
    text = cli(sns_server)
    assert f"failing: {receiver.url}{path}" not in text
