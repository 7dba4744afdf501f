"""``vpn-connect-realtime``: the shipped client connect handler, deployed as a real function on
the real server, alerts by email (SNS) on each allowed connection and applies its allow-list."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

from tests.ec2.test_connect_handler import AUTH, CERT, connect
from tests.lambdas.helpers import ROLE, make_zip
from tests.receivers import SmtpServer
from tests.server import Server, client
from tests.sns.helpers import start_server

HANDLER = resources.files("logsieve.ec2.handlers").joinpath("vpn_connect_realtime.py")


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as running:
        yield running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[Server]:
    root: Path = tmp_path_factory.mktemp("realtime")
    running = start_server(root, smtp, extra="\n[sns]\nauto_confirm = true\n")
    yield running
    running.stop()


def test_allowed_connection_alerts_at_once_and_others_are_denied(server, smtp) -> None:
    sns, lam, ec2 = (client(server, name, retries=0) for name in ("sns", "lambda", "ec2"))
    topic = sns.create_topic(Name=f"vpn-{uuid.uuid4().hex[:6]}")["TopicArn"]
    address = f"it-{uuid.uuid4().hex[:6]}@example.com"
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=address)
    arn = lam.create_function(
        FunctionName=f"AWSClientVPN-realtime-{uuid.uuid4().hex[:6]}", Runtime="python3.12",
        Role=ROLE, Handler="vpn_connect_realtime.handler", Timeout=30,
        Code={"ZipFile": make_zip({"vpn_connect_realtime.py": HANDLER.read_text()})},
        Environment={"Variables": {"TOPIC_ARN": topic, "ALLOW": "alice, bob"}},
    )["FunctionArn"]  # fmt: skip
    endpoint_id = ec2.create_client_vpn_endpoint(
        ClientCidrBlock="10.200.0.0/22", ServerCertificateArn=CERT, AuthenticationOptions=AUTH,
        ConnectionLogOptions={"Enabled": False},
        ClientConnectOptions={"Enabled": True, "LambdaFunctionArn": arn},
    )["ClientVpnEndpointId"]  # fmt: skip

    started = time.monotonic()
    alice = connect(server, endpoint_id, username="alice", platform="windows",
                    **{"public-ip": "203.0.113.9"})  # fmt: skip
    assert alice["allowed"] is True
    [mail] = smtp.wait_messages(address)
    assert time.monotonic() - started < 30  # in seconds, not the minutes of connection logs
    assert mail["Subject"] == "VPN: alice connected from 203.0.113.9"
    text = mail.get_payload(decode=True).decode() if not mail.is_multipart() else str(mail)
    assert "From:       203.0.113.9 (Windows)" in text and endpoint_id in text

    mallory = connect(server, endpoint_id, username="mallory")
    assert mallory["allowed"] is False
    assert mallory["reason"] == "mallory is not allowed to connect to this VPN."
