"""A function declared in logsieve.toml runs the code on disk now, not the code at start-up."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.server import ACCESS_KEY, SECRET_KEY, Server, client
from tests.subscriptions.harness import RECORDING_HANDLER, function_arn, put, start
from tests.waiting import wait_for as wait_until

VERSION = "def handler(event, context):\n    return {version!r}\n"


def invoke(lam, name: str) -> object:
    response = lam.invoke(FunctionName=name, Payload=b"{}")
    return json.loads(response["Payload"].read())


def test_editing_a_declared_handler_takes_effect_without_a_restart(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    handler = code / "app.py"
    handler.write_text(VERSION.format(version="v1"))
    config = tmp_path / "logsieve.toml"
    config.write_text('[[functions]]\nname = "live"\nhandler = "app.handler"\ncode_dir = "code"\n')
    server = Server(tmp_path / "data", config=config).start()
    try:
        lam = client(server, "lambda")
        assert invoke(lam, "live") == "v1"
        before = lam.get_function(FunctionName="live")["Configuration"]
        handler.write_text(VERSION.format(version="v2, edited"))
        # Looked at once a second at most: within a few seconds every invocation has v2.
        deadline = time.monotonic() + 15
        while (seen := invoke(lam, "live")) != "v2, edited" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert seen == "v2, edited"
        after = lam.get_function(FunctionName="live")["Configuration"]
        assert after["CodeSha256"] != before["CodeSha256"]
        assert after["RevisionId"] != before["RevisionId"]
        # A new module alongside (a helper the handler now imports) is picked up too.
        (code / "helper.py").write_text("WORD = 'from the helper'\n")
        handler.write_text(
            "from helper import WORD\ndef handler(event, context):\n    return WORD\n"
        )
        deadline = time.monotonic() + 15
        while (seen := invoke(lam, "live")) != "from the helper" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert seen == "from the helper"
    finally:
        server.stop()


def cli(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"LOGSIEVE_ACCESS_KEY_ID": ACCESS_KEY, "LOGSIEVE_SECRET_ACCESS_KEY": SECRET_KEY,
           "LOGSIEVE_CONFIG": "", "PATH": "/usr/bin:/bin"}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "logsieve", *args, "--endpoint-url", server.url],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_dead_letters_redrive_runs_the_fixed_handler(tmp_path: Path) -> None:
    setup = start(tmp_path, delivery="retry_window_seconds = 1")
    source = tmp_path / "recorder" / "recorder.py"
    try:
        # A bug in the handler on disk (not a flag): every delivery fails, then dead-letters.
        source.write_text(RECORDING_HANDLER.replace("def handler(event, context):",
                                                    "def handler(event, context):\n"
                                                    "    raise RuntimeError('a bug')"))  # fmt: skip
        logs = setup.logs()
        logs.create_log_group(logGroupName="/app")
        logs.create_log_stream(logGroupName="/app", logStreamName="s")
        logs.put_subscription_filter(logGroupName="/app", filterName="sub", filterPattern="",
                                     destinationArn=function_arn())  # fmt: skip
        put(logs, "/app", "s", ["first", "second"])
        wait_until(lambda: "pending" in cli(setup.server, "dead-letters", "list").stdout,
                   what="a dead letter")  # fmt: skip
        source.write_text(RECORDING_HANDLER)  # the fix, saved in the editor
        deadline = time.monotonic() + 15
        while True:  # the reload is noticed within about a second
            done = cli(setup.server, "dead-letters", "redrive", "--all")
            if done.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert done.returncode == 0, done.stderr
        assert setup.received_messages() == ["first", "second"]
    finally:
        setup.server.stop()
