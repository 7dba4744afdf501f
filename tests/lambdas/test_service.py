"""LambdaService without HTTP: the dispatcher's Python API, storage and declared functions."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from logsieve.errors import ServiceError
from logsieve.lambdas import DirectoryFunctionStore, LambdaService
from logsieve.lambdas.declared import DeclaredFunction
from logsieve.lambdas.runtime import FunctionRuntime
from tests.waiting import wait_for

from .helpers import ECHO, ROLE, make_zip

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:/app:*"
# Prints and fails with the event it got, so a caller sees what reached the handler.
FAILING = """\
import json


def handler(event, context):
    print("got", json.dumps(event))
    raise ValueError(json.dumps(event))
"""

LogBatch = tuple[str, str, list[tuple[int, str]]]  # (group, stream, [(ms, message)])


@pytest.fixture
def logs() -> list[LogBatch]:
    """Every batch of log events the runtime writes."""
    return []


@pytest.fixture
def runtime(logs: list[LogBatch]) -> Iterator[FunctionRuntime]:
    rt = FunctionRuntime(
        {"AWS_REGION": "us-east-1"},
        lambda group, stream, events: logs.append((group, stream, list(events))),
    )
    yield rt
    rt.close()


def service(
    root: Path, runtime: FunctionRuntime, declared: tuple[DeclaredFunction, ...] = ()
) -> LambdaService:
    return LambdaService(
        DirectoryFunctionStore(root / "lambda"),
        runtime,
        "us-east-1",
        "123456789012",
        declared,
    )


def reports(logs: list[LogBatch], name: str = "f") -> list[str]:
    """The REPORT lines the runtime wrote for ``name``: one per finished invocation."""
    return [
        message
        for group, _, events in list(logs)
        if group == f"/aws/lambda/{name}"
        for _, message in events
        if message.startswith("REPORT RequestId: ")
    ]


def create(svc: LambdaService, name: str = "f", **extra: Any) -> dict[str, Any]:
    params = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "app.handler",
        "Code": {"ZipFile": make_zip({"app.py": ECHO})},
        **extra,
    }
    return svc.create_function(params)


def error(call: Any, *args: Any) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        call(*args)
    return info.value


@pytest.fixture
def declared(tmp_path: Path) -> DeclaredFunction:
    code = tmp_path / "local-code"
    code.mkdir()
    (code / "app.py").write_text(ECHO)
    return DeclaredFunction(
        name="local",
        handler="app.handler",
        code_dir=code,
        environment={"GREETING": "hi"},
        timeout=2.5,
        memory_mb=256,
        max_concurrency=2,
        source=tmp_path / "logsieve.toml",
    )


def test_resolve(tmp_path: Path, runtime: FunctionRuntime) -> None:
    svc = service(tmp_path, runtime)
    create(svc, "f", Environment={"Variables": {"GREETING": "hello"}}, Timeout=9)
    spec = svc.resolve(ARN + "f")
    assert spec is not None
    assert (spec.name, spec.arn, spec.handler, spec.timeout, spec.environment) == (
        "f",
        ARN + "f",
        "app.handler",
        9.0,
        {"GREETING": "hello"},
    )
    assert (spec.code_dir / "app.py").read_text() == ECHO
    assert svc.resolve(ARN + "f:$LATEST") == spec
    for other in (
        ARN + "g",
        ARN + "f:1",
        ARN + "f:live",
        "arn:aws:lambda:eu-west-1:123456789012:function:f",
        "arn:aws:lambda:us-east-1:999999999999:function:f",
        "f",
        "123456789012:function:f",
        "not an arn",
    ):
        assert svc.resolve(other) is None, other


def test_allows_logs_follows_the_policy(tmp_path: Path, runtime: FunctionRuntime) -> None:
    svc = service(tmp_path, runtime)
    create(svc)
    assert not svc.allows_logs(ARN + "f", GROUP)
    svc.add_permission(
        {
            "FunctionName": "f",
            "StatementId": "cwl",
            "Action": "lambda:InvokeFunction",
            "Principal": "logs.us-east-1.amazonaws.com",
            "SourceArn": "arn:aws:logs:us-east-1:123456789012:log-group:/app:*",
        }
    )
    assert svc.allows_logs(ARN + "f", GROUP)
    assert svc.allows_logs(ARN + "f:$LATEST", GROUP)
    assert not svc.allows_logs(ARN + "f", GROUP.replace("/app", "/other"))
    assert not svc.allows_logs(ARN + "missing", GROUP)
    svc.remove_permission({"FunctionName": "f", "StatementId": "cwl"})
    assert not svc.allows_logs(ARN + "f", GROUP)


def test_invoke_goes_to_the_runtime(
    tmp_path: Path, runtime: FunctionRuntime, logs: list[LogBatch]
) -> None:
    svc = service(tmp_path, runtime)
    create(svc, Environment={"Variables": {"GREETING": "hello"}})
    spec = svc.resolve(ARN + "f")
    assert spec is not None
    result = svc.invoke(spec, b'{"awslogs": {"data": "H4sI"}}')
    assert result.ok
    # The handler saw the event, and the function's name and environment from the spec.
    assert json.loads(result.payload) == {
        "event": {"awslogs": {"data": "H4sI"}},
        "name": "f",
        "greeting": "hello",
    }
    assert result.log_tail == ""  # no tail asked for
    assert len(reports(logs)) == 1  # invoked once
    assert reports(logs)[0].startswith(f"REPORT RequestId: {result.request_id}\t")


def test_invoke_operation_types(
    tmp_path: Path, runtime: FunctionRuntime, logs: list[LogBatch]
) -> None:
    svc = service(tmp_path, runtime)
    create(svc, Code={"ZipFile": make_zip({"app.py": FAILING})})
    out = svc.invoke_operation({"FunctionName": "f", "LogType": "Tail", "Payload": b"[1]"})
    assert out["StatusCode"] == 200
    assert out["FunctionError"] == "Unhandled"
    assert out["ExecutedVersion"] == "$LATEST"
    assert json.loads(out["Payload"])["errorMessage"] == "[1]"  # the payload is the event
    log_tail = base64.b64decode(out["LogResult"])
    assert log_tail.startswith(b"START RequestId: ")
    assert b"got [1]\n" in log_tail
    out = svc.invoke_operation({"FunctionName": "f"})
    assert json.loads(out["Payload"])["errorMessage"] == "{}"  # no payload: an empty JSON object
    assert "LogResult" not in out  # no tail asked for
    calls = len(reports(logs))
    assert calls == 2
    assert svc.invoke_operation({"FunctionName": "f", "InvocationType": "DryRun"}) == {
        "StatusCode": 204
    }
    assert len(reports(logs)) == calls  # a dry run runs nothing
    assert svc.invoke_operation({"FunctionName": "f", "InvocationType": "Event"}) == {
        "StatusCode": 202
    }
    assert wait_for(lambda: len(reports(logs)) == calls + 1)
    bad = error(svc.invoke_operation, {"FunctionName": "f", "Payload": b"{nope"})
    assert bad.code == "InvalidRequestContentException"
    assert bad.message.startswith(
        "Could not parse request body into json: Could not parse payload into json: "
    )
    big = error(svc.invoke_operation, {"FunctionName": "f", "Payload": b" " * 6_291_457})
    assert (big.code, big.status) == ("RequestTooLargeException", 413)
    assert big.message == (
        "6291457 byte payload is too large for the RequestResponse invocation type "
        "(limit 6291456 bytes)"
    )
    event = error(
        svc.invoke_operation,
        {"FunctionName": "f", "InvocationType": "Event", "Payload": b" " * 1_048_577},
    )
    assert event.message.endswith("for the Event invocation type (limit 1048576 bytes)")
    assert len(reports(logs)) == calls + 1  # refused requests run nothing
    svc.close()


def test_runtime_failure_is_a_service_exception(tmp_path: Path, runtime: FunctionRuntime) -> None:
    svc = service(tmp_path, runtime)
    create(svc)
    runtime.close()  # its invocations now raise RuntimeClosedError
    failure = error(svc.invoke_operation, {"FunctionName": "f"})
    assert (failure.code, failure.status) == ("ServiceException", 500)
    assert "the Lambda runtime is closed" in failure.message


def test_persistence_across_instances(tmp_path: Path, runtime: FunctionRuntime) -> None:
    svc = service(tmp_path, runtime)
    first = create(svc, "keep", Description="d", Tags={"team": "a"})
    svc.add_permission(
        {"FunctionName": "keep", "StatementId": "s", "Action": "lambda:*", "Principal": "*"}
    )
    create(svc, "gone")
    svc.delete_function({"FunctionName": "gone"})
    updated = svc.update_function_code(
        {"FunctionName": "keep", "ZipFile": make_zip({"app.py": ECHO + "\n# v2\n"})}
    )
    assert updated["CodeSha256"] != first["CodeSha256"]

    again = service(tmp_path, runtime)
    assert again.functions.names() == ["keep"]
    config = again.get_function_configuration({"FunctionName": "keep"})
    assert config == svc.get_function_configuration({"FunctionName": "keep"})
    assert again.get_function({"FunctionName": "keep"})["Tags"] == {"team": "a"}
    assert again.get_policy({"FunctionName": "keep"})["RevisionId"] == config["RevisionId"]
    spec = again.resolve(ARN + "keep")
    assert spec is not None and "# v2" in (spec.code_dir / "app.py").read_text()
    # Only the current code version is left on disk after a restart.
    assert len(list((tmp_path / "lambda" / "functions" / "keep" / "code").iterdir())) == 1
    assert not (tmp_path / "lambda" / "functions" / "gone").exists()


def warm(svc: LambdaService, runtime: FunctionRuntime, name: str = "f") -> list[int]:
    """Invoke ``name`` so it has a warm worker; the workers' process ids."""
    assert "FunctionError" not in svc.invoke_operation({"FunctionName": name})
    pids = runtime.workers(name)
    assert pids
    return pids


def test_updates_retire_workers_and_keep_the_previous_code(
    tmp_path: Path, runtime: FunctionRuntime
) -> None:
    svc = service(tmp_path, runtime)
    create(svc)
    before = svc.resolve(ARN + "f")
    assert before is not None
    warm(svc, runtime)
    svc.update_function_code(
        {"FunctionName": "f", "ZipFile": make_zip({"app.py": ECHO + "\n# v2\n"})}
    )
    after = svc.resolve(ARN + "f")
    assert after is not None and after.revision != before.revision
    assert runtime.workers("f") == []  # retired
    assert before.code_dir.is_dir()  # invocations already running keep their files
    warm(svc, runtime)
    svc.update_function_code(
        {"FunctionName": "f", "ZipFile": make_zip({"app.py": ECHO + "\n# v3\n"})}
    )
    assert not before.code_dir.exists()
    assert runtime.workers("f") == []
    warm(svc, runtime)
    config = svc.update_function_configuration({"FunctionName": "f", "MemorySize": 512})
    assert config["MemorySize"] == 512
    assert runtime.workers("f") == []
    pids = warm(svc, runtime)
    revision = svc.resolve(ARN + "f").revision  # type: ignore[union-attr]
    svc.add_permission(
        {"FunctionName": "f", "StatementId": "s", "Action": "lambda:*", "Principal": "*"}
    )
    # A policy change is a new RevisionId but not a new deployment: warm workers stay.
    assert svc.resolve(ARN + "f").revision == revision  # type: ignore[union-attr]
    assert runtime.workers("f") == pids


def test_revision_id_preconditions(tmp_path: Path, runtime: FunctionRuntime) -> None:
    svc = service(tmp_path, runtime)
    revision = create(svc)["RevisionId"]
    stale = error(
        svc.update_function_configuration,
        {"FunctionName": "f", "Timeout": 5, "RevisionId": "not-it"},
    )
    assert (stale.code, stale.status) == ("PreconditionFailedException", 412)
    out = svc.update_function_configuration(
        {"FunctionName": "f", "Timeout": 5, "RevisionId": revision}
    )
    assert out["RevisionId"] != revision


def test_declared_functions(
    tmp_path: Path, runtime: FunctionRuntime, declared: DeclaredFunction
) -> None:
    svc = service(tmp_path, runtime, (declared,))
    spec = svc.resolve(ARN + "local")
    assert spec is not None
    assert (spec.code_dir, spec.timeout, spec.memory_mb, spec.max_concurrency) == (
        declared.code_dir,
        2.5,
        256,
        2,
    )
    assert spec.environment == {"GREETING": "hi"}
    assert svc.allows_logs(ARN + "local", GROUP)  # no policy needed
    config = svc.get_function_configuration({"FunctionName": "local"})
    assert config["Handler"] == "app.handler"
    assert config["Environment"] == {"Variables": {"GREETING": "hi"}}
    assert config["Runtime"].startswith("python3.")
    assert config["Timeout"] == 2
    assert [f["FunctionName"] for f in svc.list_functions({})["Functions"]] == ["local"]
    attempts: list[tuple[Any, dict[str, Any]]] = [
        (svc.delete_function, {"FunctionName": "local"}),
        (svc.update_function_code, {"FunctionName": "local", "ZipFile": make_zip({})}),
        (svc.update_function_configuration, {"FunctionName": "local", "Timeout": 9}),
        (
            svc.add_permission,
            {"FunctionName": "local", "StatementId": "s", "Action": "lambda:*", "Principal": "*"},
        ),
        (svc.remove_permission, {"FunctionName": "local", "StatementId": "s"}),
    ]
    for call, params in attempts:
        refused = error(call, params)
        assert (refused.code, refused.status) == ("ResourceConflictException", 409)
        assert "declared in the config file" in refused.message
        assert str(declared.source) in refused.message
    duplicate = error(create, svc, "local")
    assert duplicate.message == "Function already exist: local"
    missing = error(svc.get_policy, {"FunctionName": "local"})
    assert missing.message == "The resource you requested does not exist."


def test_declared_function_hides_a_stored_one(
    tmp_path: Path, runtime: FunctionRuntime, declared: DeclaredFunction
) -> None:
    create(service(tmp_path, runtime), "local", Description="stored")
    svc = service(tmp_path, runtime, (declared,))
    assert svc.get_function_configuration({"FunctionName": "local"})["Description"].startswith(
        "Declared in"
    )
    again = service(tmp_path, runtime)  # once undeclared, the stored function is back
    assert again.get_function_configuration({"FunctionName": "local"})["Description"] == "stored"


def test_list_pagination(tmp_path: Path, runtime: FunctionRuntime) -> None:
    svc = service(tmp_path, runtime)
    for n in range(7):
        create(svc, f"fn-{n}")
    seen: list[str] = []
    marker = None
    pages = 0
    while True:
        params: dict[str, Any] = {"MaxItems": 3}
        if marker:
            params["Marker"] = marker
        page = svc.list_functions(params)
        pages += 1
        seen += [f["FunctionName"] for f in page["Functions"]]
        marker = page.get("NextMarker")
        if marker is None:
            break
    assert seen == [f"fn-{n}" for n in range(7)]
    assert pages == 3
    assert len(svc.list_functions({"MaxItems": 1000})["Functions"]) == 7
    assert error(svc.list_functions, {"Marker": "%%%"}).code == "InvalidParameterValueException"
