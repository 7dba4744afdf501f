"""LambdaService without HTTP: the dispatcher's Python API, storage and declared functions."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from logsieve.config import DeclaredFunction
from logsieve.errors import ServiceError
from logsieve.lambdas import DirectoryFunctionStore, LambdaService

from .helpers import ECHO, ROLE, FakeRuntime, make_zip

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:/app:*"


def service(
    root: Path, runtime: FakeRuntime | None = None, declared: tuple[DeclaredFunction, ...] = ()
) -> LambdaService:
    return LambdaService(
        DirectoryFunctionStore(root / "lambda"),
        runtime or FakeRuntime(),
        "us-east-1",
        "123456789012",
        declared,
    )


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


def test_resolve(tmp_path: Path) -> None:
    svc = service(tmp_path)
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


def test_allows_logs_follows_the_policy(tmp_path: Path) -> None:
    svc = service(tmp_path)
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


def test_invoke_goes_to_the_runtime(tmp_path: Path) -> None:
    runtime = FakeRuntime(reply=b'{"x": 1}')
    svc = service(tmp_path, runtime)
    create(svc)
    spec = svc.resolve(ARN + "f")
    assert spec is not None
    result = svc.invoke(spec, b'{"awslogs": {"data": "H4sI"}}')
    assert result.payload == b'{"x": 1}'
    assert runtime.calls == [(spec, b'{"awslogs": {"data": "H4sI"}}', False)]


def test_invoke_operation_types(tmp_path: Path) -> None:
    runtime = FakeRuntime(error="Unhandled")
    svc = service(tmp_path, runtime)
    create(svc)
    out = svc.invoke_operation({"FunctionName": "f", "LogType": "Tail", "Payload": b"[1]"})
    assert out["StatusCode"] == 200
    assert out["FunctionError"] == "Unhandled"
    assert out["ExecutedVersion"] == "$LATEST"
    assert base64.b64decode(out["LogResult"]).startswith(b"START RequestId: r1")
    assert runtime.calls[-1][1:] == (b"[1]", True)
    assert svc.invoke_operation({"FunctionName": "f"}) is not None
    assert runtime.calls[-1][1] == b"{}"  # no payload: an empty JSON object
    assert svc.invoke_operation({"FunctionName": "f", "InvocationType": "DryRun"}) == {
        "StatusCode": 204
    }
    runtime.invoked.clear()
    calls = len(runtime.calls)
    assert svc.invoke_operation({"FunctionName": "f", "InvocationType": "Event"}) == {
        "StatusCode": 202
    }
    assert runtime.invoked.wait(10)
    assert len(runtime.calls) == calls + 1
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
    svc.close()


def test_runtime_failure_is_a_service_exception(tmp_path: Path) -> None:
    class Broken(FakeRuntime):
        def invoke(self, spec: Any, event: bytes, tail: bool = False) -> Any:
            raise RuntimeError("worker could not start")

    svc = service(tmp_path, Broken())
    create(svc)
    failure = error(svc.invoke_operation, {"FunctionName": "f"})
    assert (failure.code, failure.status) == ("ServiceException", 500)
    assert "worker could not start" in failure.message


def test_persistence_across_instances(tmp_path: Path) -> None:
    svc = service(tmp_path)
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

    again = service(tmp_path)
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


def test_updates_retire_workers_and_keep_the_previous_code(tmp_path: Path) -> None:
    runtime = FakeRuntime()
    svc = service(tmp_path, runtime)
    create(svc)
    before = svc.resolve(ARN + "f")
    assert before is not None
    svc.update_function_code({"FunctionName": "f", "ZipFile": make_zip({"app.py": "v2"})})
    after = svc.resolve(ARN + "f")
    assert after is not None and after.revision != before.revision
    assert runtime.retired == ["f"]
    assert before.code_dir.is_dir()  # invocations already running keep their files
    svc.update_function_code({"FunctionName": "f", "ZipFile": make_zip({"app.py": "v3"})})
    assert not before.code_dir.exists()
    config = svc.update_function_configuration({"FunctionName": "f", "MemorySize": 512})
    assert config["MemorySize"] == 512
    assert runtime.retired == ["f", "f", "f"]
    revision = svc.resolve(ARN + "f").revision  # type: ignore[union-attr]
    svc.add_permission(
        {"FunctionName": "f", "StatementId": "s", "Action": "lambda:*", "Principal": "*"}
    )
    # A policy change is a new RevisionId but not a new deployment: warm workers stay.
    assert svc.resolve(ARN + "f").revision == revision  # type: ignore[union-attr]
    assert runtime.retired == ["f", "f", "f"]


def test_revision_id_preconditions(tmp_path: Path) -> None:
    svc = service(tmp_path)
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


def test_declared_functions(tmp_path: Path, declared: DeclaredFunction) -> None:
    svc = service(tmp_path, declared=(declared,))
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


def test_declared_function_hides_a_stored_one(tmp_path: Path, declared: DeclaredFunction) -> None:
    create(service(tmp_path), "local", Description="stored")
    svc = service(tmp_path, declared=(declared,))
    assert svc.get_function_configuration({"FunctionName": "local"})["Description"].startswith(
        "Declared in"
    )
    again = service(tmp_path)  # once undeclared, the stored function is back
    assert again.get_function_configuration({"FunctionName": "local"})["Description"] == "stored"


def test_list_pagination(tmp_path: Path) -> None:
    svc = service(tmp_path)
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
