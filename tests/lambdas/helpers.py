"""Deployment packages and a stand-in runtime for the Lambda tests."""

from __future__ import annotations

import io
import stat
import threading
import zipfile

from logsieve.lambdas import FunctionSpec, InvokeResult

ROLE = "arn:aws:iam::123456789012:role/lambda-test"
ECHO = """\
import os


def handler(event, context):
    print("got", event)
    return {"event": event, "name": context.function_name, "greeting": os.environ.get("GREETING")}
"""


def make_zip(files: dict[str, str | bytes], links: dict[str, str] | None = None) -> bytes:
    """A .zip with ``files`` (name -> content) and symlink entries (name -> target)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, content in files.items():
            bundle.writestr(name, content)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            bundle.writestr(info, target)
    return buffer.getvalue()


class FakeRuntime:
    """Records what the service asks of the runtime; answers every invocation with ``reply``."""

    def __init__(self, reply: bytes = b'{"ok": true}', error: str | None = None) -> None:
        self.reply = reply
        self.error = error
        self.calls: list[tuple[FunctionSpec, bytes, bool]] = []
        self.retired: list[str] = []
        self.invoked = threading.Event()

    def invoke(self, spec: FunctionSpec, event: bytes, tail: bool = False) -> InvokeResult:
        self.calls.append((spec, event, tail))
        self.invoked.set()
        log_tail = "START RequestId: r1\nline\nEND RequestId: r1\n" if tail else ""
        return InvokeResult("r1", self.reply, self.error, log_tail)

    def retire(self, name: str) -> None:
        self.retired.append(name)
