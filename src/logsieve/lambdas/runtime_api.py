"""The Lambda Runtime API, served to exactly one worker process.

AWS's runtime interface client (awslambdaric) long-polls ``GET .../invocation/next`` for an
event and posts the outcome to ``.../invocation/{id}/response`` or ``.../error``; an init failure
goes to ``/runtime/init/error``. Each worker gets its own endpoint (its own port), so a request
needs no routing. Any local process can connect to a loopback port, so every connection is
checked on accept (``authorize``: is the peer socket held by the worker process?, see
``peers``) and closed unread when it is not: only the worker can fetch or answer its events.

The endpoint does no I/O on its own and has no thread: the thread that runs an invocation owns
the worker and drives this endpoint from its selector loop. A warm invocation therefore costs
one loopback round trip each way and no thread hand-offs.
"""

from __future__ import annotations

import logging
import select
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

API_PREFIX = "/2018-06-01/runtime"
MAX_RESPONSE_BYTES = 6_291_556  # AWS's synchronous response limit, as its error message says
_MAX_HEAD_BYTES = 2 * 1024 * 1024  # error posts carry an X-Ray cause header of up to 1 MB
_MAX_ERROR_BYTES = 1024 * 1024 + MAX_RESPONSE_BYTES  # error documents carry stack traces
_RECV_BYTES = 256 * 1024

log = logging.getLogger(__name__)


@dataclass
class Connection:
    """One keep-alive HTTP connection from the worker, with its unparsed input."""

    sock: socket.socket
    buffer: bytearray = field(default_factory=bytearray)
    continued: bool = False  # "100 Continue" sent for the request being received
    closed: bool = False

    def fileno(self) -> int:
        return self.sock.fileno()


@dataclass(frozen=True)
class Call:
    """One complete request from the worker, classified.

    ``kind``: "next" (wants an event), "response" / "error" (an invocation's outcome, with
    ``request_id``), "init_error", "too_large" (a body over the limit: already answered with
    413 and the connection closed), or "unknown".
    """

    conn: Connection
    kind: str
    request_id: str = ""
    body: bytes = b""
    error_type: str = ""


class RuntimeApiEndpoint:
    """A listening socket on 127.0.0.1 and the worker's connections to it."""

    def __init__(
        self,
        on_close: Callable[[Connection], None] | None = None,
        authorize: Callable[[socket.socket], bool] | None = None,
    ) -> None:
        self._on_close = on_close  # told before a connection's socket is closed
        self._authorize = authorize  # whether an accepted connection comes from the worker
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.setblocking(False)
        host, port = self.listener.getsockname()
        self.address = f"{host}:{port}"
        self.connections: list[Connection] = []
        self.refused = 0  # connections from other processes, closed unread

    def accept(self) -> Connection | None:
        """The next connection from the worker; foreign ones are closed without a word."""
        while True:
            try:
                sock, peer = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return None
            if self._authorize is None or self._authorize(sock):
                break
            self.refused += 1
            if self.refused in (1, 10) or self.refused % 1000 == 0:  # a flood logs a few lines
                log.warning(
                    "event=lambda_runtime_api_refused endpoint=%s peer=%s:%s refused=%d "
                    "reason=not_the_worker_process",
                    self.address,
                    *peer[:2],
                    self.refused,
                )
            sock.close()
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Connection(sock)
        self.connections.append(conn)
        return conn

    def read(self, conn: Connection) -> list[Call]:
        """Everything the connection has sent so far, as complete calls (non-blocking)."""
        while not conn.closed:
            try:
                chunk = conn.sock.recv(_RECV_BYTES)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self.close(conn)
                break
            if not chunk:
                self.close(conn)
                break
            conn.buffer += chunk
        return self._parse(conn)

    def send_event(
        self, conn: Connection, headers: dict[str, str], body: bytes, deadline: float
    ) -> bool:
        """Answer a pending ``next`` with an event; False if the worker went away meanwhile."""
        head = ["HTTP/1.1 200 OK", "Content-Type: application/json"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        head.append(f"Content-Length: {len(body)}")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        return self._send(conn, data, deadline)

    def accepted(self, conn: Connection) -> None:
        self._send(conn, _response(202, b'{"status":"OK"}'), time.monotonic() + 5)

    def reject(self, conn: Connection, status: int, error_type: str, message: str) -> None:
        body = orjson.dumps({"errorMessage": message, "errorType": error_type})
        self._send(conn, _response(status, body), time.monotonic() + 5)

    def close(self, conn: Connection) -> None:
        if conn.closed:
            return
        conn.closed = True
        if self._on_close is not None:
            self._on_close(conn)
        conn.sock.close()
        if conn in self.connections:
            self.connections.remove(conn)

    def shutdown(self) -> None:
        for conn in list(self.connections):
            self.close(conn)
        self.listener.close()

    def _send(self, conn: Connection, data: bytes, deadline: float) -> bool:
        """Write all of ``data`` on a non-blocking socket, waiting for room until ``deadline``."""
        view = memoryview(data)
        poller = None
        while view and not conn.closed:
            try:
                sent = conn.sock.send(view)
            except (BlockingIOError, InterruptedError):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.close(conn)
                    return False
                if poller is None:
                    poller = select.poll()
                    poller.register(conn.sock, select.POLLOUT)
                poller.poll(remaining * 1000)
                continue
            except OSError:
                self.close(conn)
                return False
            view = view[sent:]
        return not conn.closed

    def _parse(self, conn: Connection) -> list[Call]:
        calls: list[Call] = []
        while not conn.closed:
            end = conn.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(conn.buffer) > _MAX_HEAD_BYTES:
                    self.reject(conn, 431, "InvalidRequest", "request head too large")
                    self.close(conn)
                break
            try:
                method, path, headers = _parse_head(bytes(conn.buffer[:end]))
                length = int(headers.get("content-length", "0"))
            except ValueError:
                self.reject(conn, 400, "InvalidRequest", "malformed request")
                self.close(conn)
                break
            call_kind, request_id = _classify(method, path)
            limit = MAX_RESPONSE_BYTES if call_kind == "response" else _MAX_ERROR_BYTES
            if length > limit:
                self.reject(conn, 413, "RequestEntityTooLarge", "payload too large")
                self.close(conn)
                calls.append(Call(conn, "too_large", request_id))
                break
            if len(conn.buffer) < end + 4 + length:
                expect = headers.get("expect", "").lower()
                if expect == "100-continue" and not conn.continued:
                    conn.continued = True
                    self._send(conn, b"HTTP/1.1 100 Continue\r\n\r\n", time.monotonic() + 5)
                break
            body = bytes(conn.buffer[end + 4 : end + 4 + length])
            del conn.buffer[: end + 4 + length]
            conn.continued = False
            error_type = headers.get("lambda-runtime-function-error-type", "")
            calls.append(Call(conn, call_kind, request_id, body, error_type))
        return calls


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"bad header line {line!r}")
        headers[name.strip().lower()] = value.strip()
    return method, path, headers


def _classify(method: str, path: str) -> tuple[str, str]:
    if not path.startswith(API_PREFIX + "/"):
        return "unknown", ""
    parts = path[len(API_PREFIX) + 1 :].split("/")
    if method == "GET" and parts == ["invocation", "next"]:
        return "next", ""
    if method == "POST" and parts == ["init", "error"]:
        return "init_error", ""
    if (
        method == "POST"
        and len(parts) == 3
        and parts[0] == "invocation"
        and parts[2]
        in (
            "response",
            "error",
        )
    ):
        return parts[2], parts[1]
    return "unknown", ""


_REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    413: "Payload Too Large",
    431: "Request Header Fields Too Large",
}


def _response(status: int, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body
