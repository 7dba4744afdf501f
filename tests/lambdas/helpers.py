"""Deployment packages for the Lambda tests."""

from __future__ import annotations

import io
import stat
import zipfile

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
