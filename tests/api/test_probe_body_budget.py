"""Probe: a caller that knows only an access key id (printed by `logsieve serve`, in logs and
shell history; not a secret) sends many large bodies at once with a garbage signature. Each is
under its route's cap (Lambda's is 70 MB), so each is buffered before the signature is found
wrong: 24 of them at once took the server's memory up by over a gigabyte (and it stayed high).
Now the AWS routes share one budget of body bytes (``api.bodies.BodyBudget``): callers over it
get 503 ServiceUnavailableException, which SDKs retry.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tests.api.test_body_limits import MB, _peak_rss, _stream
from tests.server import ACCESS_KEY, Server, client

KNOWN_KEY_BAD_SIGNATURE = (
    f"Authorization: AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20261203/us-east-1/"
    "lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64 + "\r\n"
    "X-Amz-Date: 20261203T000000Z\r\n"
)
CALLERS = 24
BODY = 69 * MB  # under Lambda's 70 MB request cap


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("body-budget")).start()
    yield running
    running.stop()


def test_many_large_bodies_with_a_bad_signature_do_not_take_the_servers_memory(
    server: Server,
) -> None:
    before = _peak_rss(server)
    statuses: list[int | None] = []

    def call() -> None:
        statuses.append(
            _stream(server, "PUT", "/2015-03-31/functions/f/code", BODY, KNOWN_KEY_BAD_SIGNATURE)[0]
        )

    callers = [threading.Thread(target=call) for _ in range(CALLERS)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    grown = _peak_rss(server) - before
    assert all(status != 200 for status in statuses), statuses
    assert grown < 400 * MB, f"peak memory grew by {grown / MB:.0f} MiB for {CALLERS} callers"


def test_the_budget_is_given_back_after_a_flood(server: Server) -> None:
    """Every refused or answered request returns its share: after the flood above (a module-
    scoped server) a small signed call still gets through (a leak of the shares would keep
    the budget full and refuse it with 503)."""
    statuses = [
        _stream(server, "PUT", "/2015-03-31/functions/f/code", BODY, KNOWN_KEY_BAD_SIGNATURE)[0]
        for _ in range(3)
    ]
    assert all(status != 200 for status in statuses), statuses
    logs = client(server)
    logs.create_log_group(logGroupName="/after/the/flood")
    logs.create_log_stream(logGroupName="/after/the/flood", logStreamName="s")
    now = int(time.time() * 1000)
    logs.put_log_events(  # about 800 KB: more than any leftover room in a leaked budget
        logGroupName="/after/the/flood",
        logStreamName="s",
        logEvents=[{"timestamp": now, "message": "x" * 200_000} for _ in range(4)],
    )
