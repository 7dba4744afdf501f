"""Following a file by position: complete lines only, rotation, truncation, resuming."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from logsieve.shipping.errors import ShippingError
from logsieve.shipping.follow import Follower, Position
from logsieve.shipping.state import PositionStore, default_state_path


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def texts(follower: Follower) -> list[str]:
    return [line.text for line in follower.read()]


def test_only_complete_lines(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"one\ntwo\r\nthr")
    follower = Follower(path)
    assert texts(follower) == ["one", "two"]
    assert follower.position == Position(*_identity(path), 9)
    with path.open("ab") as f:
        f.write(b"ee\n\nfour")
    assert texts(follower) == ["three", ""]
    assert texts(follower) == []


def test_positions_are_byte_offsets_after_each_line(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes("é\nab\n".encode())
    lines = Follower(path).read()
    assert [(line.text, line.position.offset) for line in lines] == [("é", 3), ("ab", 6)]


def test_resume_from_a_position(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"a\nb\nc\n")
    first = Follower(path).read()
    follower = Follower(path, first[1].position)
    assert texts(follower) == ["c"]


def test_from_end_skips_what_is_there(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"old\n")
    follower = Follower(path, from_end=True)
    assert texts(follower) == []
    with path.open("ab") as f:
        f.write(b"new\n")
    assert texts(follower) == ["new"]


def test_waits_for_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "later.log"
    notices: list[str] = []
    follower = Follower(path, on_notice=notices.append)
    assert texts(follower) == [] and follower.position is None
    path.write_bytes(b"hello\n")
    assert texts(follower) == ["hello"]
    assert any("appeared" in n for n in notices)


def test_truncation_restarts_at_zero(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"line one\nline two\n")
    follower = Follower(path)
    assert texts(follower) == ["line one", "line two"]
    with path.open("r+b") as f:  # copytruncate
        f.truncate(0)
    with path.open("ab") as f:
        f.write(b"fresh\n")
    assert texts(follower) == ["fresh"]


def test_rotation_finishes_the_old_file_first(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    clock = Clock()
    path.write_bytes(b"1\n2\n")
    follower = Follower(path, rotate_grace=1.0, clock=clock)
    assert texts(follower) == ["1", "2"]
    with path.open("ab") as f:
        f.write(b"3\nunterminated")
    path.rename(tmp_path / "app.log.1")
    path.write_bytes(b"new-1\n")
    assert texts(follower) == ["3"]  # the old file, then a grace period for late writes
    with (tmp_path / "app.log.1").open("ab") as f:
        f.write(b" but finished\n4\n")
    assert texts(follower) == ["unterminated but finished", "4"]
    assert texts(follower) == []
    clock.now += 1.5
    assert texts(follower) == ["new-1"]
    assert follower.position == Position(*_identity(path), 6)


def test_restart_after_rotation_finds_the_old_file_by_inode(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"a\nb\n")
    saved = Follower(path).read()[0].position  # stopped after "a"
    path.rename(tmp_path / "app.log.1")
    path.write_bytes(b"c\n")
    follower = Follower(path, saved, rotate_grace=0.0)
    assert texts(follower) == ["b", "c"]


def test_restart_when_the_old_file_is_gone(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"a\nb\n")
    saved = Follower(path).read()[0].position
    path.unlink()
    path.write_bytes(b"c\n")
    notices: list[str] = []
    follower = Follower(path, saved, on_notice=notices.append)
    assert texts(follower) == ["c"]
    assert notices


def test_runaway_line_is_split(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"x" * 25 + b"\n")
    follower = Follower(path, max_line_bytes=10)
    lines = follower.read()
    assert [line.text for line in lines] == ["x" * 10, "x" * 10, "x" * 5]
    assert [line.position.offset for line in lines] == [10, 20, 26]


def test_state_round_trip_and_lock(tmp_path: Path) -> None:
    file = tmp_path / "app.log"
    path = default_state_path(tmp_path / "data", file, "g", "s")
    assert path.parent == tmp_path / "data" / "ship" and path.name.startswith("app.log-")
    store = PositionStore(path, file=file, group="g", stream="s")
    assert store.load() is None
    store.lock()
    other = PositionStore(path, file=file, group="g", stream="s")
    with pytest.raises(ShippingError, match="already shipping"):
        other.lock()
    store.save(Position(1, 2, 3))
    assert store.load() == Position(1, 2, 3)
    store.unlock()
    other.lock()
    other.unlock()
    with pytest.raises(ShippingError, match="--state"):
        PositionStore(path, file=file, group="other", stream="s").load()
    path.write_text("{not json")
    with pytest.raises(ShippingError, match="damaged"):
        store.load()


def _identity(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino
