"""A real server configured with handler, Firehose and delivery settings, for delivery tests.

The handler used here is ordinary Lambda code: it decodes ``event["awslogs"]["data"]`` the way
AWS's documentation shows and appends the payload as one JSON line to a file, so tests read
exactly what a handler received. Its behaviour is steered through files (fail while a flag
file exists, hang while another exists), never through our own internals.
"""

from __future__ import annotations

import json
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.server import Server, client

ACCOUNT = "123456789012"
REGION = "us-east-1"

RECORDING_HANDLER = """
import base64, gzip, json, os, time

OUT = os.environ["OUT_FILE"]
FAIL_FLAG = os.environ.get("FAIL_FLAG", "")
HANG_FLAG = os.environ.get("HANG_FLAG", "")


def handler(event, context):
    payload = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    if HANG_FLAG and os.path.exists(HANG_FLAG):
        time.sleep(3600)
    if FAIL_FLAG and os.path.exists(FAIL_FLAG):
        raise RuntimeError("told to fail")
    record = {"payload": payload, "request_id": context.aws_request_id, "at": time.time()}
    with open(OUT, "a") as out:
        out.write(json.dumps(record) + "\\n")
    return {"events": len(payload["logEvents"])}
"""


@dataclass
class Setup:
    root: Path
    server: Server

    @property
    def out_file(self) -> Path:
        return self.root / "received.jsonl"

    @property
    def fail_flag(self) -> Path:
        return self.root / "fail"

    @property
    def hang_flag(self) -> Path:
        return self.root / "hang"

    @property
    def firehose_dir(self) -> Path:
        return self.root / "firehose"

    def logs(self):
        return client(self.server, "logs", retries=1)

    def kinesis(self):
        return client(self.server, "kinesis", retries=1)

    def received(self) -> list[dict[str, Any]]:
        """Every payload the handler has recorded, in the order it received them."""
        if not self.out_file.exists():
            return []
        lines = self.out_file.read_text().splitlines()
        return [json.loads(line)["payload"] for line in lines if line.strip()]

    def received_messages(self) -> list[str]:
        return [e["message"] for p in self.received() for e in p["logEvents"]]


def function_arn(name: str = "recorder") -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def start(root: Path, delivery: str = "", timeout: int = 3, extra: str = "") -> Setup:
    """A server whose config declares the ``recorder`` function and the ``archive`` stream."""
    code = root / "recorder"
    code.mkdir(parents=True)
    (code / "recorder.py").write_text(RECORDING_HANDLER)
    setup = Setup(root, Server(root / "data"))
    config = root / "logsieve.toml"
    config.write_text(
        textwrap.dedent(f"""
        [[functions]]
        name = "recorder"
        handler = "recorder.handler"
        code_dir = "{code}"
        timeout = {timeout}
        [functions.environment]
        OUT_FILE = "{setup.out_file}"
        FAIL_FLAG = "{setup.fail_flag}"
        HANG_FLAG = "{setup.hang_flag}"

        [[firehose]]
        name = "archive"
        directory = "{setup.firehose_dir}"
        buffer_interval_seconds = 0

        [delivery]
        retry_base_seconds = 0.05
        retry_max_backoff_seconds = 0.2
        {delivery}
        """)
        + extra
    )
    setup.server.config = config
    setup.server.start()
    return setup


def put(logs, group: str, stream: str, messages: list[str], start_ms: int | None = None) -> None:
    base = start_ms or int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": base + i, "message": m} for i, m in enumerate(messages)],
    )
