"""The ``FunctionStore`` contract on every engine (``open_function_store``), and what only the
JetStream one promises: a second node reads, unpacks and hears about the first one's functions."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from logsieve.errors import ServiceError
from logsieve.lambdas.store import FunctionRecord, FunctionStore
from logsieve.lambdas.store_jetstream import open_function_store
from logsieve.storage.jetstream.options import JetStreamOptions
from tests.jetstream.cluster import drop_namespace, options
from tests.lambdas.helpers import make_zip
from tests.waiting import wait_for


@pytest.fixture
def settings(engine: str, request: pytest.FixtureRequest) -> Iterator[JetStreamOptions | None]:
    if engine != "jetstream":
        yield None
        return
    found = options(request.getfixturevalue("nats_cluster"))
    yield found
    drop_namespace(found)


def _open(engine: str, root: Path, settings: JetStreamOptions | None) -> FunctionStore:
    return open_function_store(root, engine, settings)


def _record(name: str, version: str, revision: str = "r1") -> FunctionRecord:
    return FunctionRecord(
        name=name, runtime="python3.12", role="arn:aws:iam::123456789012:role/r",
        handler="app.handler", code_version=version, code_sha256="x", code_size=1,
        last_modified="2024-01-01T00:00:00.000+0000", revision_id=revision,
    )  # fmt: skip


def test_a_saved_function_is_read_back_with_its_code_and_deleted(
    engine: str, settings: JetStreamOptions | None, tmp_path: Path
) -> None:
    store = _open(engine, tmp_path / "node1", settings)
    try:
        version = store.add_code("fn", make_zip({"app.py": "X = 1\n"}))
        store.save(_record("fn", version))
        assert store.get("fn") == _record("fn", version)
        assert [r.name for r in store.load()] == ["fn"]
        assert (store.code_dir("fn", version) / "app.py").read_text() == "X = 1\n"
        with pytest.raises(ServiceError):
            store.add_code("fn", b"not a zip")
        store.delete("fn")
        assert store.get("fn") is None
        assert store.load() == []
    finally:
        store.close()


def test_another_node_unpacks_the_code_and_hears_of_changes(
    engine: str, settings: JetStreamOptions | None, tmp_path: Path
) -> None:
    if engine != "jetstream":
        pytest.skip("one process owns a data directory on SQLite: there is no other node")
    one = _open(engine, tmp_path / "node1", settings)
    two = _open(engine, tmp_path / "node2", settings)
    heard: list[tuple[str, FunctionRecord | None]] = []
    lock = threading.Lock()

    def changed(name: str, record: FunctionRecord | None) -> None:
        with lock:
            heard.append((name, record))

    try:
        two.watch(changed)
        version = one.add_code("fn", make_zip({"app.py": "X = 2\n"}))
        one.save(_record("fn", version))
        assert (two.code_dir("fn", version) / "app.py").read_text() == "X = 2\n"
        updated = dataclasses.replace(_record("fn", version), revision_id="r2")
        one.save(updated)
        wait_for(lambda: ("fn", updated) in heard, what="node 2 to hear of the update")
        one.discard_code("fn", ())
        three = _open(engine, tmp_path / "node3", settings)
        try:
            with pytest.raises(ServiceError):  # gone from the cluster, not cached on node 3
                three.code_dir("fn", version)
        finally:
            three.close()
        one.delete("fn")
        wait_for(lambda: heard[-1] == ("fn", None), what="node 2 to hear of the deletion")
        assert not (tmp_path / "node2" / "functions" / "fn").exists()
    finally:
        one.close()
        two.close()
