"""``logsieve subscriptions`` tells what is wrong now, not what once went wrong.

A subscription whose handler failed and then caught up is OK (the old error is shown as
recovered); one whose function does not exist says so, in the status and in the server log,
while the API keeps AWS's own (permission) wording.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import botocore.exceptions
import pytest

from logsieve.destinations.lambda_function import NOT_INVOKABLE
from tests.cli.serving import UserServer, user_env
from tests.server import ACCESS_KEY, SECRET_KEY, Server, client, free_port
from tests.waiting import wait_for

from .harness import ACCOUNT, function_arn, put, start

ROLE = f"arn:aws:iam::{ACCOUNT}:role/logs-to-kinesis"


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"LOGSIEVE_ACCESS_KEY_ID": ACCESS_KEY, "LOGSIEVE_SECRET_ACCESS_KEY": SECRET_KEY,
           "LOGSIEVE_CONFIG": "", "PATH": "/usr/bin:/bin"}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "logsieve", "subscriptions", *args, "--endpoint-url", url],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip


def _mine(url: str, group: str) -> dict:
    found = json.loads(_cli(url, "--json").stdout)["subscriptions"]
    return next(s for s in found if s["logGroupName"] == group)


def _row(url: str, group: str) -> str:
    table = _cli(url).stdout
    return "\n".join(line for line in table.splitlines() if group in line)


def test_a_subscription_that_caught_up_is_ok_with_its_old_error_recovered(
    tmp_path: Path,
) -> None:
    setup = start(tmp_path)
    url, group = setup.server.url, "/flaky/then/fine"
    try:
        logs = setup.logs()
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s")
        logs.put_subscription_filter(logGroupName=group, filterName="all", filterPattern="",
                                     destinationArn=function_arn())  # fmt: skip
        setup.fail_flag.touch()
        put(logs, group, "s", ["one", "two"])
        failing = wait_for(lambda: (s := _mine(url, group))["failedAttempts"] >= 2 and s)
        assert failing["health"] == "ERROR" and "told to fail" in failing["error"]
        assert "ERROR" in _row(url, group) and "told to fail" in _row(url, group)

        setup.fail_flag.unlink()
        caught_up = wait_for(
            lambda: (s := _mine(url, group))["state"] == "idle" and s["lagEvents"] == 0 and s,
            what="idle and caught up",
        )
        assert caught_up["deliveredEvents"] == 2
        assert caught_up["health"] == "OK" and caught_up["error"] is None
        assert "told to fail" in caught_up["lastError"]  # history is kept, marked recovered
        row = _row(url, group)
        assert " OK " in f"{row} " and "ERROR" not in row, row
        table = _cli(url).stdout
        assert "(recovered)" in table and "last error at " in table, table
    finally:
        setup.server.stop()


def test_a_dead_lettered_then_idle_subscription_is_ok(tmp_path: Path) -> None:
    setup = start(tmp_path, delivery="retry_window_seconds = 0.5")
    url, group = setup.server.url, "/doomed/then/idle"
    try:
        logs = setup.logs()
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s")
        logs.put_subscription_filter(logGroupName=group, filterName="all", filterPattern="",
                                     destinationArn=function_arn())  # fmt: skip
        setup.fail_flag.touch()
        put(logs, group, "s", ["lost for now"])
        idle = wait_for(
            lambda: (s := _mine(url, group))["deadLetteredEvents"] == 1
            and s["state"] == "idle" and s,
            what="dead-lettered and idle",
        )  # fmt: skip
        assert idle["health"] == "OK" and idle["lagEvents"] == 0, idle
        assert "ERROR" not in _row(url, group)
    finally:
        setup.server.stop()


def _zip(code: str) -> bytes:
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("app.py", code)
    return bundle.getvalue()


@pytest.fixture
def logged_server(tmp_path: Path, request: pytest.FixtureRequest):
    """A server whose log (stderr) the test reads; an indirect parameter is its config file."""
    port = free_port()
    args = ["serve", "--port", str(port), "--data-dir", str(tmp_path / "data")]
    if getattr(request, "param", None):
        (tmp_path / "logsieve.toml").write_text(request.param)
        args += ["--config", str(tmp_path / "logsieve.toml")]
    server = UserServer(
        args,
        user_env(tmp_path / "home", {"LOGSIEVE_ACCESS_KEY_ID": ACCESS_KEY,
                                     "LOGSIEVE_SECRET_ACCESS_KEY": SECRET_KEY}),
        tmp_path,
    ).start()  # fmt: skip
    try:
        server.wait_listening()
        yield server, Server(tmp_path / "data", port=port)
    finally:
        server.stop()


def test_missing_function_keeps_aws_wording_but_says_the_cause(logged_server) -> None:
    running, handle = logged_server
    logs, lambdas = client(handle), client(handle, "lambda")
    group = "/to/a/missing/function"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="",
                                     destinationArn=function_arn("nosuch"))  # fmt: skip
    assert refused.value.response["Error"]["Message"] == NOT_INVOKABLE  # AWS's words
    wait_for(lambda: "function nosuch does not exist" in running.output, what="log line")

    # A function that existed when subscribed, then was deleted.
    lambdas.create_function(
        FunctionName="gone", Runtime="python3.11", Handler="app.handler",
        Role=f"arn:aws:iam::{ACCOUNT}:role/lambda", Code={"ZipFile": _zip(
            "def handler(event, context):\n    return 1\n")},
    )  # fmt: skip
    lambdas.add_permission(
        FunctionName="gone", StatementId="logs", Action="lambda:InvokeFunction",
        Principal="logs.amazonaws.com",
        SourceArn=f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}:*",
    )  # fmt: skip
    logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="",
                                 destinationArn=function_arn("gone"))  # fmt: skip
    lambdas.delete_function(FunctionName="gone")
    put(logs, group, "s", ["nobody to receive this"])
    mine = wait_for(lambda: (s := _mine(handle.url, group))["deadLetteredEvents"] and s)
    assert mine["health"] == "ERROR" and mine["error"] == "function gone does not exist", mine
    assert "function gone does not exist" in _cli(handle.url).stdout


def test_missing_kinesis_stream_is_named_as_the_cause(logged_server) -> None:
    running, handle = logged_server
    logs, kinesis = client(handle), client(handle, "kinesis")
    group = "/to/a/missing/stream"
    logs.create_log_group(logGroupName=group)
    arn = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/"
    with pytest.raises(botocore.exceptions.ClientError):
        logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="",
                                     destinationArn=arn + "nosuch", roleArn=ROLE)  # fmt: skip
    wait_for(lambda: "Kinesis stream nosuch does not exist" in running.output, what="log line")
    kinesis.create_stream(StreamName="short-lived", ShardCount=1)
    logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="",
                                 destinationArn=arn + "short-lived", roleArn=ROLE)  # fmt: skip
    kinesis.delete_stream(StreamName="short-lived")
    mine = _mine(handle.url, group)
    assert mine["health"] == "ERROR", mine
    assert mine["error"] == "Kinesis stream short-lived does not exist", mine


def test_revoked_permission_stops_deliveries_and_is_named(logged_server) -> None:
    """As on AWS, CloudWatch Logs cannot invoke a function once its permission is removed: the
    payload is dead-lettered (redrivable) and the status names the missing permission."""
    _, handle = logged_server
    logs, lambdas = client(handle), client(handle, "lambda")
    group = "/permission/revoked"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    lambdas.create_function(
        FunctionName="guarded", Runtime="python3.11", Handler="app.handler",
        Role=f"arn:aws:iam::{ACCOUNT}:role/lambda",
        Code={"ZipFile": _zip("def handler(event, context):\n    return 1\n")},
    )  # fmt: skip
    lambdas.add_permission(
        FunctionName="guarded", StatementId="logs", Action="lambda:InvokeFunction",
        Principal="logs.amazonaws.com",
        SourceArn=f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}:*",
    )  # fmt: skip
    logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="",
                                 destinationArn=function_arn("guarded"))  # fmt: skip
    put(logs, group, "s", ["allowed"])
    wait_for(lambda: _mine(handle.url, group)["deliveredEvents"] == 1, what="first delivery")
    lambdas.remove_permission(FunctionName="guarded", StatementId="logs")
    put(logs, group, "s", ["no longer allowed"])
    mine = wait_for(lambda: (s := _mine(handle.url, group))["deadLetteredEvents"] == 1 and s)
    assert mine["deliveredEvents"] == 1 and mine["health"] == "ERROR", mine
    assert mine["error"].startswith("function guarded does not allow logs.amazonaws.com"), mine


FAILS_ON_STREAM_BAD = """
import base64, gzip, json, time


def handler(event, context):
    payload = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    if payload["logStream"] == "bad":
        raise RuntimeError("bad stream")
    time.sleep(1.5)  # the good stream succeeds after the bad one has failed, between retries
    return len(payload["logEvents"])
"""


# Both streams' events must fall in one window: a 20 ms linger closed it between the two
# PutLogEvents calls on a busy machine, and a pump still starting read the first put alone;
# either way the good stream then waited behind the bad one.
@pytest.mark.parametrize("logged_server", ["[delivery]\nlinger_seconds = 2\n"], indirect=True)
def test_one_stream_failing_keeps_the_subscription_in_error_while_others_deliver(
    logged_server,
) -> None:
    """Streams are delivered in parallel: another stream's success must not hide the one
    still retrying (default backoff, so its retries are seconds apart)."""
    _, handle = logged_server
    logs, lambdas = client(handle), client(handle, "lambda")
    group = "/one/bad/stream"
    logs.create_log_group(logGroupName=group)
    for stream in ("bad", "good"):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    lambdas.create_function(
        FunctionName="picky", Runtime="python3.11", Handler="app.handler",
        Role=f"arn:aws:iam::{ACCOUNT}:role/lambda", Code={"ZipFile": _zip(FAILS_ON_STREAM_BAD)},
    )  # fmt: skip
    lambdas.add_permission(
        FunctionName="picky", StatementId="logs", Action="lambda:InvokeFunction",
        Principal="logs.amazonaws.com",
        SourceArn=f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}:*",
    )  # fmt: skip
    logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="",
                                 destinationArn=function_arn("picky"))  # fmt: skip
    # The pump's first read takes no linger: once it is idle, the next window lingers 2 s.
    wait_for(lambda: _mine(handle.url, group)["state"] == "idle", what="an idle pump")
    put(logs, group, "bad", ["fails"])  # both in one window: delivered in parallel
    put(logs, group, "good", ["works"])
    mine = wait_for(lambda: (s := _mine(handle.url, group))["deliveredEvents"] == 1 and s)
    assert mine["health"] == "ERROR" and "bad stream" in mine["error"], mine
    assert mine["state"] == "retrying", mine
