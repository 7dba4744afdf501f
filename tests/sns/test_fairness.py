"""Issue 11 item 9: a dead or hanging destination holds back only itself.

A server of its own (``[sns] auto_confirm = true``, so HTTP endpoints need no handshake), real
HTTP and SMTP receivers: one endpoint that refuses connections and one that accepts and never
answers get a backlog of messages first, then twenty healthy endpoints get one message each.
The healthy ones must be served within seconds, while the bad ones keep failing (the old
outbox looked only at a kind's 32 oldest items, and retry-waiting ones held those slots).
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator

import pytest

from tests.receivers import HttpReceiver, SmtpServer
from tests.server import Server, client, free_port
from tests.sns.helpers import admin_get, start_server
from tests.waiting import wait_for

PROMPT = 15.0  # "within a couple of seconds", with slack for a loaded 2-core test machine
BACKLOG = 40  # more than the old window of 32 items


class HangingEndpoint:
    """Accepts TCP connections (the kernel's backlog does) and never answers a byte."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(512)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}/hang"

    def close(self) -> None:
        self._sock.close()


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as running:
        yield running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("sns-fair")
    running = start_server(root, smtp, extra="\n[sns]\nauto_confirm = true\n")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def sns(server: Server):
    return client(server, "sns", retries=0)


def _topic(sns, prefix: str) -> str:
    return sns.create_topic(Name=f"{prefix}-{uuid.uuid4().hex[:8]}")["TopicArn"]


def _status(server: Server) -> dict:

    return admin_get(server, "notifications")


def test_a_dead_and_a_hanging_endpoint_hold_back_only_themselves(sns, server: Server) -> None:
    hanging = HangingEndpoint()
    refused = f"http://127.0.0.1:{free_port()}/refused"  # nothing listens there
    try:
        for endpoint in (hanging.url, refused):
            bad = _topic(sns, "bad")
            sns.subscribe(TopicArn=bad, Protocol="http", Endpoint=endpoint)
            for number in range(BACKLOG):
                sns.publish(TopicArn=bad, Message=f"backlog {number}")
        with HttpReceiver() as receiver:
            started = time.monotonic()
            for number in range(20):
                good = _topic(sns, "good")
                sns.subscribe(
                    TopicArn=good, Protocol="http", Endpoint=f"{receiver.url}/good/{number}"
                )
                sns.publish(TopicArn=good, Message=f"hello {number}")
            receiver.wait_requests(count=20, timeout=PROMPT)
            took = time.monotonic() - started
            assert {r.path for r in receiver.requests()} == {f"/good/{n}" for n in range(20)}
        print(f"20 healthy endpoints served in {took:.2f}s behind {2 * BACKLOG} bad items")
        # The bad ones are still being tried (and failing), not given up and not forgotten.
        http = wait_for(
            lambda: next(
                (
                    row
                    for row in _status(server)["channels"]
                    if row["kind"] == "sns-http" and row["failing_destinations"]
                ),
                None,
            ),
            what="the refused endpoint's failures in the status",
        )
        failing = {d["destination"]: d for d in http["failing_destinations"]}
        assert refused in failing
        assert "refused" in failing[refused]["last_error"].lower()
        assert http["pending"] >= BACKLOG
    finally:
        hanging.close()


def test_a_refused_recipient_holds_back_only_its_own_email(
    sns, server: Server, smtp: SmtpServer
) -> None:
    busy = f"busy-{uuid.uuid4().hex[:8]}@example.com"
    smtp.refuse[busy] = "450 4.2.1 Mailbox busy, try later"
    bad = _topic(sns, "bad-mail")
    sns.subscribe(TopicArn=bad, Protocol="email", Endpoint=busy)
    for number in range(8):  # more than the old window of 4 email items
        sns.publish(TopicArn=bad, Message=f"backlog {number}", Subject="backlog")
    others = [f"ok-{n}-{uuid.uuid4().hex[:6]}@example.com" for n in range(5)]
    topic = _topic(sns, "good-mail")
    for address in others:
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=address)
    sns.publish(TopicArn=topic, Message="flows", Subject="Still flowing")
    for address in others:
        smtp.wait_messages(address, timeout=PROMPT)
    assert smtp.messages(busy) == []
