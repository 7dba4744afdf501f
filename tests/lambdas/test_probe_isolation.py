"""Probe: isolation between the functions of two servers on one machine. A worker's namespace
hides its own server's other workers; another server's workers (started before or after) are
other workers too, and their private ``/tmp`` must be out of reach as well."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server import Server, client

CODE = """\
import os


def handler(event, context):
    if event["what"] == "plant":
        path = os.path.join(os.environ["TMPDIR"], "secret.txt")
        with open(path, "w") as out:
            out.write("secret")
        return path
    seen = {}
    for path in event["paths"]:
        try:
            with open(path, "rb") as source:
                seen[path] = source.read().decode("latin-1")
        except OSError as exc:
            seen[path] = type(exc).__name__
    return seen
"""


def start(root: Path) -> Server:
    (root / "code").mkdir(parents=True)
    (root / "code" / "fn.py").write_text(CODE)
    config = root / "logsieve.toml"
    config.write_text(
        '[[functions]]\nname = "fn"\nhandler = "fn.handler"\ncode_dir = "code"\ntimeout = 30\n'
    )
    data = root / "data"
    data.mkdir(mode=0o700)
    return Server(data, config=config).start()


def invoke(server: Server, event: dict) -> object:
    response = client(server, "lambda").invoke(FunctionName="fn", Payload=json.dumps(event))
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return body


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    first = start(tmp_path / "one")
    try:
        second = start(tmp_path / "two")
        try:
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()


def test_a_function_cannot_read_another_servers_worker_tmp(two_servers) -> None:
    first, second = two_servers
    # The first server's worker starts before the second server's exists, and the other way.
    for reader, owner in ((first, second), (second, first)):
        invoke(reader, {"what": "read", "paths": []})  # its worker is up
        planted = invoke(owner, {"what": "plant"})
        assert isinstance(planted, str) and Path(planted).read_text() == "secret"
        seen = invoke(reader, {"what": "read", "paths": [planted]})
        assert isinstance(seen, dict)
        assert seen[planted] != "secret", f"a function of one server read {planted}"


def test_a_function_cannot_read_another_servers_data_dir(two_servers) -> None:
    first, second = two_servers
    secrets = [str(second.data_dir / "sns-signing-key.pem"), str(second.data_dir / "sns.db")]
    assert all(Path(path).exists() for path in secrets)
    seen = invoke(first, {"what": "read", "paths": secrets})
    assert isinstance(seen, dict)
    assert all(seen[path] in ("FileNotFoundError", "PermissionError") for path in secrets), seen
