"""Lambda functions are the deployment's, not a node's: a function created, changed or deleted
through one node is what every other node invokes (3 NATS nodes, 3 logsieve nodes, boto3)."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

from botocore.exceptions import ClientError

from tests.cluster_api.harness import ApiCluster
from tests.lambdas.helpers import ROLE, make_zip
from tests.waiting import wait_for

SAYS = """\
import os


def handler(event, context):
    print("ran", {word!r}, event, __file__)
    return {{"says": {word!r}, "greeting": os.environ.get("GREETING")}}
"""


def _name() -> str:
    return f"shared-{uuid.uuid4().hex[:8]}"


def _package(word: str) -> bytes:
    return make_zip({"app.py": SAYS.format(word=word)})


def _create(lam: Any, name: str, word: str) -> str:
    return lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": _package(word)},
    )["FunctionArn"]  # fmt: skip


def _invoke(lam: Any, name: str) -> dict[str, Any]:
    answer = lam.invoke(FunctionName=name, Payload=b'{"n": 1}')
    assert "FunctionError" not in answer, answer["Payload"].read()
    return json.loads(answer["Payload"].read())


def _error(call: Any, **params: Any) -> str | None:
    try:
        call(**params)
    except ClientError as exc:
        return exc.response["Error"]["Code"]
    return None


def test_a_function_created_on_one_node_is_invoked_on_the_others_at_once(
    deployment: ApiCluster,
) -> None:
    name = _name()
    _create(deployment.client(0, "lambda"), name, "hello")
    # No wait: a name a node does not know yet is read through from the cluster.
    assert _invoke(deployment.client(1, "lambda"), name)["says"] == "hello"
    three = deployment.client(2, "lambda")
    assert three.get_function(FunctionName=name)["Configuration"]["Handler"] == "app.handler"
    assert _error(three.create_function, FunctionName=name, Runtime="python3.12", Role=ROLE,
                  Handler="app.handler", Code={"ZipFile": _package("again")},
                  ) == "ResourceConflictException"  # fmt: skip
    listed = wait_for(
        lambda: name in [f["FunctionName"] for f in three.list_functions()["Functions"]],
        what="node 3 to list the function node 1 created",
    )
    assert listed


def test_code_configuration_and_policy_changed_on_one_node_are_used_on_another(
    deployment: ApiCluster,
) -> None:
    name = _name()
    one, two = deployment.client(0, "lambda"), deployment.client(1, "lambda")
    _create(one, name, "first")
    assert _invoke(one, name)["says"] == "first"  # a warm worker on node 1, with the old code

    two.update_function_code(FunctionName=name, ZipFile=_package("second"))
    started = time.monotonic()
    wait_for(lambda: _invoke(one, name)["says"] == "second", what="node 1 to run node 2's code")
    print(f"node 1 ran the new code {time.monotonic() - started:.3f} s after the update")

    revision = two.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"GREETING": "hi"}}
    )["RevisionId"]
    started = time.monotonic()
    wait_for(
        lambda: one.get_function(FunctionName=name)["Configuration"]["RevisionId"] == revision,
        what="node 1 to show node 2's configuration",
    )
    print(f"node 1 showed the new configuration {time.monotonic() - started:.3f} s later")
    wait_for(lambda: _invoke(one, name)["greeting"] == "hi", what="node 1 to see node 2's env")

    two.add_permission(
        FunctionName=name, StatementId="cwl", Action="lambda:InvokeFunction",
        Principal="logs.amazonaws.com",
    )  # fmt: skip
    policy = wait_for(
        lambda: (
            _error(one.get_policy, FunctionName=name) is None
            and json.loads(one.get_policy(FunctionName=name)["Policy"])
        ),
        what="node 1 to see the policy node 2 added",
    )
    assert [s["Sid"] for s in policy["Statement"]] == ["cwl"]
    revision = two.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    wait_for(
        lambda: one.get_function(FunctionName=name)["Configuration"]["RevisionId"] == revision,
        what="node 1 to show node 2's revision",
    )


WARM = """\
import uuid

WORKER = uuid.uuid4().hex  # drawn once per worker process


def handler(event, context):
    return {"worker": WORKER}
"""


def test_a_change_on_one_node_that_alters_nothing_workers_run_keeps_anothers_warm_workers(
    deployment: ApiCluster,
) -> None:
    name = _name()
    one, two = deployment.client(0, "lambda"), deployment.client(1, "lambda")
    code = make_zip({"app.py": WARM})
    one.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE,
                        Handler="app.handler", Code={"ZipFile": code})  # fmt: skip
    worker = _invoke(one, name)["worker"]

    two.update_function_code(FunctionName=name, ZipFile=code)
    revision = two.update_function_configuration(FunctionName=name, Description="same code")[
        "RevisionId"
    ]
    wait_for(
        lambda: one.get_function(FunctionName=name)["Configuration"]["RevisionId"] == revision,
        what="node 1 to show node 2's revision",
    )
    assert _invoke(one, name)["worker"] == worker

    two.update_function_configuration(FunctionName=name, MemorySize=256)
    wait_for(lambda: _invoke(one, name)["worker"] != worker, what="a new worker on node 1")


def test_a_function_deleted_on_one_node_is_gone_on_the_others(deployment: ApiCluster) -> None:
    name = _name()
    one, two = deployment.client(0, "lambda"), deployment.client(1, "lambda")
    _create(one, name, "doomed")
    assert _invoke(two, name)["says"] == "doomed"  # node 2 knows it (and has its code)

    one.delete_function(FunctionName=name)
    wait_for(
        lambda: _error(two.invoke, FunctionName=name) == "ResourceNotFoundException",
        what="node 2 to forget the function node 1 deleted",
    )
    assert _error(two.get_function, FunctionName=name) == "ResourceNotFoundException"
    _create(two, name, "reborn")  # the name is free again, everywhere
    wait_for(lambda: _invoke(one, name)["says"] == "reborn", what="node 1 to run the new one")


def test_a_subscription_worked_by_another_node_delivers_to_the_function(
    deployment: ApiCluster,
) -> None:
    name = _name()
    group = f"/shared/{name}"
    lam = deployment.client(0, "lambda")
    arn = _create(lam, name, "v1")
    lam.add_permission(
        FunctionName=name, StatementId="cwl", Action="lambda:InvokeFunction",
        Principal="logs.amazonaws.com",
    )  # fmt: skip
    logs = deployment.client(0)
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    logs.put_subscription_filter(
        logGroupName=group, filterName="f", filterPattern="", destinationArn=arn
    )

    def send(message: str) -> None:
        logs.put_log_events(
            logGroupName=group, logStreamName="s",
            logEvents=[{"timestamp": int(time.time() * 1000), "message": message}],
        )  # fmt: skip

    def runs() -> list[tuple[str, int]]:
        """(code version, node) of each run so far, from the function's own log group."""
        try:
            found = deployment.client(2).filter_log_events(
                logGroupName=f"/aws/lambda/{name}", filterPattern='"ran"'
            )
        except ClientError:
            return []  # the function's log group is made by its first run
        return [
            (match[1], int(match[2]) - 1)
            for event in found["events"]
            if (match := _RUN.search(event["message"]))
        ]

    send("first")
    (version, worker), *_ = wait_for(runs, what="the subscription's delivery to run v1")
    assert version == "v1"
    # The code is changed through a node that is not the worker, so the worker delivers to a
    # version it never saw written, whichever node works the subscription.
    other = (worker + 1) % len(deployment.nodes)
    deployment.client(other, "lambda").update_function_code(
        FunctionName=name, ZipFile=_package("v2")
    )
    new_sha = lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"]
    on_worker = deployment.client(worker, "lambda")
    wait_for(
        lambda: on_worker.get_function(FunctionName=name)["Configuration"]["CodeSha256"] == new_sha,
        what="the worker to know the new code",
    )
    send("second")
    wait_for(lambda: ("v2", worker) in runs(), what=f"node {worker + 1} to deliver to v2")


# SAYS prints its own file's path, which is in the data directory of the node that ran it.
_RUN = re.compile(r"ran (v\d) .*logsieve(\d+)/data")
