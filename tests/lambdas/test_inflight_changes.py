"""Warm workers across updates, against the real server through boto3: an update that changes
nothing a worker runs (same configuration, same package, a new description) keeps the warm
worker; a real change (environment, code, timeout) replaces it; an invocation in flight while
an update lands completes once, in the worker it started in. Functions stored before the
deployment was a digest of what workers run keep working."""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from pathlib import Path
from typing import Any

from logsieve.lambdas.store import FunctionRecord, deployment_of
from tests.server import Server, client
from tests.waiting import wait_for

from .helpers import ROLE, make_zip

# A handler that says which worker ran it (an id drawn once per process, at import) and, asked
# to, marks its start and its end in files, so a test sees an invocation in flight and counts
# how many times it ran.
WHO = """\
import os, time, uuid

WORKER = uuid.uuid4().hex


def handler(event, context):
    if "hold" in event:
        with open(event["started"], "a") as out:
            out.write(context.aws_request_id + "\\n")
        time.sleep(event["hold"])
        with open(event["ran"], "a") as out:
            out.write(context.aws_request_id + "\\n")
    return {"worker": WORKER, "greeting": os.environ.get("GREETING"), "code": VERSION}

"""


def package(version: str) -> bytes:
    return make_zip({"app.py": WHO + f"VERSION = {version!r}\n"})


def create(lam: Any, code: bytes) -> str:
    name = f"warm-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": code}, Timeout=30, Environment={"Variables": {"GREETING": "hi"}},
    )  # fmt: skip
    return name


def run(lam: Any, name: str, event: dict[str, Any] | None = None) -> dict[str, Any]:
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode())
    assert "FunctionError" not in response, response
    return json.loads(response["Payload"].read())


def test_an_update_that_changes_nothing_a_worker_runs_keeps_the_warm_worker(lam: Any) -> None:
    code = package("v1")
    name = create(lam, code)
    worker = run(lam, name)["worker"]
    before = lam.get_function_configuration(FunctionName=name)
    lam.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"GREETING": "hi"}}, Timeout=30
    )
    assert run(lam, name)["worker"] == worker, "an unchanged configuration"
    lam.update_function_configuration(FunctionName=name, Description="only the description")
    assert run(lam, name)["worker"] == worker, "a new description"
    updated = lam.update_function_code(FunctionName=name, ZipFile=code)
    assert run(lam, name)["worker"] == worker, "the same package again"
    lam.add_permission(FunctionName=name, StatementId="logs", Action="lambda:InvokeFunction",
                       Principal="logs.amazonaws.com")  # fmt: skip
    assert run(lam, name)["worker"] == worker, "a new resource policy"
    # Each update is still one: a new RevisionId, the same CodeSha256.
    after = lam.get_function_configuration(FunctionName=name)
    assert after["RevisionId"] not in (before["RevisionId"], updated["RevisionId"])
    assert after["CodeSha256"] == before["CodeSha256"] == updated["CodeSha256"]


def test_a_real_change_replaces_the_warm_worker(lam: Any) -> None:
    name = create(lam, package("v1"))
    first = run(lam, name)
    lam.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"GREETING": "hello"}}
    )
    second = run(lam, name)
    assert second["greeting"] == "hello"
    assert second["worker"] != first["worker"]
    lam.update_function_code(FunctionName=name, ZipFile=package("v2"))
    third = run(lam, name)
    assert third["code"] == "v2"
    assert third["worker"] != second["worker"]
    lam.update_function_configuration(FunctionName=name, Timeout=31)
    assert run(lam, name)["worker"] != third["worker"]


def hold(lam: Any, name: str, files: Path) -> tuple[threading.Thread, list[dict[str, Any]]]:
    """Start an invocation that holds its worker for 2 s; return once the handler runs."""
    event = {"hold": 2, "started": str(files / "started"), "ran": str(files / "ran")}
    outcome: list[dict[str, Any]] = []
    thread = threading.Thread(target=lambda: outcome.append(run(lam, name, event)))
    thread.start()
    wait_for(lambda: (files / "started").exists(), what="the handler to start")
    return thread, outcome


def test_an_invocation_in_flight_while_updates_land_runs_once(lam: Any, tmp_path: Path) -> None:
    name = create(lam, package("v1"))
    warm = run(lam, name)["worker"]
    unchanged = tmp_path / "unchanged"
    unchanged.mkdir()
    thread, outcome = hold(lam, name, unchanged)
    lam.update_function_configuration(FunctionName=name, Description="no-op for workers")
    thread.join(30)
    assert outcome and outcome[0]["worker"] == warm
    assert len((unchanged / "ran").read_text().split()) == 1
    assert run(lam, name)["worker"] == warm, "the worker stays warm after it"

    changed = tmp_path / "changed"
    changed.mkdir()
    thread, outcome = hold(lam, name, changed)
    lam.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"GREETING": "changed"}}
    )
    after = run(lam, name)  # while the held one still runs: a new worker, the new variables
    thread.join(30)
    assert outcome and outcome[0] == {"worker": warm, "greeting": "hi", "code": "v1"}
    started = (changed / "started").read_text().split()
    assert started == (changed / "ran").read_text().split() and len(started) == 1
    assert after["greeting"] == "changed" and after["worker"] != warm


def test_a_function_stored_before_deployments_were_digests_keeps_working(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = Server(data).start()
    try:
        name = create(client(server, "lambda"), package("v1"))
    finally:
        server.stop()
    # As an earlier version stored it: no deployment at all.
    record_file = data / "lambda" / "functions" / name / "function.json"
    record = json.loads(record_file.read_text())
    del record["deployment"]
    record_file.write_text(json.dumps(record))
    server = Server(data, port=server.port).start()
    try:
        lam = client(server, "lambda")
        worker = run(lam, name)["worker"]
        lam.update_function_configuration(FunctionName=name, Timeout=30)
        assert run(lam, name)["worker"] == worker
        lam.update_function_configuration(FunctionName=name, Timeout=20)
        assert run(lam, name)["worker"] != worker
    finally:
        server.stop()


def test_the_deployment_digest_covers_what_workers_run_and_nothing_else() -> None:
    record = FunctionRecord(
        name="f", runtime="python3.12", role=ROLE, handler="app.handler", code_version="v1",
        code_sha256="abc", code_size=10, last_modified="2024-01-01T00:00:00.000+0000",
        revision_id="r1", environment={"A": "1"},
    )  # fmt: skip
    runs = {
        "code_sha256": "def", "runtime": "python3.11", "handler": "app.other", "timeout": 4,
        "memory_size": 256, "environment": {"A": "2"}, "architectures": ("arm64",),
        "role": ROLE + "-2",
    }  # fmt: skip
    for name, value in runs.items():
        changed = dataclasses.replace(record, **{name: value})
        assert deployment_of(changed) != deployment_of(record), name
    for name, value in {
        "description": "d", "tags": {"t": "1"}, "policy": {"Statement": []},
        "revision_id": "r2", "last_modified": "2025-01-01T00:00:00.000+0000",
        "code_version": "v2", "code_size": 11, "deployment": "stored",
    }.items():  # fmt: skip
        changed = dataclasses.replace(record, **{name: value})
        assert deployment_of(changed) == deployment_of(record), name
