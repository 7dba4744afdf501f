"""The AWS CLI (``aws lambda ...``) as a subprocess against the real server."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import pytest

from tests.e2e.helpers import AwsCli
from tests.server import Server

from .helpers import ECHO, ROLE, make_zip


@pytest.fixture(scope="module")
def aws(lambda_server: Server, client_env: dict[str, str]) -> AwsCli:
    return AwsCli(lambda_server, client_env, "lambda")


def test_deploy_invoke_and_remove(aws: AwsCli, tmp_path: Path) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    package = tmp_path / "fn.zip"
    package.write_bytes(make_zip({"app.py": ECHO}))
    created = aws(
        "create-function", "--function-name", name, "--runtime", "python3.12",
        "--role", ROLE, "--handler", "app.handler", "--zip-file", f"fileb://{package}",
        "--environment", "Variables={GREETING=from-cli}", "--timeout", "15",
    )  # fmt: skip
    assert created["FunctionName"] == name
    assert created["CodeSize"] == package.stat().st_size
    assert created["Timeout"] == 15
    assert created["State"] == "Active"

    out = tmp_path / "out.json"
    invoked = aws(
        "invoke", "--function-name", name,
        "--payload", '{"from": "cli"}', "--log-type", "Tail", str(out),
    )  # fmt: skip
    assert invoked["StatusCode"] == 200
    assert invoked["ExecutedVersion"] == "$LATEST"
    assert json.loads(out.read_text()) == {
        "event": {"from": "cli"},
        "name": name,
        "greeting": "from-cli",
    }
    assert "got {'from': 'cli'}" in base64.b64decode(invoked["LogResult"]).decode()

    assert aws("get-function", "--function-name", name)["Configuration"]["Handler"] == (
        "app.handler"
    )
    listed = aws("list-functions")["Functions"]
    assert name in [f["FunctionName"] for f in listed]

    package.write_bytes(make_zip({"app.py": "def handler(e, c):\n    return 'two'\n"}))
    updated = aws("update-function-code", "--function-name", name,
                  "--zip-file", f"fileb://{package}")  # fmt: skip
    assert updated["CodeSize"] == package.stat().st_size
    aws("invoke", "--function-name", name, str(out))
    assert json.loads(out.read_text()) == "two"

    statement = aws(
        "add-permission", "--function-name", name, "--statement-id", "cwl",
        "--action", "lambda:InvokeFunction", "--principal", "logs.amazonaws.com",
        "--source-arn", "arn:aws:logs:us-east-1:123456789012:log-group:*",
    )["Statement"]  # fmt: skip
    assert json.loads(statement)["Principal"] == {"Service": "logs.amazonaws.com"}
    policy = json.loads(aws("get-policy", "--function-name", name)["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["cwl"]
    assert aws("remove-permission", "--function-name", name, "--statement-id", "cwl") is None

    assert aws("delete-function", "--function-name", name) == {"StatusCode": 204}
    stderr = aws.error("get-function", "--function-name", name)
    assert (
        "An error occurred (ResourceNotFoundException) when calling the GetFunction operation: "
        f"Function not found: arn:aws:lambda:us-east-1:123456789012:function:{name}"
    ) in stderr


def test_cli_errors(aws: AwsCli, tmp_path: Path) -> None:
    package = tmp_path / "slip.zip"
    package.write_bytes(make_zip({"../outside.py": "x"}))
    stderr = aws.error(
        "create-function", "--function-name", "slip", "--runtime", "python3.12",
        "--role", ROLE, "--handler", "app.handler", "--zip-file", f"fileb://{package}",
    )  # fmt: skip
    assert "(InvalidParameterValueException) when calling the CreateFunction operation: " in (
        stderr
    )
    assert "Could not unzip uploaded file." in stderr
    stderr = aws.error("delete-function", "--function-name", "declared")
    assert "(ResourceConflictException)" in stderr and "declared in the config file" in stderr
