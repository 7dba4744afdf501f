"""Only the worker an invocation belongs to may fetch its event or answer it.

A foreign process on the same machine (here: a plain socket from the test) that finds a
worker's Runtime API port must neither receive the event nor have a forged response accepted.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import threading
from pathlib import Path

from logsieve.lambdas.runtime import FunctionRuntime
from logsieve.lambdas.spec import InvokeResult
from tests.lambdas.helpers import ROLE, make_zip
from tests.lambdas.runtime_helpers import WAIT, call, payload
from tests.waiting import wait_for

API = "/2018-06-01/runtime"


def runtime_address(function_name: str) -> str | None:
    """The Runtime API address in the environment of the function's worker, read from /proc
    (as any process of the same user, or root, can)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        values = dict(item.partition(b"=")[::2] for item in environ if b"=" in item)
        if values.get(b"AWS_LAMBDA_FUNCTION_NAME") == function_name.encode():
            address = values.get(b"AWS_LAMBDA_RUNTIME_API")
            if address:
                return address.decode()
    return None


def exchange(address: str, request: bytes, timeout: float = 5.0) -> bytes:
    """Send one raw HTTP request from this (foreign) process; whatever comes back before the
    server closes the connection or ``timeout`` passes."""
    host, port = address.rsplit(":", 1)
    received = b""
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request)
        try:
            while chunk := sock.recv(65536):
                received += chunk
                if b"\r\n\r\n" in received:
                    head, _, body = received.partition(b"\r\n\r\n")
                    length = next(
                        (
                            int(line.split(b":", 1)[1])
                            for line in head.split(b"\r\n")
                            if line.lower().startswith(b"content-length:")
                        ),
                        0,
                    )
                    if len(body) >= length:
                        break
        except (TimeoutError, ConnectionResetError):
            pass
    return received


def invoke_in_background(runtime: FunctionRuntime, spec, event=None):
    results: list[InvokeResult] = []
    thread = threading.Thread(target=lambda: results.append(call(runtime, spec, event)))
    thread.start()
    return thread, results


def test_a_foreign_process_cannot_take_the_event(runtime, make_function):
    # The worker is slow to start (1 s of init), so the thief's GET .../next is the first the
    # endpoint sees: on the old code it was handed the event.
    spec = make_function(
        """
        import time
        time.sleep(1.0)
        def handler(event, context):
            return {"seen_by": "the handler", "event": event}
        """
    )
    thread, results = invoke_in_background(runtime, spec, {"secret": "payload"})
    assert wait_for(lambda: runtime_address(spec.name) is not None)
    address = runtime_address(spec.name)
    assert address is not None
    stolen = exchange(address, f"GET {API}/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert b"Lambda-Runtime-Aws-Request-Id" not in stolen
    assert b"payload" not in stolen
    thread.join(WAIT)
    assert payload(results[0]) == {"seen_by": "the handler", "event": {"secret": "payload"}}


def test_a_foreign_process_cannot_answer_an_invocation(runtime, make_function):
    # The handler leaks its request id (as a log line might) and takes its time: the thief
    # knows which invocation to answer.
    spec = make_function(
        """
        import os, tempfile, time
        def handler(event, context):
            leak = os.path.join(tempfile.gettempdir(), "request-id")
            with open(leak + ".tmp", "w") as out:
                out.write(context.aws_request_id)
            os.rename(leak + ".tmp", leak)
            time.sleep(1.5)
            return "the true result"
        """,
        timeout=10.0,
    )
    thread, results = invoke_in_background(runtime, spec)
    # The handler's own temporary directory, which this test (root or the same user) can read.
    workers = Path(tempfile.gettempdir()) / f"logsieve-fn-{os.geteuid()}" / str(os.getpid())
    leaks = workers / spec.name
    assert wait_for(lambda: any(leaks.glob("*/tmp/request-id")))
    leak = next(leaks.glob("*/tmp/request-id"))
    request_id = leak.read_text()
    address = runtime_address(spec.name)
    assert address is not None
    forged = b'"forged"'
    answer = exchange(
        address,
        f"POST {API}/invocation/{request_id}/response HTTP/1.1\r\nHost: x\r\n"
        f"Content-Length: {len(forged)}\r\n\r\n".encode()
        + forged,
    )
    assert b"202" not in answer.split(b"\r\n", 1)[0]
    thread.join(WAIT)
    assert payload(results[0]) == "the true result"
    # The worker still serves the next invocation.
    assert payload(call(runtime, spec)) == "the true result"


def test_keep_alive_connections_of_the_worker_keep_working(runtime, make_function):
    spec = make_function("def handler(event, context):\n    return event['n']\n")
    assert [payload(call(runtime, spec, {"n": n})) for n in range(20)] == list(range(20))
    assert json.loads(call(runtime, spec, {"n": 1}).payload) == 1


def test_invoke_on_the_server_returns_the_handlers_result_despite_a_thief(lam) -> None:
    code = (
        "import time\ntime.sleep(1.0)\n"
        "def handler(event, context):\n    return {'seen_by': 'the handler', 'event': event}\n"
    )
    lam.create_function(
        FunctionName="guarded",
        Runtime="python3.11",
        Handler="app.handler",
        Role=ROLE,
        Code={"ZipFile": make_zip({"app.py": code})},
        Timeout=30,
    )
    results: list[dict] = []

    def invoke() -> None:
        response = lam.invoke(FunctionName="guarded", Payload=b'{"secret": "payload"}')
        results.append(json.loads(response["Payload"].read()))

    thread = threading.Thread(target=invoke)
    thread.start()
    assert wait_for(lambda: runtime_address("guarded") is not None)
    address = runtime_address("guarded")
    assert address is not None
    stolen = exchange(address, f"GET {API}/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert b"payload" not in stolen and b"Lambda-Runtime-Aws-Request-Id" not in stolen
    thread.join(WAIT)
    assert results == [{"seen_by": "the handler", "event": {"secret": "payload"}}]
