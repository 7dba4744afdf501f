"""All-or-nothing file replacement shared by the stores of positions, records, keys and objects."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from logsieve import durable
from logsieve.durable import write_atomic


def test_write_atomic_replaces_text_and_bytes(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    write_atomic(path, "first ☃")
    assert path.read_text(encoding="utf-8") == "first ☃"
    write_atomic(path, b"\x00second")
    assert path.read_bytes() == b"\x00second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_write_atomic_is_owner_only_unless_told(tmp_path: Path) -> None:
    secret, public = tmp_path / "key.pem", tmp_path / "cert.pem"
    write_atomic(secret, "k")
    write_atomic(public, "c", mode=0o644)
    assert secret.stat().st_mode & 0o777 == 0o600
    assert public.stat().st_mode & 0o777 == 0o644


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "record.json"
    write_atomic(path, "old")

    def no_space(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError, match="No space"):
        write_atomic(path, "new")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["record.json"]


def test_fsync_dir_tolerates_a_directory_it_cannot_open(tmp_path: Path) -> None:
    durable.fsync_dir(tmp_path / "missing")  # no error: the rename itself already happened
