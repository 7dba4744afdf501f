"""Durable storage of Lambda functions: configuration, policy and unpacked code.

``FunctionStore`` is the interface the service uses, so a scale-out backend (shared object
storage, a database) can replace the directory implementation here. ``DirectoryFunctionStore``
keeps one directory per function under ``<data_dir>/lambda/functions/<name>/``:

* ``function.json`` -- the record, replaced atomically (temporary file, fsync, rename), so a
  crash leaves the old or the new record, never a torn one;
* ``code/<version>/`` -- each code upload unpacked into a fresh directory (staged elsewhere and
  renamed into place). Workers still running the previous version keep their files until the
  service discards it; versions no record points at are removed on the next start.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import shutil
import tempfile
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..durable import fsync_dir, write_atomic
from .code import unpack

log = logging.getLogger(__name__)

RECORD_FILE = "function.json"

# What a store reports when another node changed a function: its name and new record, or None
# once it is deleted.
FunctionChanged = Callable[[str, "FunctionRecord | None"], None]


@dataclass(frozen=True)
class FunctionRecord:
    """A function created through the API, as stored."""

    name: str
    runtime: str
    role: str
    handler: str
    code_version: str  # the directory its unpacked code is in (see FunctionStore.code_dir)
    code_sha256: str
    code_size: int
    last_modified: str  # as FunctionConfiguration shows it: 2024-01-01T00:00:00.000+0000
    revision_id: str
    description: str = ""
    timeout: int = 3
    memory_size: int = 128
    environment: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    policy: dict[str, Any] | None = None
    architectures: tuple[str, ...] = ("x86_64",)
    # What makes the runtime replace warm workers (see ``deployed``): ``deployment_of`` the
    # record, a digest of what a worker runs, so an unchanged re-put keeps them. Records stored
    # before it was a digest hold a random id (kept until their next change) or "".
    deployment: str = ""

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FunctionRecord:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["architectures"] = tuple(values.get("architectures") or ("x86_64",))
        return cls(**values)

    @property
    def deployed(self) -> str:
        """The deployment its workers run: the stored one, else (a record stored before
        there was one) the digest."""
        return self.deployment or deployment_of(self)


# What a worker's behaviour depends on (its code, how it is started, its limits, whose
# credentials it gets). Not the description, tags, policy or revision id: changing those
# leaves warm workers running.
DEPLOYED_FIELDS = (
    "code_sha256",
    "runtime",
    "handler",
    "timeout",
    "memory_size",
    "environment",
    "architectures",
    "role",
)


def deployment_of(record: FunctionRecord) -> str:
    """A sha256 over exactly what a worker runs: equal for an unchanged re-put of the function
    (so its warm workers stay), different after any change that alters what they would do."""
    runs = {name: getattr(record, name) for name in DEPLOYED_FIELDS}
    document = json.dumps(runs, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


class FunctionStore(Protocol):
    """Where functions live. Calls for one name are serialized by the caller."""

    def load(self) -> list[FunctionRecord]:
        """Every stored function (called once, at start)."""
        ...

    def get(self, name: str) -> FunctionRecord | None:
        """The stored record of ``name`` now (a read through for a name not loaded)."""
        ...

    def watch(self, changed: FunctionChanged) -> None:
        """Report, from now on, the functions other nodes create, change and delete."""
        ...

    def save(self, record: FunctionRecord) -> None:
        """Create or replace the record durably."""
        ...

    def delete(self, name: str) -> None:
        """Remove the function: record, policy and every code version."""
        ...

    def add_code(self, name: str, archive: bytes) -> str:
        """Unpack a deployment package into a new code version; return its id.

        Raises ``ServiceError`` for a package Lambda would refuse (see ``code.unpack``).
        """
        ...

    def code_dir(self, name: str, version: str) -> Path:
        """The directory holding a code version's files (what workers run)."""
        ...

    def discard_code(self, name: str, keep: Collection[str]) -> None:
        """Remove the function's code versions other than ``keep``."""
        ...

    def close(self) -> None: ...


class DirectoryFunctionStore:
    """``FunctionStore`` on the local filesystem (see the module docstring for the layout)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._functions = root / "functions"
        self._scratch = root / "scratch"  # staging and deletion, same filesystem as the code
        self._functions.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self._scratch, ignore_errors=True)  # leftovers of an interrupted run
        self._scratch.mkdir(parents=True, exist_ok=True)

    def _dir(self, name: str) -> Path:
        return self._functions / name

    def load(self) -> list[FunctionRecord]:
        records = []
        for directory in sorted(self._functions.iterdir()):
            path = directory / RECORD_FILE
            try:
                record = FunctionRecord.from_json(json.loads(path.read_text(encoding="utf-8")))
            except FileNotFoundError:  # code staged, record never written: an aborted create
                shutil.rmtree(directory, ignore_errors=True)
                continue
            except (OSError, ValueError, TypeError) as exc:
                log.error("event=lambda_record_unreadable path=%s error=%s", path, exc)
                continue
            records.append(record)
            self.discard_code(record.name, {record.code_version})
        return records

    def get(self, name: str) -> FunctionRecord | None:
        path = self._dir(name) / RECORD_FILE
        try:
            return FunctionRecord.from_json(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None

    def watch(self, changed: FunctionChanged) -> None:
        """Nothing to report: the directory is this process's alone (the data dir lock)."""

    def save(self, record: FunctionRecord) -> None:
        directory = self._dir(record.name)
        directory.mkdir(parents=True, exist_ok=True)
        write_atomic(directory / RECORD_FILE, json.dumps(record.to_json(), indent=2) + "\n")

    def delete(self, name: str) -> None:
        directory = self._dir(name)
        if not directory.exists():
            return
        # Renamed away first (atomic), so a crash mid-removal cannot leave half a function.
        doomed = self._scratch / f"deleted-{name}-{uuid.uuid4().hex}"
        directory.rename(doomed)
        fsync_dir(self._functions)
        shutil.rmtree(doomed, ignore_errors=True)

    def add_code(self, name: str, archive: bytes, version: str | None = None) -> str:
        """(``version``: the id to unpack under, for a cache of another store's version.)"""
        version = version or uuid.uuid4().hex
        staging = Path(tempfile.mkdtemp(prefix="code-", dir=self._scratch))
        try:
            unpack(archive, staging)
            home = self._dir(name) / "code"
            home.mkdir(parents=True, exist_ok=True)
            staging.chmod(0o755)
            staging.rename(home / version)
            fsync_dir(home)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return version

    def code_dir(self, name: str, version: str) -> Path:
        return self._dir(name) / "code" / version

    def discard_code(self, name: str, keep: Collection[str]) -> None:
        home = self._dir(name) / "code"
        if not home.is_dir():
            return
        for version in home.iterdir():
            if version.name not in keep:
                shutil.rmtree(version, ignore_errors=True)

    def close(self) -> None:
        """Nothing to release."""
