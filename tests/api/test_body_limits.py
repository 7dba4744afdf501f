"""Every route caps the request body before reading it, signed or not: a huge chunked body
is refused (413, or the connection closed) without the server buffering it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from logsieve.sns.signing import Signer
from tests.server import Server

MB = 1024 * 1024
HUGE = 600 * MB
CHUNK = 1 * MB
UNKNOWN_KEY = (
    "Authorization: AWS4-HMAC-SHA256 Credential=AKIANOSUCHKEY0000001/20261203/us-east-1/"
    "lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64 + "\r\n"
    "X-Amz-Date: 20261203T000000Z\r\n"
)
ROUTES = 10
# 413, or an AWS route's refusal of an unsigned or unknown caller before reading its body, or
# the connection closed mid-body; never a 200 or a 500 after reading it all
REFUSED = (413, 400, 403, None)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own: its peak memory must reflect only these requests."""
    running = Server(tmp_path_factory.mktemp("body-limits")).start()
    yield running
    running.stop()


def _peak_rss(server: Server) -> int:
    """The server process's peak resident memory (VmHWM), in bytes."""
    assert server.process is not None
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/<pid>/status")


def _stream(
    server: Server, method: str, path: str, total: int, headers: str = ""
) -> tuple[int | None, int]:
    """Send a ``total``-byte chunked body as fast as the server takes it; return the answer's
    status (None when the server closed the connection without one) and the bytes sent."""
    sent, size = 0, min(CHUNK, total)
    frame = f"{size:x}\r\n".encode() + b"x" * size + b"\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n{headers}"
            "Transfer-Encoding: chunked\r\n\r\n"
        )
        sock.sendall(head.encode())
        try:
            while sent < total:
                sock.sendall(frame)
                sent += size
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused mid-body: the answer (if any) is waiting to be read
        return _status(sock), sent


def _status(sock: socket.socket) -> int | None:
    try:
        data = sock.recv(4096)
    except ConnectionResetError:
        return None
    if not data:
        return None
    return int(data.split(b" ", 2)[1])


def _declared(server: Server, method: str, path: str, length: int, headers: str = "") -> int | None:
    """Declare a ``length``-byte body, send none of it: the answer must come unread."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n{headers}"
            f"Content-Length: {length}\r\n\r\n".encode()
        )
        return _status(sock)


def _routes(server: Server) -> list[tuple[str, str, str]]:
    certificate = Signer(server.data_dir).certificate_name
    json_headers = "X-Amz-Target: Logs_20140328.PutLogEvents\r\n"
    return [
        ("GET", "/_logsieve/subscriptions", ""),
        ("POST", "/_logsieve/notifications/redrive", ""),
        ("GET", "/health", ""),
        ("GET", f"/{certificate}", ""),
        ("GET", "/no/such/path", ""),
        ("POST", "/", json_headers),
        ("POST", "/", "Content-Type: application/x-www-form-urlencoded\r\n"),
        # Lambda takes bodies up to 70 MB, but only from a caller with a known key id
        ("PUT", "/2015-03-31/functions/f/code", ""),
        ("PUT", "/2015-03-31/functions/f/code", UNKNOWN_KEY),
        ("POST", "/", json_headers + UNKNOWN_KEY),
    ]


def test_the_certificate_route_is_where_the_test_looks(server: Server) -> None:
    certificate = Signer(server.data_dir).certificate_name
    assert httpx.get(f"{server.url}/{certificate}").status_code == 200


@pytest.mark.parametrize("index", range(ROUTES))
def test_a_huge_chunked_body_is_refused_unbuffered(server: Server, index: int) -> None:
    method, path, headers = _routes(server)[index]
    before = _peak_rss(server)
    status, sent = _stream(server, method, path, HUGE, headers)
    grown = _peak_rss(server) - before
    assert status in REFUSED, f"{method} {path}: answered {status} after {sent} bytes"
    assert sent < HUGE, f"{method} {path}: the server read all {sent} bytes"
    assert grown < 48 * MB, f"{method} {path}: peak memory grew by {grown / MB:.0f} MiB"


@pytest.mark.parametrize("index", range(ROUTES))
def test_a_huge_declared_body_is_refused_unread(server: Server, index: int) -> None:
    method, path, headers = _routes(server)[index]
    status = _declared(server, method, path, HUGE, headers)
    assert status in REFUSED, f"{method} {path}: answered {status}"


def test_small_bodies_still_reach_their_routes(server: Server) -> None:
    """A body under the cap changes nothing: the route answers as it would without one."""
    assert _stream(server, "GET", "/health", 1000)[0] == 200
    assert _stream(server, "GET", "/_logsieve/subscriptions", 1000)[0] == 403  # unsigned
    assert _stream(server, "GET", "/no/such/path", 1000)[0] == 404
