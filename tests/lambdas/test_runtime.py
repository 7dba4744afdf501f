"""FunctionRuntime end to end: real handler code, real worker processes running awslambdaric."""

from __future__ import annotations

import os
import re
import textwrap
import threading
import time

import pytest

from logsieve.formats.awslogs import LogEvent, data_message, encode_lambda_event
from logsieve.lambdas.logcapture import MAX_EVENT_BYTES, TAIL_BYTES
from logsieve.lambdas.runtime import FunctionRuntime, RuntimeClosedError
from logsieve.lambdas.spec import FunctionSpec, InvokeResult
from tests.lambdas.runtime_helpers import (
    BASE_ENV,
    REPORT,
    STREAM,
    WAIT,
    call,
    gone,
    our_children,
    payload,
)
from tests.waiting import wait_for

ECHO = """
    import os
    def handler(event, context):
        return {"event": event, "pid": os.getpid()}
"""


def test_returns_the_handlers_value(runtime, make_function):
    spec = make_function(ECHO)
    result = call(runtime, spec, {"a": [1, 2, "three"], "b": None})
    assert result.ok and result.function_error is None
    assert payload(result)["event"] == {"a": [1, 2, "three"], "b": None}
    assert re.fullmatch(r"[0-9a-f-]{36}", result.request_id)
    assert result.log_tail == ""


def test_warm_worker_is_reused(runtime, make_function):
    spec = make_function(ECHO)
    pids = {payload(call(runtime, spec, {"n": n}))["pid"] for n in range(5)}
    assert len(pids) == 1
    assert runtime.workers(spec.name) == list(pids)


def test_context_object(runtime, make_function, sink):
    spec = make_function(
        """
        import time
        def handler(event, context):
            first = context.get_remaining_time_in_millis()
            time.sleep(0.05)
            second = context.get_remaining_time_in_millis()
            return {
                "function_name": context.function_name,
                "function_version": context.function_version,
                "aws_request_id": context.aws_request_id,
                "memory_limit_in_mb": context.memory_limit_in_mb,
                "invoked_function_arn": context.invoked_function_arn,
                "log_group_name": context.log_group_name,
                "log_stream_name": context.log_stream_name,
                "remaining": [first, second],
            }
        """,
        memory_mb=256,
        timeout=7.0,
    )
    result = call(runtime, spec)
    context = payload(result)
    assert context["function_name"] == spec.name
    assert context["function_version"] == "$LATEST"
    assert context["aws_request_id"] == result.request_id
    assert context["memory_limit_in_mb"] == "256"  # a string, as in AWS's runtime
    assert context["invoked_function_arn"] == spec.arn
    assert context["log_group_name"] == f"/aws/lambda/{spec.name}"
    assert STREAM.match(context["log_stream_name"])
    assert context["log_stream_name"] in sink.streams(context["log_group_name"])
    first, second = context["remaining"]
    assert 0 < second < first <= 7000
    assert first - second >= 40


def test_environment_seen_by_the_handler(runtime, make_function, monkeypatch):
    monkeypatch.setenv("LOGSIEVE_SERVER_SECRET", "not for functions")
    spec = make_function(
        """
        import os, sys
        def handler(event, context):
            return {"env": dict(os.environ), "cwd": os.getcwd(), "path0": sys.path[0]}
        """,
        environment={"MY_SETTING": "42", "AWS_LAMBDA_FUNCTION_NAME": "spoofed"},
        memory_mb=512,
    )
    seen = payload(call(runtime, spec))
    env = seen["env"]
    code_dir = str(spec.code_dir)
    for key, value in BASE_ENV.items():
        assert env[key] == value
    assert env["MY_SETTING"] == "42"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == spec.name  # reserved: configuration can't override
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{spec.name}"
    assert STREAM.match(env["AWS_LAMBDA_LOG_STREAM_NAME"])
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.11"
    assert env["LAMBDA_TASK_ROOT"] == code_dir
    assert env["_HANDLER"] == "app.handler"
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert re.fullmatch(r"127\.0\.0\.1:\d+", env["AWS_LAMBDA_RUNTIME_API"])
    assert env["_X_AMZN_TRACE_ID"].startswith("Root=1-")
    assert env["PYTHONPATH"].split(os.pathsep)[0] == code_dir
    assert "_LAMBDA_TELEMETRY_LOG_FD" not in env  # awslambdaric takes it out
    assert "LOGSIEVE_SERVER_SECRET" not in env  # the server's own environment is not inherited
    assert seen["cwd"] == code_dir
    assert seen["path0"] == code_dir


def test_bundled_dependencies_come_first(runtime, make_function):
    spec = make_function(
        """
        import idna, vendored
        def handler(event, context):
            return {"idna": idna.__file__, "marker": idna.MARKER, "vendored": vendored.VALUE}
        """,
        files={
            "vendored/__init__.py": "VALUE = 'from the zip'\n",
            # Shadows the copy installed in the server's environment, as a bundled one would.
            "idna/__init__.py": "MARKER = 'bundled'\n",
        },
    )
    seen = payload(call(runtime, spec))
    assert seen["vendored"] == "from the zip"
    assert seen["marker"] == "bundled"
    assert seen["idna"].startswith(str(spec.code_dir))


def test_handler_in_a_package(runtime, make_function):
    spec = make_function(
        "",
        handler="pkg.mod.entry",
        files={"pkg/__init__.py": "", "pkg/mod.py": "def entry(event, context):\n    return 7\n"},
    )
    assert payload(call(runtime, spec)) == 7


def test_raising_handler(runtime, make_function, sink):
    spec = make_function(
        """
        def handler(event, context):
            raise ValueError("bad input: " + event["why"])
        """
    )
    result = call(runtime, spec, {"why": "nope"})
    assert result.function_error == "Unhandled"
    error = payload(result)
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "bad input: nope"
    assert error["requestId"] == result.request_id
    assert any(
        'raise ValueError("bad input: " + event["why"])' in line for line in error["stackTrace"]
    )
    logged = [m for m in sink.messages() if m.startswith("[ERROR] ValueError: bad input: nope")]
    assert len(logged) == 1 and "Traceback (most recent call last):" in logged[0]  # one event
    # The worker survives a handled exception.
    assert call(runtime, spec, {"why": "again"}).function_error == "Unhandled"
    assert len(runtime.workers(spec.name)) == 1


def test_import_error(runtime, make_function, sink):
    spec = make_function("import not_installed_anywhere\n")
    result = call(runtime, spec)
    assert result.function_error == "Unhandled"
    assert payload(result) == {
        "errorMessage": "Unable to import module 'app': No module named 'not_installed_anywhere'",
        "errorType": "Runtime.ImportModuleError",
        "requestId": "",
        "stackTrace": [],
    }
    assert runtime.workers(spec.name) == []  # a failed init leaves no worker behind
    messages = sink.messages()
    assert any(m.startswith("[ERROR] Runtime.ImportModuleError") for m in messages)
    assert f"START RequestId: {result.request_id} Version: $LATEST" in messages
    assert f"END RequestId: {result.request_id}" in messages
    assert call(runtime, spec).function_error == "Unhandled"  # and it fails the same way again


def test_handler_not_found(runtime, make_function):
    spec = make_function(ECHO, handler="app.missing")
    result = call(runtime, spec)
    assert result.function_error == "Unhandled"
    assert payload(result)["errorType"] == "Runtime.HandlerNotFound"
    assert payload(result)["errorMessage"] == "Handler 'missing' missing on module 'app'"


def test_unserializable_return_value(runtime, make_function):
    spec = make_function(
        """
        def handler(event, context):
            return {"when": object()} if event.get("bad") else "fine"
        """
    )
    result = call(runtime, spec, {"bad": True})
    assert result.function_error == "Unhandled"
    assert payload(result)["errorType"] == "Runtime.MarshalError"
    assert payload(call(runtime, spec)) == "fine"


def test_response_too_large(runtime, make_function):
    spec = make_function("def handler(event, context):\n    return 'x' * 7_000_000\n")
    result = call(runtime, spec)
    assert result.function_error == "Unhandled"
    assert payload(result) == {
        "errorMessage": "Response payload size exceeded maximum allowed payload size "
        "(6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }


SLEEPY = """
    import os, time
    def handler(event, context):
        print("going to sleep", flush=True)
        time.sleep(event.get("sleep", 0))
        return {"pid": os.getpid()}
"""


def test_timeout_kills_the_worker_and_the_next_invocation_gets_a_fresh_one(
    runtime, make_function, sink
):
    spec = make_function(SLEEPY, timeout=1.0)
    first = payload(call(runtime, spec))["pid"]
    started = time.monotonic()
    result = call(runtime, spec, {"sleep": 600})
    assert time.monotonic() - started < WAIT
    assert result.function_error == "Unhandled"
    message = payload(result)["errorMessage"]
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "
        + re.escape(result.request_id)
        + r" Task timed out after 1\.00 seconds",
        message,
    )
    assert list(payload(result)) == ["errorMessage"]
    assert result.duration_ms >= 1000
    assert gone(first)
    messages = sink.messages()
    assert message in messages
    report = next(m for m in messages if m.startswith(f"REPORT RequestId: {result.request_id}"))
    assert report.endswith("\tStatus: timeout")
    after = call(runtime, spec)
    assert after.ok and payload(after)["pid"] != first


def test_exit_mid_invocation(runtime, make_function, sink):
    spec = make_function(
        """
        import os
        def handler(event, context):
            if event.get("die"):
                print("last words")
                os._exit(1)
            return os.getpid()
        """
    )
    first = payload(call(runtime, spec))
    result = call(runtime, spec, {"die": True})
    assert result.function_error == "Unhandled"
    assert payload(result) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited with error: "
        "exit status 1",
    }
    assert gone(first)
    assert "last words" in sink.messages()
    second = call(runtime, spec)
    assert second.ok and payload(second) != first


def test_worker_that_died_while_idle_is_replaced_transparently(runtime, make_function):
    spec = make_function(
        """
        import os, threading, time
        def handler(event, context):
            if event.get("die_later"):
                threading.Thread(target=lambda: (time.sleep(0.2), os._exit(3))).start()
            return os.getpid()
        """
    )
    pid = payload(call(runtime, spec, {"die_later": True}))
    assert wait_for(lambda: gone(pid))
    result = call(runtime, spec)
    assert result.ok and payload(result) != pid


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "signal: killed"),
        ("import ctypes\nctypes.string_at(0)", "signal: segmentation fault"),
    ],
)
def test_killed_by_a_signal(runtime, make_function, code, reason):
    body = textwrap.indent(code, "    ")
    spec = make_function(f"def handler(event, context):\n{body}\n")
    result = call(runtime, spec)
    assert payload(result)["errorMessage"].endswith(f"Runtime exited with error: {reason}")


def test_concurrency_cap(runtime, make_function):
    spec = make_function(
        """
        import os, time
        def handler(event, context):
            start = time.time()
            time.sleep(0.3)
            return {"pid": os.getpid(), "start": start, "end": time.time()}
        """,
        max_concurrency=2,
    )
    results: list[InvokeResult] = []
    peak = [0]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], len(runtime.workers(spec.name)))
            time.sleep(0.005)

    def run() -> None:
        results.append(call(runtime, spec))

    watcher = threading.Thread(target=watch)
    watcher.start()
    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    stop.set()
    watcher.join(WAIT)
    assert len(results) == 4 and all(r.ok for r in results)
    seen = [payload(r) for r in results]
    assert len({s["pid"] for s in seen}) <= 2
    assert peak[0] <= 2
    # Never more than two invocations ran at the same moment.
    for s in seen:
        running = [o for o in seen if o["start"] <= s["start"] < o["end"]]
        assert len(running) <= 2


def test_new_revision_replaces_workers(runtime, make_function):
    spec = make_function(
        "import os\ndef handler(event, context):\n    return ['v1', os.getpid()]\n", revision="1"
    )
    version, pid = payload(call(runtime, spec))
    assert version == "v1"
    assert payload(call(runtime, spec))[1] == pid
    (spec.code_dir / "app.py").write_text(
        "import os\ndef handler(event, context):\n    return ['v2', os.getpid()]\n"
    )
    assert payload(call(runtime, spec))[0] == "v1"  # same revision: still the warm worker
    updated = FunctionSpec(**{**spec.__dict__, "revision": "2"})
    version, new_pid = payload(call(runtime, updated))
    assert version == "v2" and new_pid != pid
    assert gone(pid)


def test_retire_stops_warm_workers(runtime, make_function):
    spec = make_function(ECHO)
    pid = payload(call(runtime, spec))["pid"]
    runtime.retire(spec.name)
    assert gone(pid)
    assert runtime.workers(spec.name) == []
    assert payload(call(runtime, spec))["pid"] != pid
    runtime.retire("never-invoked")  # harmless


def test_idle_workers_exit(sink, make_function):
    rt = FunctionRuntime(dict(BASE_ENV), sink, idle_timeout=0.5)
    try:
        spec = make_function(ECHO)
        pid = payload(call(rt, spec))["pid"]
        assert wait_for(lambda: rt.workers(spec.name) == [] and gone(pid))
    finally:
        rt.close()


LOGGING = """
    import logging, sys, os
    logger = logging.getLogger()
    logger.setLevel(logging.INFO)
    print("init output")
    def handler(event, context):
        token = event["token"]
        print(f"stdout {token}")
        print(f"two\\nlines {token}")
        sys.stderr.write(f"stderr {token}\\n")
        os.write(2, f"raw fd {token}\\n".encode())
        logger.info("record %s\\nwith a second line", token)
        print(f"no newline {token}", end="")
        return token
"""


def test_logs_are_framed_and_attributed_to_their_invocation(runtime, make_function, sink):
    spec = make_function(LOGGING, max_concurrency=3)
    results: dict[str, InvokeResult] = {}

    def run(token: str) -> None:
        results[token] = call(runtime, spec, {"token": token})

    threads = [threading.Thread(target=run, args=(f"<tok{i:02d}>",)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert len(results) == 12
    streams = sink.streams(f"/aws/lambda/{spec.name}")
    assert 1 <= len(streams) <= 3 and all(STREAM.match(s) for s in streams)
    by_request = {}
    for stream in streams:
        current = None
        for message in sink.messages(stream):
            if message.startswith("START RequestId: "):
                assert current is None
                current = message.split()[2]
                assert message == f"START RequestId: {current} Version: $LATEST"
                by_request[current] = []
            elif message.startswith("END RequestId: "):
                assert message == f"END RequestId: {current}"
            elif message.startswith("REPORT RequestId: "):
                match = REPORT.match(message)
                assert match and match["id"] == current and match["mem"] == "128"
                current = None
            elif current is not None:
                by_request[current].append(message)
            else:
                assert message == "init output"
    for token, result in results.items():
        lines = by_request[result.request_id]
        assert f"stdout {token}" in lines
        assert "two" in lines and f"lines {token}" in lines  # one event per printed line
        assert f"stderr {token}" in lines and f"raw fd {token}" in lines
        assert f"no newline {token}" in lines
        records = [line for line in lines if line.startswith("[INFO]")]
        assert len(records) == 1  # a logging record stays one event, with its request id
        assert records[0].endswith(f"\t{result.request_id}\trecord {token}\nwith a second line\n")
        others = [t for t in results if t != token]
        assert not any(other in line for line in lines for other in others)


def test_log_tail(runtime, make_function):
    spec = make_function(LOGGING)
    result = call(runtime, spec, {"token": "abc"}, tail=True)
    tail = result.log_tail
    assert tail.startswith("init output\nSTART RequestId: ")
    assert "stdout abc\n" in tail and "record abc\nwith a second line\n" in tail
    assert f"END RequestId: {result.request_id}\nREPORT RequestId: {result.request_id}\t" in tail
    assert tail.endswith("\n")
    assert "init output" not in call(runtime, spec, {"token": "x"}, tail=True).log_tail


def test_tail_is_the_last_4_kb(runtime, make_function):
    spec = make_function(
        "def handler(event, context):\n    for i in range(2000):\n        print('line', i)\n"
    )
    result = call(runtime, spec, tail=True)
    tail = result.log_tail
    assert len(tail.encode()) <= TAIL_BYTES
    assert "line 1999\n" in tail and "line 0\n" not in tail
    assert tail.rstrip("\n").split("\n")[-1].startswith(f"REPORT RequestId: {result.request_id}")


def test_megabytes_of_output(runtime, make_function, sink):
    spec = make_function(
        """
        import sys
        def handler(event, context):
            for i in range(20_000):
                print(f"{i:06d} " + "x" * 250)
            sys.stdout.write("y" * 600_000 + "\\n")  # one line over CloudWatch's event limit
            return "done"
        """
    )
    result = call(runtime, spec)
    assert payload(result) == "done"
    messages = sink.messages()
    numbered = [m for m in messages if m[:6].isdigit()]
    assert len(numbered) == 20_000 and numbered[-1].startswith("019999 ")
    long_pieces = [m for m in messages if m.startswith("y")]
    assert "".join(long_pieces) == "y" * 600_000
    assert all(len(m.encode()) <= MAX_EVENT_BYTES for m in messages)
    assert payload(call(runtime, spec)) == "done"  # and the worker is fine


def test_large_event(runtime, make_function):
    spec = make_function("def handler(event, context):\n    return len(event['blob'])\n")
    assert payload(call(runtime, spec, {"blob": "z" * 3_000_000})) == 3_000_000


def test_handler_that_forks(runtime, make_function, sink):
    spec = make_function(
        """
        import os, time
        def handler(event, context):
            pid = os.fork()
            if pid == 0:
                print("from the child", flush=True)
                while event.get("linger"):  # outlives the invocation, printing all the time
                    os.write(1, b"spam " * 1000 + b"\\n")
                os._exit(0)
            if not event.get("linger"):
                os.waitpid(pid, 0)
            return pid
        """
    )
    assert call(runtime, spec).ok
    assert "from the child" in sink.messages()
    grandchild = payload(call(runtime, spec, {"linger": True}))
    assert not gone(grandchild)
    runtime.close()
    assert wait_for(lambda: gone(grandchild))  # the worker's whole process group is killed


def test_many_concurrent_invocations(runtime, make_function):
    spec = make_function(ECHO, max_concurrency=4)
    results: list[InvokeResult] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        for i in range(10):
            result = call(runtime, spec, {"n": n, "i": i})
            with lock:
                results.append(result)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert len(results) == 160 and all(r.ok for r in results)
    events = sorted((payload(r)["event"]["n"], payload(r)["event"]["i"]) for r in results)
    assert events == [(n, i) for n in range(16) for i in range(10)]
    assert len({payload(r)["pid"] for r in results}) <= 4


def test_close_while_invocations_run(sink, make_function):
    rt = FunctionRuntime(dict(BASE_ENV), sink)
    spec = make_function(SLEEPY, timeout=300.0, max_concurrency=2)
    outcomes: list[object] = []

    def run() -> None:
        try:
            outcomes.append(call(rt, spec, {"sleep": 600}))
        except RuntimeClosedError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]  # the third waits for a worker
    try:
        for thread in threads:
            thread.start()
        # Output of running invocations reaches the sink while they run.
        assert wait_for(lambda: sink.messages().count("going to sleep") == 2)
        pids = rt.workers(spec.name)
        assert len(pids) == 2
    finally:
        rt.close()
    for thread in threads:
        thread.join(WAIT)
    assert len(outcomes) == 3 and all(isinstance(o, RuntimeClosedError) for o in outcomes)
    assert all(gone(pid) for pid in pids)
    assert our_children() == []
    with pytest.raises(RuntimeClosedError):
        call(rt, spec)


def test_close_leaves_no_child_processes(sink, make_function):
    rt = FunctionRuntime(dict(BASE_ENV), sink)
    try:
        specs = [make_function(ECHO) for _ in range(3)]
        pids = [payload(call(rt, spec))["pid"] for spec in specs]
        assert len(our_children()) == 3  # each worker under its supervisor
    finally:
        rt.close()
    assert our_children() == []
    assert all(gone(pid) for pid in pids)
    rt.close()  # idempotent


def test_powertools_cloudwatch_logs_event(runtime, make_function):
    spec = make_function(
        """
        from aws_lambda_powertools.utilities.data_classes import CloudWatchLogsEvent
        def handler(event, context):
            decoded = CloudWatchLogsEvent(event).parse_logs_data()
            return {
                "group": decoded.log_group,
                "stream": decoded.log_stream,
                "filters": decoded.subscription_filters,
                "type": decoded.message_type,
                "events": [[e.get_id, e.timestamp, e.message] for e in decoded.log_events],
            }
        """
    )
    events = [
        LogEvent(
            "36000000000000000000000000000000000000000000000000000000", 1_700_000_000_000, "a"
        ),
        LogEvent(
            "36000000000000000000000000000000000000000000000000000001", 1_700_000_000_001, "b"
        ),
    ]
    envelope = data_message("123456789012", "/app/api", "host-1", ["errors"], events)
    result = call(runtime, spec, encode_lambda_event(envelope))
    assert result.ok, result.payload
    assert payload(result) == {
        "group": "/app/api",
        "stream": "host-1",
        "filters": ["errors"],
        "type": "DATA_MESSAGE",
        "events": [[e.id, e.timestamp, e.message] for e in events],
    }


def test_all_functions_together_run_at_most_max_workers(sink, make_function):
    """At the server-wide cap the least recently used idle worker of another function makes
    room; with every worker busy, an invocation waits for one to come free."""
    rt = FunctionRuntime(dict(BASE_ENV), sink, max_workers=2)
    try:
        sleepy = """
            import os, time
            def handler(event, context):
                time.sleep(event.get("sleep", 0))
                return {"pid": os.getpid(), "end": time.time()}
        """
        one, two, three = (make_function(sleepy) for _ in range(3))
        first = payload(call(rt, one))["pid"]
        call(rt, two)
        call(rt, three)  # one's worker was used longest ago: it makes room
        assert rt.workers(one.name) == [] and wait_for(lambda: gone(first))
        assert len(rt.workers(two.name)) == 1 and len(rt.workers(three.name)) == 1

        results: dict[str, dict] = {}

        def run(spec: FunctionSpec, sleep: float) -> None:
            results[spec.name] = payload(call(rt, spec, {"sleep": sleep}))

        busy = [threading.Thread(target=run, args=(s, 1.0)) for s in (two, three)]
        for thread in busy:
            thread.start()
        time.sleep(0.3)  # both workers busy now
        started = time.time()
        run(one, 0)  # waits for one of them to end, then replaces its idle worker
        assert time.time() - started >= 0.5
        for thread in busy:
            thread.join(WAIT)
        assert results[one.name]["end"] >= min(results[s.name]["end"] for s in (two, three))
        assert sum(len(rt.workers(s.name)) for s in (one, two, three)) <= 2
    finally:
        rt.close()
