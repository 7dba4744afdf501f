"""What a function's worker may not do: outlive its invocation, exceed its memory, leave its own
directories, read what the sandbox protects."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from logsieve.lambdas.runtime import FunctionRuntime
from tests.lambdas.runtime_helpers import BASE_ENV, call, gone, payload
from tests.waiting import wait_for

# Forks a child that starts a new session and forks again: the grandchild is in no process
# group of the worker's and its parent is gone. It writes a file after a while.
DOUBLE_FORK = """
import os, time
def handler(event, context):
    r, w = os.pipe()
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.write(w, str(os.getpid()).encode())
            os.close(w)
            time.sleep(event["later"])
            open(event["marker"], "w").write("still alive")
            os._exit(0)
        os._exit(0)
    os.close(w)
    grandchild = int(os.read(r, 64))
    time.sleep(event.get("linger", 0))
    return grandchild
"""


def test_double_forked_grandchild_dies_at_the_timeout(runtime, make_function, tmp_path):
    marker = tmp_path / "written-later"
    spec = make_function(DOUBLE_FORK, timeout=1.0)
    found: list[int] = []

    def grandchildren() -> list[int]:
        return [
            int(p.name)
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and _environ_has(p, f"AWS_LAMBDA_FUNCTION_NAME={spec.name}")
        ]

    result = call(runtime, spec, {"later": 3, "marker": str(marker), "linger": 30})
    assert result.function_error == "Unhandled"
    assert "Task timed out" in payload(result)["errorMessage"]
    found = grandchildren()
    assert found == [], f"processes of the function still running: {found}"
    assert not marker.exists()


def test_double_forked_grandchild_dies_when_the_worker_retires(runtime, make_function, tmp_path):
    marker = tmp_path / "written-later"
    spec = make_function(DOUBLE_FORK, timeout=10.0)
    grandchild = payload(call(runtime, spec, {"later": 2, "marker": str(marker)}))
    assert not gone(grandchild)
    runtime.retire(spec.name)
    assert wait_for(lambda: gone(grandchild), timeout=5)
    assert not marker.exists()


def _environ_has(proc: Path, item: str) -> bool:
    try:
        return item.encode() in (proc / "environ").read_bytes().split(b"\0")
    except OSError:
        return False


def test_memory_size_is_enforced(runtime, make_function):
    spec = make_function(
        """
        def handler(event, context):
            hog = bytearray(event["mb"] << 20)
            for i in range(0, len(hog), 4096):
                hog[i] = 1
            return len(hog) >> 20
        """,
        memory_mb=128,
        timeout=30.0,
    )
    assert payload(call(runtime, spec, {"mb": 16})) == 16
    result = call(runtime, spec, {"mb": 400})
    assert result.function_error == "Unhandled"
    assert payload(result) == {
        "errorType": "Runtime.OutOfMemory",
        "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited with error: "
        "signal: killed",
    }
    assert payload(call(runtime, spec, {"mb": 16})) == 16  # a fresh worker


def test_memory_of_forked_children_counts(runtime, make_function):
    spec = make_function(
        """
        import os, time
        def handler(event, context):
            if os.fork() == 0:
                hog = bytearray(300 << 20)
                for i in range(0, len(hog), 4096):
                    hog[i] = 1
                time.sleep(30)
                os._exit(0)
            time.sleep(20)
            return "not killed"
        """,
        memory_mb=128,
        timeout=30.0,
    )
    result = call(runtime, spec)
    assert payload(result)["errorType"] == "Runtime.OutOfMemory"


def test_each_worker_has_its_own_writable_directory(runtime, make_function):
    code = """
        import os, tempfile
        def handler(event, context):
            scratch = tempfile.gettempdir()
            with open(os.path.join(scratch, "mine"), "w") as out:
                out.write("x")
            return {"tmp": scratch, "home": os.environ["HOME"], "cwd": os.getcwd(),
                    "task": os.environ["LAMBDA_TASK_ROOT"], "uid": os.getuid()}
        """
    first, second = make_function(code), make_function(code)
    one, two = payload(call(runtime, first)), payload(call(runtime, second))
    assert one["tmp"] == one["home"] != two["tmp"]
    assert one["cwd"] == one["task"]
    root = Path(tempfile.gettempdir()) / f"logsieve-fn-{os.geteuid()}" / str(os.getpid())
    assert Path(one["tmp"]).is_relative_to(root / first.name)
    assert Path(one["tmp"], "mine").exists()
    runtime.retire(first.name)
    assert wait_for(lambda: not Path(one["tmp"]).exists(), timeout=5)  # removed with the worker
    if os.geteuid() == 0 and runtime_uses_own_users(runtime):
        assert one["uid"] != 0 and two["uid"] != 0 and one["uid"] != two["uid"]


def runtime_uses_own_users(runtime: FunctionRuntime) -> bool:
    return getattr(runtime, "_sandbox", None) is not None and runtime._sandbox.own_users


@pytest.fixture(params=["mount namespace", "Landlock rules only"])
def guarded(request, sink, tmp_path):
    """A runtime whose sandbox protects a directory, as the server protects its data dir:
    hidden in a mount namespace, or (a kernel without user namespaces) by Landlock alone."""
    from logsieve.lambdas.sandbox import Sandbox

    secret_dir = tmp_path / "data"
    secret_dir.mkdir()
    (secret_dir / "logsieve.db").write_text("private")
    secret_dir.chmod(0o700)
    sandbox = Sandbox(protected=[secret_dir])
    if request.param == "Landlock rules only":
        sandbox.can_hide = False
    elif not sandbox.can_hide:
        sandbox.close()
        pytest.skip("no mount namespaces for this user here")
    if not (sandbox.own_users or sandbox.landlock_abi):
        sandbox.close()
        pytest.skip("neither root nor Landlock: no filesystem isolation here (documented)")
    rt = FunctionRuntime(dict(BASE_ENV), sink, sandbox=sandbox)
    yield rt, secret_dir
    rt.close()


def test_function_cannot_read_or_write_the_protected_directory(guarded, make_function):
    rt, secret_dir = guarded
    spec = make_function(
        """
        import os
        def attempt(action):
            try:
                return action()
            except OSError as exc:
                return type(exc).__name__
        def read(path):
            with open(path) as source:
                return source.read()
        def write(path):
            with open(path, "w") as sink:
                sink.write("planted")
            return "written"
        def handler(event, context):
            data = event["data"]
            return {
                "list": attempt(lambda: os.listdir(data)),
                "read": attempt(lambda: read(os.path.join(data, "logsieve.db"))),
                "overwrite": attempt(lambda: write(os.path.join(data, "logsieve.db"))),
                "plant": attempt(lambda: write(os.path.join(data, "planted"))),
                "next_to_it": attempt(lambda: write(event["next_to_it"])),
            }
        """
    )
    next_to_it = secret_dir.parent / "output.txt"
    seen = payload(call(rt, spec, {"data": str(secret_dir), "next_to_it": str(next_to_it)}))
    # Hidden (an empty, read-only directory) or refused, depending on what the kernel allows.
    assert seen["list"] in ([], "PermissionError"), seen
    assert seen["read"] in ("FileNotFoundError", "PermissionError"), seen
    assert seen["overwrite"] != "written" and seen["plant"] != "written", seen
    assert (secret_dir / "logsieve.db").read_text() == "private"
    assert not (secret_dir / "planted").exists()
    sandbox = rt._sandbox
    if sandbox.can_hide:  # the operator's other files stay usable (declared functions need it)
        assert seen["next_to_it"] == "written" and next_to_it.read_text() == "planted"


def test_own_users_give_each_function_a_uid_of_its_own(sink, make_function, tmp_path):
    from logsieve.lambdas.sandbox import Sandbox

    secret_dir = tmp_path / "data"
    secret_dir.mkdir(mode=0o700)
    (secret_dir / "logsieve.db").write_text("private")
    sandbox = Sandbox(protected=[secret_dir], own_users=True)
    if not sandbox.own_users:
        sandbox.close()
        pytest.skip("own users need root, mount namespaces and an interpreter others can reach")
    rt = FunctionRuntime(dict(BASE_ENV), sink, sandbox=sandbox)
    code = """
        import os
        def handler(event, context):
            try:
                open(os.path.join(event["data"], "logsieve.db")).read()
                data = "read"
            except OSError as exc:
                data = type(exc).__name__
            try:
                os.listdir(event["original"])
                original = "listed"
            except OSError as exc:
                original = type(exc).__name__
            return {"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(),
                    "data": data, "original": original, "task": os.getcwd()}
        """
    try:
        first, second = make_function(code), make_function(code)
        one = payload(call(rt, first, {"data": str(secret_dir), "original": str(first.code_dir)}))
        two = payload(call(rt, second, {"data": str(secret_dir), "original": str(tmp_path)}))
    finally:
        rt.close()
    assert one["uid"] >= 1_700_000_000 and one["gid"] == one["uid"] and one["groups"] == []
    assert two["uid"] != one["uid"]
    assert one["data"] in ("FileNotFoundError", "PermissionError")
    assert one["original"] == "PermissionError"  # it runs a private copy of its code
    assert one["task"] != str(first.code_dir)
