"""The connect handler's deadline: a handler that has not answered by then denies the attempt
(AWS: 30 s, not configurable; shortened here so the test is quick)."""

from __future__ import annotations

import threading
from pathlib import Path

from logsieve.ec2 import Attempt
from logsieve.ec2.service import Ec2Service
from logsieve.storage.factory import open_stores

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/x"
HANDLER = "arn:aws:lambda:us-east-1:123456789012:function:AWSClientVPN-slow"


def test_a_handler_past_its_deadline_denies_and_is_logged_as_timed_out(tmp_path: Path) -> None:
    answered = threading.Event()
    release = threading.Event()

    def slow(arn: str, event: bytes) -> bytes:
        release.wait(10)  # answers only once the test has seen the verdict
        answered.set()
        return b'{"allow": true}'

    written: list[tuple[str, str, list[tuple[int, str]]]] = []
    store = open_stores(tmp_path).ec2()
    service = Ec2Service(store, "us-east-1", "123456789012", invoke=slow,
                         write_log=lambda g, s, e: written.append((g, s, e)))  # fmt: skip
    service.connect_handler.timeout = 0.2
    try:
        endpoint = service.operations["CreateClientVpnEndpoint"](
            {"ClientCidrBlock": "10.0.0.0/22", "ServerCertificateArn": CERT,
             "AuthenticationOptions": [{"Type": "certificate-authentication",
                                        "MutualAuthentication": {
                                            "ClientRootCertificateChainArn": CERT}}],
             "ConnectionLogOptions": {"Enabled": True, "CloudwatchLogGroup": "g"},
             "ClientConnectOptions": {"Enabled": True, "LambdaFunctionArn": HANDLER}}
        )["ClientVpnEndpointId"]  # fmt: skip
        outcome = service.connect(endpoint, Attempt(username="slowpoke"))
        assert outcome.allowed is False
        assert outcome.reason == "client-connect-handler-timed-out"
        assert not answered.is_set()
        [(group, _, [(_, message)])] = written
        assert group == "g" and '"connection-attempt-status":"failed"' in message
    finally:
        release.set()
        service.close()
        store.close()
