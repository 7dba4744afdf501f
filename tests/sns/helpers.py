"""Helpers for the SNS tests: reading what SNS delivered, and the server they run against.

The deliveries themselves arrive at the shared receivers (``tests.receivers``); tests poll for
them with ``tests.waiting.wait_for``, within a generous deadline (a wait, never a timing
assertion).
"""

from __future__ import annotations

import base64
import json
import re
import textwrap
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.receivers import SmtpServer
from tests.server import ACCESS_KEY, SECRET_KEY, Server

T = TypeVar("T")
REGION = "us-east-1"
ACCOUNT = "123456789012"


# -- reading deliveries ----------------------------------------------------------------------


def text_body(message: EmailMessage) -> str:
    """The text/plain part, with the wire's CRLF line ends read back as newlines."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "no text/plain part"
    return str(part.get_content()).replace("\r\n", "\n")


def find_link(text: str, action: str) -> str:
    found = re.search(rf"(http://\S+/\?Action={action}&\S+)", text)
    assert found, f"no {action} link in:\n{text}"
    return found.group(1)


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


def admin_get(server: Server, path: str) -> Any:
    """GET ``/_logsieve/<path>`` signed as the CLI signs it."""
    url = f"{server.url}/_logsieve/{path}"
    request = AWSRequest(method="GET", url=url, data=b"")
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "logs", REGION).add_auth(request)
    response = httpx.get(url, headers=dict(request.headers.items()), timeout=30)
    response.raise_for_status()
    return response.json()


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
