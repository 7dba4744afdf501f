"""``FunctionStore`` shared by every node of a JetStream deployment, and the choice of store.

Records and code packages live on the cluster (``storage/jetstream/functions.py``); each node
unpacks a code version into its own cache (a ``DirectoryFunctionStore`` under
``<data_dir>/lambda/``) the first time it is asked for that version's directory (when the
catalogue first meets the version: at start, from the watch, or reading a name through), and
keeps it until the function moves on (versions no record names go at the next start).
Changes other nodes make arrive through the bucket's watch (the service applies them); a name
this node does not know yet is read through from the cluster.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from logsieve.errors import ServiceError

from .store import DirectoryFunctionStore, FunctionChanged, FunctionRecord, FunctionStore

if TYPE_CHECKING:
    from logsieve.storage.jetstream.functions import JetStreamFunctionRecords
    from logsieve.storage.jetstream.options import JetStreamOptions

__all__ = ["JetStreamFunctionStore", "open_function_store"]


def open_function_store(
    root: Path, engine: str = "sqlite", jetstream: JetStreamOptions | None = None
) -> FunctionStore:
    """The function store for ``[storage] engine``: the data directory's own on SQLite, the
    cluster's (with ``root`` as this node's code cache) on JetStream."""
    if engine != "jetstream":
        return DirectoryFunctionStore(root)
    from logsieve.storage.jetstream.functions import JetStreamFunctionRecords
    from logsieve.storage.jetstream.options import JetStreamOptions

    return JetStreamFunctionStore(
        JetStreamFunctionRecords(jetstream or JetStreamOptions()), DirectoryFunctionStore(root)
    )


class JetStreamFunctionStore:
    """Records on the cluster, code unpacked on demand into this node's ``cache``."""

    def __init__(self, records: JetStreamFunctionRecords, cache: DirectoryFunctionStore) -> None:
        self.records = records
        self.cache = cache
        self._fetching = threading.Lock()  # one download at a time; a version unpacks once

    def load(self) -> list[FunctionRecord]:
        found = [FunctionRecord.from_json(r) for r in self.records.all().values()]
        versions = {r.name: r.code_version for r in found}
        for directory in self.cache.root.joinpath("functions").iterdir():
            if directory.name in versions:
                self.cache.discard_code(directory.name, {versions[directory.name]})
            else:  # deleted while this node was down
                self.cache.delete(directory.name)
        return found

    def get(self, name: str) -> FunctionRecord | None:
        record = self.records.get(name)
        return None if record is None else FunctionRecord.from_json(record)

    def watch(self, changed: FunctionChanged) -> None:
        def decoded(name: str, record: dict[str, Any] | None) -> None:
            changed(name, None if record is None else FunctionRecord.from_json(record))
            if record is None:  # deleted elsewhere: this node's copy of its code goes too
                self.cache.delete(name)

        self.records.watch(decoded)

    def save(self, record: FunctionRecord) -> None:
        self.records.put(record.name, record.to_json())

    def delete(self, name: str) -> None:
        self.records.delete(name)
        self.cache.delete(name)

    def add_code(self, name: str, archive: bytes) -> str:
        version = self.cache.add_code(name, archive)  # unpacking checks the package first
        self.records.put_code(name, version, archive)
        return version

    def code_dir(self, name: str, version: str) -> Path:
        directory = self.cache.code_dir(name, version)
        if directory.is_dir():
            return directory
        with self._fetching:
            if not directory.is_dir():
                archive = self.records.get_code(name, version)
                if archive is None:
                    raise ServiceError(
                        "ResourceNotFoundException", f"Function not found: {name}", 404
                    )
                self.cache.add_code(name, archive, version)
        return directory

    def discard_code(self, name: str, keep: Collection[str]) -> None:
        self.cache.discard_code(name, keep)
        self.records.discard_code(name, keep)

    def close(self) -> None:
        self.records.close()
