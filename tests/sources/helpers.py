"""Two logsieve servers: one plays AWS (the remote), one runs the sources (the local)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.server import ACCESS_KEY, SECRET_KEY, Server, client

ROLE = "arn:aws:iam::123456789012:role/CWLtoKinesisRole"
# The local server's boto3 (inside its sources) finds the remote's key pair the standard way.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": ACCESS_KEY,
    "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
}


def toml_sources(*entries: dict[str, Any]) -> str:
    lines = []
    for entry in entries:
        lines.append("[[sources]]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in entry.items()]
    return "\n".join(lines) + "\n"


def local_server(tmp_path: Path, config_text: str, env: dict[str, str] | None = None) -> Server:
    config = tmp_path / "logsieve.toml"
    config.write_text(config_text)
    return Server(
        tmp_path / "local-data", config=config, env={**AWS_ENV, **(env or {})},
        log_file=tmp_path / "local.log",
    )  # fmt: skip


def feed_stream_from_group(remote: Server, group: str, stream: str, shards: int = 2,
                           pattern: str = "") -> str:  # fmt: skip
    """On the remote: a Kinesis stream, a log group and a subscription filter feeding it."""
    kinesis = client(remote, "kinesis")
    kinesis.create_stream(StreamName=stream, ShardCount=shards)
    logs = client(remote)
    logs.create_log_group(logGroupName=group)
    arn = f"arn:aws:kinesis:us-east-1:123456789012:stream/{stream}"
    logs.put_subscription_filter(
        logGroupName=group, filterName="to-kinesis", filterPattern=pattern,
        destinationArn=arn, roleArn=ROLE,
    )  # fmt: skip
    return arn


def put(remote: Server, group: str, stream: str, messages: Iterable[str], start_ms: int) -> None:
    logs = client(remote, retries=5)
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    events = [{"timestamp": start_ms + i, "message": m} for i, m in enumerate(messages)]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def local_messages(server: Server, group: str) -> list[str]:
    logs = client(server, retries=5)
    found: list[str] = []
    request: dict[str, Any] = {"logGroupName": group}
    try:
        while True:
            page = logs.filter_log_events(**request)
            found += [e["message"] for e in page["events"]]
            if not page.get("nextToken"):
                return found
            request["nextToken"] = page["nextToken"]
    except logs.exceptions.ResourceNotFoundException:
        return []


def admin_get(server: Server, path: str) -> Any:
    import httpx

    request = AWSRequest(method="GET", url=f"{server.url}/_logsieve/{path}", data=b"")
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "logs", "us-east-1").add_auth(request)
    response = httpx.get(request.url, headers=dict(request.headers))
    response.raise_for_status()
    return response.json()
