"""lambdas/copying.py: a function stored in a data directory arrives in each engine's function
store with its record (policy, tags, CodeSha256 as uploaded) and the same files (modes and
in-package symlinks kept), once."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from logsieve.lambdas.copying import copy_functions
from logsieve.lambdas.store import DirectoryFunctionStore, FunctionRecord
from logsieve.lambdas.store_jetstream import open_function_store
from logsieve.storage.copying import CopyReport
from logsieve.storage.factory import Stores
from tests.lambdas.helpers import ECHO, make_zip


def _files(directory: Path) -> dict[str, tuple[str, int | str]]:
    """Each entry: its kind and content (mode bits for files, the pointee for links)."""
    found: dict[str, tuple[str, int | str]] = {}
    for path in directory.rglob("*"):
        name = path.relative_to(directory).as_posix()
        if path.is_symlink():
            found[name] = ("link", str(path.readlink()))
        elif path.is_file():
            found[name] = (path.read_text(), path.stat().st_mode & 0o777)
    return found


def test_a_function_arrives_with_its_record_and_files_once(tmp_path: Path, stores: Stores) -> None:
    source = DirectoryFunctionStore(tmp_path / "source" / "lambda")
    archive = make_zip({"app.py": ECHO, "lib/data.txt": "x" * 100}, links={"current": "lib"})
    version = source.add_code("echo", archive)
    (source.code_dir("echo", version) / "app.py").chmod(0o755)
    record = FunctionRecord(
        "echo", "python3.12", "arn:aws:iam::1:role/r", "app.handler", version, "c2hh",
        len(archive), "2026-01-01T00:00:00.000+0000", "rev-1",
        environment={"GREETING": "hi"}, tags={"team": "web"},
        policy={"Version": "2012-10-17", "Statement": [{"Sid": "s"}]},
    )  # fmt: skip
    source.save(record)
    target = open_function_store(tmp_path / "target-cache", stores.engine, stores.jetstream)
    try:
        first, again = CopyReport(), CopyReport()
        copy_functions(source, target, first, lambda line: None)
        copy_functions(source, target, again, lambda line: None)
        assert first.copied == {"Lambda functions": 1}
        assert (again.copied, again.present) == ({}, {"Lambda functions": 1})
        copied = target.get("echo")
        assert copied is not None
        assert dataclasses.replace(copied, code_version=version) == record
        assert _files(target.code_dir("echo", copied.code_version)) == _files(
            source.code_dir("echo", version)
        )
    finally:
        target.close()
