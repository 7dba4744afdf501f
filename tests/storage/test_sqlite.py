"""What only the SQLite engine does: its write-ahead log starts over under sustained appends."""

from __future__ import annotations

from pathlib import Path

import pytest

from logsieve.storage import SqliteStore
from logsieve.storage import checkpoint as checkpoint_module

from .test_contract_event_log import put


def _wal_generation(wal: Path) -> bytes:
    """The WAL header's checkpoint sequence number: SQLite bumps it each time the WAL restarts."""
    with wal.open("rb") as f:
        return f.read(16)[12:16]


def test_wal_starts_over_under_sustained_appends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Appends that never pause still let the WAL start over: without the checkpoint under the
    write lock it never restarts and grows by everything written. Counting restarts rather than
    bounding the file size keeps the test independent of how fast this machine writes."""
    monkeypatch.setattr(checkpoint_module, "WAL_RESTART_BYTES", 1 << 20)
    monkeypatch.setattr(checkpoint_module, "EVERY_S", 0.05)
    store = SqliteStore(tmp_path / "db.sqlite")
    try:
        g = store.create_group("/g", 0, None, "STANDARD")
        s = store.create_stream(g.id, "s", 0)
        wal = tmp_path / "db.sqlite-wal"
        message = "x" * 2000
        generations = set()
        batches = 0
        while len(generations) < 3:  # the first generation and two restarts
            assert batches < 1000, "200 MB appended back to back and the WAL never restarted"
            put(store, g.id, s.id, [(batches, message)] * 100, batches)
            batches += 1
            generations.add(_wal_generation(wal))
        assert sum(1 for _ in store.read_after(0, 10_000_000)) == batches * 100
    finally:
        store.close()
