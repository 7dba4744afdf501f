"""Copy Lambda functions from one ``FunctionStore`` to another (``logsieve storage copy``):
record (configuration, tags, resource policy, CodeSha256/CodeSize as uploaded) and code.

The directory store keeps only the unpacked code, so each function's code directory is zipped
again (file modes and in-package symlinks kept) and added to the target as a new code version;
``Invoke`` then runs the same files. The record keeps the original upload's CodeSha256 and
CodeSize; only its internal code version id changes. A function already on the target is left
as it is (a re-run copies nothing again).
"""

from __future__ import annotations

import dataclasses
import io
import os
import stat
import zipfile
from pathlib import Path

from logsieve.storage.copying import CopyReport
from logsieve.storage.copying.report import Say

from .store import FunctionStore

__all__ = ["copy_functions", "pack"]


def pack(directory: Path) -> bytes:
    """A deployment package holding ``directory``'s files, modes and symlinks."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(directory.rglob("*")):
            name = path.relative_to(directory).as_posix()
            if path.is_symlink():
                entry = zipfile.ZipInfo(name)
                entry.external_attr = (stat.S_IFLNK | 0o777) << 16
                bundle.writestr(entry, os.readlink(path))
            elif path.is_dir():
                bundle.write(path, name + "/")
            else:
                bundle.write(path, name)
    return buffer.getvalue()


def copy_functions(
    source: FunctionStore, target: FunctionStore, report: CopyReport, say: Say
) -> None:
    for record in source.load():
        new = target.get(record.name) is None
        if new:
            archive = pack(source.code_dir(record.name, record.code_version))
            version = target.add_code(record.name, archive)
            target.save(dataclasses.replace(record, code_version=version))
            target.discard_code(record.name, {version})  # an interrupted run's upload
        report.add("Lambda functions", new)
    say(f"Lambda: {report.copied.get('Lambda functions', 0)} functions copied")
