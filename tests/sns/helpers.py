"""Real receivers for SNS deliveries: an SMTP server (aiosmtpd) and an HTTP endpoint.

Both run in the test process on ephemeral ports and record what they receive exactly as it
arrived (raw email bytes, HTTP method/path/headers/body), so tests check the wire, not our
internals. ``wait_for`` polls until something arrives; it fails with what was seen if nothing
does within a generous deadline (a wait, never a timing assertion).
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import re
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.server import Server, free_port

T = TypeVar("T")
REGION = "us-east-1"
ACCOUNT = "123456789012"
WAIT_SECONDS = 60.0


def wait_for(what: str, probe: Callable[[], T | None], seconds: float = WAIT_SECONDS) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` otherwise."""
    deadline = time.monotonic() + seconds
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


# -- SMTP ------------------------------------------------------------------------------------


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    """An aiosmtpd server; ``mail_to(addr)`` are the parsed messages it received for addr."""

    port: int = field(default_factory=free_port)
    _inbox: _Inbox = field(default_factory=_Inbox)
    _controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        self._controller = Controller(self._inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()

    def mail_to(self, address: str) -> list[EmailMessage]:
        with self._inbox.lock:
            raw = [content for rcpts, content in self._inbox.messages if address in rcpts]
        return [
            email.message_from_bytes(content, policy=email.policy.default)  # type: ignore[misc]
            for content in raw
        ]

    def wait_mail(self, address: str, count: int = 1) -> list[EmailMessage]:
        return wait_for(
            f"{count} email(s) to {address}",
            lambda: (found := self.mail_to(address)) and len(found) >= count and found,
        )


def text_body(message: EmailMessage) -> str:
    """The text/plain part, with the wire's CRLF line ends read back as newlines."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "no text/plain part"
    return str(part.get_content()).replace("\r\n", "\n")


def find_link(text: str, action: str) -> str:
    found = re.search(rf"(http://\S+/\?Action={action}&\S+)", text)
    assert found, f"no {action} link in:\n{text}"
    return found.group(1)


# -- HTTP ------------------------------------------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]


class HttpReceiver:
    """An HTTP server that records every request; a path answers the statuses queued for it
    in ``statuses[path]`` in turn, then 200."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.statuses: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.received.append(
                        Received("POST", self.path, {k.lower(): v for k, v in self.headers.items()},
                                 body)
                    )  # fmt: skip
                    queued = receiver.statuses.get(self.path)
                    status = queued.pop(0) if queued else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> HttpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def requests(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def wait(self, path: str, count: int = 1) -> list[Received]:
        return wait_for(
            f"{count} POST(s) to {path}",
            lambda: (found := self.requests(path)) and len(found) >= count and found,
        )


def verify_sns_signature(message: dict[str, Any]) -> None:
    """Check a notification the way AWS's SNS message validators do (fetch the certificate at
    SigningCertURL, rebuild the canonical string, verify SHA1/SHA256 with RSA)."""
    if message["Type"] == "Notification":
        names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    canonical = "".join(f"{n}\n{message[n]}\n" for n in names if n in message)
    pem = httpx.get(message["SigningCertURL"]).raise_for_status().content
    certificate = x509.load_pem_x509_certificate(pem)
    algorithm = hashes.SHA256() if message["SignatureVersion"] == "2" else hashes.SHA1()
    certificate.public_key().verify(  # type: ignore[union-attr,call-arg]
        base64.b64decode(message["Signature"]),
        canonical.encode("utf-8"),
        padding.PKCS1v15(),  # type: ignore[arg-type]
        algorithm,  # type: ignore[arg-type]
    )


# -- the server ------------------------------------------------------------------------------

RECORDING_HANDLER = """
import json, os


def handler(event, context):
    with open(os.environ["OUT_FILE"], "a", encoding="utf-8") as out:
        out.write(json.dumps(event, ensure_ascii=False) + "\\n")
    return {"ok": True}
"""

# A handler written for AWS: it publishes to a topic named in its environment with boto3.
PUBLISHING_HANDLER = """
import json, os

import boto3


def handler(event, context):
    boto3.client("sns").publish(
        TopicArn=os.environ["TOPIC_ARN"],
        Subject=event["subject"],
        Message=event["message"],
    )
    return {"published": True}
"""


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def start_server(root: Path, smtp: SmtpServer, extra: str = "") -> Server:
    """A server whose config declares the ``sns-recorder`` and ``sns-publisher`` functions and
    whose SMTP server is ``smtp`` (through LOGSIEVE_SMTP_URL, as a user would set it)."""
    code = root / "code"
    code.mkdir(parents=True)
    (code / "recorder.py").write_text(RECORDING_HANDLER)
    (code / "publisher.py").write_text(PUBLISHING_HANDLER)
    config = root / "logsieve.toml"
    config.write_text(
        textwrap.dedent(f"""
        [smtp]
        sender = "alerts@logsieve.test"

        [[functions]]
        name = "sns-recorder"
        handler = "recorder.handler"
        code_dir = "{code}"
        [functions.environment]
        OUT_FILE = "{root / "lambda-events.jsonl"}"

        [[functions]]
        name = "sns-publisher"
        handler = "publisher.handler"
        code_dir = "{code}"
        timeout = 30
        [functions.environment]
        TOPIC_ARN = "arn:aws:sns:{REGION}:{ACCOUNT}:from-handler"
        """)
        + extra
    )
    server = Server(root / "data", config=config, env={"LOGSIEVE_SMTP_URL": smtp.url})
    return server.start()


def lambda_events(root: Path) -> list[dict[str, Any]]:
    out = root / "lambda-events.jsonl"
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
