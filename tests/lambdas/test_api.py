"""The Lambda API against the real server, through boto3, with real worker processes."""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.server import Server, client

from .conftest import write_config
from .helpers import ECHO, ROLE, make_zip

ACCOUNT = "123456789012"
ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:"
FAILING = "def handler(event, context):\n    raise ValueError('bad input: ' + str(event))\n"
CALLS_BACK = """\
import boto3


def handler(event, context):
    names = [f["FunctionName"] for f in boto3.client("lambda").list_functions()["Functions"]]
    return {"sees_itself": context.function_name in names}
"""


def unique(prefix: str = "fn") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create(lam: Any, name: str, code: str = ECHO, **extra: Any) -> dict[str, Any]:
    params = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "app.handler",
        "Code": {"ZipFile": make_zip({"app.py": code})},
        **extra,
    }
    return lam.create_function(**params)


def aws_error(call: Callable[..., Any], **params: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as info:
        call(**params)
    response = info.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def invoke_json(lam: Any, name: str, event: Any, **extra: Any) -> tuple[dict[str, Any], Any]:
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode(), **extra)
    return response, json.loads(response["Payload"].read())


def test_create_invoke_and_logs(lam: Any, cwl: Any) -> None:
    name = unique()
    created = create(lam, name, Environment={"Variables": {"GREETING": "hello"}}, Timeout=20,
                     MemorySize=256, Description="echoes")  # fmt: skip
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    zipped = make_zip({"app.py": ECHO})
    assert created["FunctionArn"] == ARN + name
    assert created["CodeSize"] == len(zipped)
    assert len(base64.b64decode(created["CodeSha256"])) == 32
    assert {k: created[k] for k in ("Runtime", "Role", "Handler", "Timeout", "MemorySize")} == {
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "app.handler",
        "Timeout": 20,
        "MemorySize": 256,
    }
    assert (created["Version"], created["State"], created["LastUpdateStatus"]) == (
        "$LATEST",
        "Active",
        "Successful",
    )
    assert created["PackageType"] == "Zip"
    assert created["Architectures"] == ["x86_64"]
    assert created["Environment"] == {"Variables": {"GREETING": "hello"}}
    assert created["Description"] == "echoes"
    time.strptime(created["LastModified"][:19], "%Y-%m-%dT%H:%M:%S")
    assert created["LastModified"].endswith("+0000") and created["LastModified"][19] == "."
    uuid.UUID(created["RevisionId"])

    response, payload = invoke_json(lam, name, {"n": 1}, LogType="Tail")
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    assert payload == {"event": {"n": 1}, "name": name, "greeting": "hello"}
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "got {'n': 1}" in tail
    assert tail.startswith("START RequestId: ") and "REPORT RequestId: " in tail

    # The function's output is in its log group as soon as the invocation returns.
    events = cwl.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    assert any("got {'n': 1}" in e["message"] for e in events)


def test_function_error(lam: Any) -> None:
    name = unique()
    create(lam, name, FAILING)
    response, payload = invoke_json(lam, name, "x")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "ValueError"
    assert payload["errorMessage"] == "bad input: x"


def test_handler_calls_back_into_the_server(lam: Any) -> None:
    name = unique()
    create(lam, name, CALLS_BACK)
    _, payload = invoke_json(lam, name, {})
    assert payload == {"sees_itself": True}


def test_event_and_dry_run(lam: Any, cwl: Any) -> None:
    name = unique()
    create(lam, name)
    event = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"async": "yes"}')
    assert event["StatusCode"] == 202
    assert event["Payload"].read() == b""
    dry = lam.invoke(FunctionName=name, InvocationType="DryRun")
    assert dry["StatusCode"] == 204
    # The queued invocation runs after the 202: wait for its output in the function's logs.
    deadline = time.monotonic() + 60
    found = False
    while not found and time.monotonic() < deadline:
        try:
            events = cwl.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
        except cwl.exceptions.ResourceNotFoundException:
            events = []
        found = any("'async': 'yes'" in e["message"] for e in events)
        if not found:
            time.sleep(0.2)
    assert found, "the Event invocation never ran"


def test_read_list_update_delete(lam: Any) -> None:
    name = unique("crud")
    first = create(lam, name, Tags={"team": "obs"})
    got = lam.get_function(FunctionName=name)
    assert got["Configuration"] == {k: v for k, v in first.items() if k != "ResponseMetadata"}
    assert got["Code"]["RepositoryType"] == "S3"
    assert got["Tags"] == {"team": "obs"}
    for reference in (name, ARN + name, f"{ACCOUNT}:function:{name}", f"{name}:$LATEST"):
        config = lam.get_function_configuration(FunctionName=reference)
        assert config["FunctionName"] == name

    names = [f["FunctionName"] for page in lam.get_paginator("list_functions").paginate(
        PaginationConfig={"PageSize": 1}) for f in page["Functions"]]  # fmt: skip
    assert name in names
    assert len(names) == len(set(names))

    code = lam.update_function_code(
        FunctionName=name, ZipFile=make_zip({"app.py": "def handler(e, c):\n    return 'v2'\n"})
    )
    assert code["CodeSha256"] != first["CodeSha256"]
    assert code["RevisionId"] != first["RevisionId"]
    assert invoke_json(lam, name, {})[1] == "v2"

    config = lam.update_function_configuration(
        FunctionName=name,
        Handler="other.handler",
        Timeout=60,
        Environment={"Variables": {"AB": "1"}},
        RevisionId=code["RevisionId"],
    )
    assert (config["Handler"], config["Timeout"], config["Environment"]) == (
        "other.handler",
        60,
        {"Variables": {"AB": "1"}},
    )
    assert aws_error(
        lam.update_function_configuration, FunctionName=name, Timeout=5, RevisionId="stale"
    )[0::2] == ("PreconditionFailedException", 412)

    deleted = lam.delete_function(FunctionName=name)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert aws_error(lam.get_function, FunctionName=name) == (
        "ResourceNotFoundException",
        f"Function not found: {ARN}{name}",
        404,
    )


def test_not_found_everywhere(lam: Any) -> None:
    missing = ARN + "no-such-function"
    expected = ("ResourceNotFoundException", f"Function not found: {missing}", 404)
    assert aws_error(lam.get_function, FunctionName="no-such-function") == expected
    assert aws_error(lam.invoke, FunctionName="no-such-function") == expected
    assert aws_error(lam.delete_function, FunctionName="no-such-function") == expected
    assert aws_error(lam.get_policy, FunctionName="no-such-function") == expected
    assert aws_error(lam.get_function, FunctionName="no-such-function:live")[1] == (
        f"Function not found: {missing}:live"
    )
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function_configuration(FunctionName="no-such-function")


def test_create_errors(lam: Any) -> None:
    name = unique()
    create(lam, name)
    assert aws_error(create, lam=lam, name=name) == (
        "ResourceConflictException",
        f"Function already exist: {name}",
        409,
    )
    bad_runtime = aws_error(create, lam=lam, name=unique(), Runtime="nodejs20.x")
    assert bad_runtime == (
        "InvalidParameterValueException",
        "The runtime parameter of nodejs20.x is no longer supported for creating or updating "
        "AWS Lambda functions. We recommend you use a supported runtime while creating or "
        "updating functions.",
        400,
    )
    no_handler = {"FunctionName": unique(), "Runtime": "python3.12", "Role": ROLE,
                  "Code": {"ZipFile": make_zip({"app.py": ECHO})}}  # fmt: skip
    assert aws_error(lam.create_function, **no_handler) == (
        "InvalidParameterValueException",
        "Runtime and Handler are mandatory parameters for functions created with deployment "
        "packages.",
        400,
    )
    assert aws_error(create, lam=lam, name=unique(), Timeout=901) == (
        "ValidationException",
        "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: "
        "Member must have value less than or equal to 900",
        400,
    )
    assert aws_error(create, lam=lam, name=unique(), MemorySize=10241)[0::2] == (
        "ValidationException",
        400,
    )
    assert aws_error(create, lam=lam, name=unique(), Handler="has space") == (
        "ValidationException",
        "1 validation error detected: Value 'has space' at 'handler' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [^\\s]+",
        400,
    )
    reserved = aws_error(
        create, lam=lam, name=unique(), Environment={"Variables": {"AWS_REGION": "x"}}
    )
    assert reserved[0] == "InvalidParameterValueException"
    assert reserved[1].endswith("Reserved keys used in this request: AWS_REGION")
    assert aws_error(create, lam=lam, name="bad name")[0] == "ValidationException"
    s3 = {**no_handler, "Handler": "app.handler", "Code": {"S3Bucket": "bucket", "S3Key": "k.zip"}}
    assert aws_error(lam.create_function, **s3)[0] == "InvalidParameterValueException"


def test_bad_packages(lam: Any, lambda_server: Server) -> None:
    unzip = "Could not unzip uploaded file. Please check your file, then try to upload again."
    slip = make_zip({"app.py": ECHO, "../../escape.py": "x"})
    name = unique()
    assert aws_error(lam.create_function, FunctionName=name, Runtime="python3.12", Role=ROLE,
                     Handler="app.handler", Code={"ZipFile": slip}) == (
        "InvalidParameterValueException", unzip, 400)  # fmt: skip
    assert aws_error(lam.create_function, FunctionName=name, Runtime="python3.12", Role=ROLE,
                     Handler="app.handler", Code={"ZipFile": b"not a zip"})[1] == unzip  # fmt: skip
    # A failed create leaves nothing behind, and nothing was written outside the package.
    assert aws_error(lam.get_function, FunctionName=name)[0] == "ResourceNotFoundException"
    assert not list(lambda_server.data_dir.parent.rglob("escape.py"))
    bomb = make_zip({"app.py": ECHO, "zeros.bin": b"\0" * 262_144_000})
    assert aws_error(lam.create_function, FunctionName=name, Runtime="python3.12", Role=ROLE,
                     Handler="app.handler", Code={"ZipFile": bomb}) == (
        "InvalidParameterValueException",
        "Unzipped size must be smaller than 262144000 bytes", 400)  # fmt: skip
    # Updating with a bad package keeps the function as it was.
    create(lam, name)
    assert aws_error(lam.update_function_code, FunctionName=name, ZipFile=slip)[1] == unzip
    assert invoke_json(lam, name, {"still": "v1"})[1]["event"] == {"still": "v1"}


def test_request_too_large(lam: Any) -> None:
    huge = os.urandom(52_428_800 + 1)  # over 50 MB zipped: over the request limit once encoded
    assert aws_error(lam.create_function, FunctionName=unique(), Runtime="python3.12",
                     Role=ROLE, Handler="app.handler", Code={"ZipFile": huge}) == (
        "RequestEntityTooLargeException",
        "Request must be smaller than 69905067 bytes for the CreateFunction operation",
        413,
    )  # fmt: skip


def test_invoke_errors(lam: Any) -> None:
    name = unique()
    create(lam, name)
    code, message, status = aws_error(lam.invoke, FunctionName=name, Payload=b"{not json")
    assert (code, status) == ("InvalidRequestContentException", 400)
    assert message.startswith("Could not parse request body into json")
    assert aws_error(lam.invoke, FunctionName=name, Payload=b"1" * 6_291_457) == (
        "RequestTooLargeException",
        "6291457 byte payload is too large for the RequestResponse invocation type "
        "(limit 6291456 bytes)",
        413,
    )
    assert aws_error(lam.invoke, FunctionName=name, Qualifier="7")[0::2] == (
        "ResourceNotFoundException",
        404,
    )
    assert invoke_json(lam, name, [1], Qualifier="$LATEST")[1]["event"] == [1]


def test_permissions(lam: Any) -> None:
    name = unique()
    create(lam, name)
    assert aws_error(lam.get_policy, FunctionName=name) == (
        "ResourceNotFoundException",
        "The resource you requested does not exist.",
        404,
    )
    added = lam.add_permission(
        FunctionName=name,
        StatementId="cwl",
        Action="lambda:InvokeFunction",
        Principal="logs.amazonaws.com",
        SourceArn=f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:*",
        SourceAccount=ACCOUNT,
    )
    assert added["ResponseMetadata"]["HTTPStatusCode"] == 201
    statement = json.loads(added["Statement"])
    assert statement == {
        "Sid": "cwl",
        "Effect": "Allow",
        "Principal": {"Service": "logs.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": ARN + name,
        "Condition": {
            "StringEquals": {"AWS:SourceAccount": ACCOUNT},
            "ArnLike": {"AWS:SourceArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:*"},
        },
    }
    got = lam.get_policy(FunctionName=name)
    assert json.loads(got["Policy"]) == {
        "Version": "2012-10-17",
        "Id": "default",
        "Statement": [statement],
    }
    assert got["RevisionId"] == lam.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    assert aws_error(lam.add_permission, FunctionName=name, StatementId="cwl",
                     Action="lambda:InvokeFunction", Principal="s3.amazonaws.com") == (
        "ResourceConflictException",
        "The statement id (cwl) provided already exists. Please provide a new statement id, "
        "or remove the existing statement.",
        409,
    )  # fmt: skip
    assert aws_error(lam.remove_permission, FunctionName=name, StatementId="nope") == (
        "ResourceNotFoundException",
        "Statement nope is not found in resource policy.",
        404,
    )
    removed = lam.remove_permission(FunctionName=name, StatementId="cwl")
    assert removed["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert aws_error(lam.get_policy, FunctionName=name)[0] == "ResourceNotFoundException"


def test_declared_function(lam: Any) -> None:
    config = lam.get_function_configuration(FunctionName="declared")
    assert config["Handler"] == "local_app.handler"
    assert config["Timeout"] == 10
    assert config["Environment"] == {"Variables": {"MODE": "local"}}
    names = [f["FunctionName"] for page in lam.get_paginator("list_functions").paginate()
             for f in page["Functions"]]  # fmt: skip
    assert "declared" in names
    _, payload = invoke_json(lam, "declared", {"k": "v"})
    assert payload == {"local": True, "mode": "local", "event": {"k": "v"}}
    code, message, status = aws_error(lam.delete_function, FunctionName="declared")
    assert (code, status) == ("ResourceConflictException", 409)
    assert "declared in the config file" in message
    code, _, _ = aws_error(lam.update_function_configuration, FunctionName="declared", Timeout=3)
    assert code == "ResourceConflictException"


def test_unknown_paths_and_auth(lambda_server: Server) -> None:
    response = httpx.get(f"{lambda_server.url}/2015-03-31/nothing-here")
    assert response.status_code == 404
    assert response.headers["x-amzn-errortype"] == "UnknownOperationException"
    assert response.json() == {"message": "No operation matches GET /2015-03-31/nothing-here."}
    unsigned = httpx.get(f"{lambda_server.url}/2015-03-31/functions")
    assert unsigned.status_code == 403
    assert unsigned.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    # The JSON protocol still answers POST / without a target (its own error shape).
    bare = httpx.post(f"{lambda_server.url}/", content=b"{}")
    assert bare.status_code == 400
    assert bare.json()["__type"] == "MissingAuthenticationTokenException"
    assert httpx.get(f"{lambda_server.url}/health").json() == {"status": "ok"}


def test_logs_api_unaffected(cwl: Any) -> None:
    group = f"/lambda-tests/{uuid.uuid4().hex[:8]}"
    cwl.create_log_group(logGroupName=group)
    assert cwl.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["logGroupName"] == (
        group
    )


def test_functions_survive_a_restart(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", config=write_config(tmp_path)).start()
    try:
        lam = client(server, "lambda")
        create(lam, "kept", Environment={"Variables": {"GREETING": "again"}})
        lam.add_permission(FunctionName="kept", StatementId="s", Action="lambda:InvokeFunction",
                           Principal="logs.amazonaws.com")  # fmt: skip
        before = lam.get_function_configuration(FunctionName="kept")
        invoke_json(lam, "kept", {})  # a warm worker exists when the server goes down
    finally:
        server.kill()  # no shutdown handler: what is on disk is all there is
    server = Server(tmp_path / "data", config=write_config(tmp_path), port=server.port).start()
    try:
        lam = client(server, "lambda")
        after = lam.get_function_configuration(FunctionName="kept")
        before.pop("ResponseMetadata")
        after.pop("ResponseMetadata")
        assert after == before
        assert json.loads(lam.get_policy(FunctionName="kept")["Policy"])["Statement"][0]["Sid"] == (
            "s"
        )
        assert invoke_json(lam, "kept", {"x": 1})[1]["greeting"] == "again"
    finally:
        server.stop()
