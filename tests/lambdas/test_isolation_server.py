"""A function's powers on the real server: its own key pair (not the server's), no way into the
server's process, data directory or secrets, and no process left once the server is gone."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.lambdas.runtime_helpers import gone
from tests.server import ACCESS_KEY, SECRET_KEY, Server, client
from tests.waiting import wait_for

PROBE = """\
import json, os, time, boto3


def attempt(action):
    try:
        action()
        return "allowed"
    except OSError as exc:
        return type(exc).__name__


def read(path):
    with open(path, "rb") as source:
        source.read()


def write(path):
    with open(path, "w") as sink:
        sink.write("planted")


def handler(event, context):
    what = event["what"]
    if what == "keys":
        return [os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]]
    if what == "boto3":
        logs = boto3.client("logs")
        logs.create_log_group(logGroupName=event["group"])
        groups = logs.describe_log_groups(logGroupNamePrefix=event["group"])["logGroups"]
        return [g["logGroupName"] for g in groups]
    if what == "probe":
        return {path: {"read": attempt(lambda: read(path)), "write": attempt(lambda: write(path))}
                for path in event["paths"]}
    if what == "spawn":
        r, w = os.pipe()
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.write(w, str(os.getpid()).encode())
                time.sleep(600)
            os._exit(0)
        os.close(w)
        return [os.getpid(), int(os.read(r, 64))]
"""


def start(root: Path) -> Server:
    code = root / "probe-code"
    code.mkdir(parents=True)
    (code / "probe.py").write_text(PROBE)
    config = root / "logsieve.toml"
    config.write_text(
        '[[functions]]\nname = "probe"\nhandler = "probe.handler"\n'
        'code_dir = "probe-code"\ntimeout = 30\nmemory_mb = 512\n'
    )
    data = root / "data"
    data.mkdir(mode=0o700)  # as the data directory is (DESIGN.md)
    return Server(data, config=config).start()


@pytest.fixture(scope="module")
def probe_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start(tmp_path_factory.mktemp("isolation"))
    yield server
    server.stop()


def invoke(server: Server, event: dict) -> object:
    response = client(server, "lambda").invoke(FunctionName="probe", Payload=json.dumps(event))
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return body


def admin_status(server: Server, key_id: str, secret: str) -> int:
    url = f"{server.url}/_logsieve/subscriptions"
    request = AWSRequest(method="GET", url=url, data=b"")
    SigV4Auth(Credentials(key_id, secret), "logs", "us-east-1").add_auth(request)
    return httpx.get(url, headers=dict(request.headers.items()), timeout=30).status_code


def test_a_function_signs_with_its_own_key(probe_server: Server) -> None:
    key_id, secret = invoke(probe_server, {"what": "keys"})
    assert key_id != ACCESS_KEY and secret != SECRET_KEY
    assert SECRET_KEY not in secret
    # The handler's boto3 calls land on the server and are accepted...
    assert invoke(probe_server, {"what": "boto3", "group": "/from/handler"}) == ["/from/handler"]
    # ...but the operator routes take the configured keys only.
    assert admin_status(probe_server, key_id, secret) == 403
    assert admin_status(probe_server, ACCESS_KEY, SECRET_KEY) == 200
    # The same key again (derived, not random): a restart does not change it either.
    assert invoke(probe_server, {"what": "keys"}) == [key_id, secret]


def test_a_function_cannot_reach_the_servers_secrets(probe_server: Server) -> None:
    assert probe_server.process is not None
    data = probe_server.data_dir
    targets = {
        "environ": f"/proc/{probe_server.process.pid}/environ",
        "memory": f"/proc/{probe_server.process.pid}/mem",
        "database": str(data / "logsieve.db"),
        "credentials": str(data / "credentials.json"),
        "sns_key": str(data / "sns-signing-key.pem"),
        "new_file": str(data / "planted"),
    }
    seen = invoke(probe_server, {"what": "probe", "paths": list(targets.values())})
    assert isinstance(seen, dict)
    for name, path in targets.items():
        assert seen[path]["read"] != "allowed", (name, seen[path])
        assert seen[path]["write"] != "allowed", (name, seen[path])
    assert not (data / "planted").exists()


def test_a_server_killed_with_sigkill_leaves_no_function_process(tmp_path: Path) -> None:
    server = start(tmp_path)
    try:
        worker, grandchild = invoke(server, {"what": "spawn"})
        assert not gone(worker) and not gone(grandchild)
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
        assert wait_for(lambda: gone(worker) and gone(grandchild), timeout=10)
    finally:
        server.kill()
