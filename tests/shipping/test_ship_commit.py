"""The ordering that makes ``ship`` at-least-once, checked deterministically (no server):
the position is saved only after the batch holding those lines was accepted."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from logsieve.shipping.batching import Batch
from logsieve.shipping.errors import Interrupted
from logsieve.shipping.follow import Position
from logsieve.shipping.sender import Rejected, SendResult
from logsieve.shipping.ship import ship_file
from logsieve.shipping.state import PositionStore


class Crash(Exception):
    pass


class FakeSender:
    """Accepts batches into ``sent``; raises Crash on the call numbered ``crash_on``."""

    def __init__(self, crash_on: int | None = None, reject_first: int = 0) -> None:
        self.sent: list[str] = []
        self.calls = 0
        self.crash_on = crash_on
        self.reject_first = reject_first

    def send(self, group: str, batch: Batch) -> SendResult:
        self.calls += 1
        if self.calls == self.crash_on:
            raise Crash
        messages = [e["message"] for e in batch.events]
        refused = min(self.reject_first, len(messages))
        self.reject_first -= refused
        self.sent.extend(messages[refused:])
        return SendResult(len(messages) - refused, Rejected(too_old=refused))


def store_for(tmp_path: Path, file: Path) -> PositionStore:
    return PositionStore(tmp_path / "state.json", file=file, group="g", stream="s")


def ship(file: Path, sender: FakeSender, store: PositionStore, **kwargs):
    return ship_file(file, sender=sender, group="g", stream="s", store=store, once=True,
                     rotate_grace=0.0, **kwargs)  # type: ignore[arg-type]  # fmt: skip


def test_position_is_saved_only_after_the_batch_was_accepted(tmp_path: Path) -> None:
    file = tmp_path / "app.log"
    file.write_text("".join(f"{i}\n" for i in range(25_000)))  # 3 batches of <= 10,000
    store = store_for(tmp_path, file)
    crashing = FakeSender(crash_on=2)
    with pytest.raises(Crash):
        ship(file, crashing, store)
    saved = store.load()
    assert saved is not None
    # Exactly the first batch is committed: its last line is "9999".
    assert saved.offset == sum(len(f"{i}\n") for i in range(10_000))
    assert crashing.sent == [str(i) for i in range(10_000)]

    again = FakeSender()
    stats = ship(file, again, store)
    assert again.sent == [str(i) for i in range(10_000, 25_000)]  # resumes, no line lost
    assert stats.position == Position(saved.device, saved.inode, file.stat().st_size)


def test_clean_stop_commits_what_it_sent(tmp_path: Path) -> None:
    file = tmp_path / "app.log"
    file.write_text("a\n\nb\n")
    store = store_for(tmp_path, file)
    stop = threading.Event()
    stop.set()  # stop at once: what was read is still sent and committed
    sender = FakeSender()
    stats = ship_file(file, sender=sender, group="g", stream="s", store=store, stop=stop)  # type: ignore[arg-type]
    assert sender.sent == ["a", "b"] and stats.empty == 1
    assert store.load() == stats.position and stats.position.offset == 5


def test_interrupted_send_commits_nothing(tmp_path: Path) -> None:
    file = tmp_path / "app.log"
    file.write_text("a\nb\n")
    store = store_for(tmp_path, file)

    class Down(FakeSender):
        def send(self, group: str, batch: Batch) -> SendResult:
            raise Interrupted("stopped while waiting to retry")

    stats = ship(file, Down(), store)
    assert stats.interrupted
    saved = store.load()
    assert saved is not None and saved.offset == 0  # only the starting point


def test_refused_lines_are_counted_and_passed(tmp_path: Path) -> None:
    file = tmp_path / "app.log"
    file.write_text("old\nnew\n")
    store = store_for(tmp_path, file)
    seen: list[SendResult] = []
    stats = ship(file, FakeSender(reject_first=1), store,
                 on_sent=lambda batch, result, stats: seen.append(result))  # fmt: skip
    assert stats.rejected.too_old == 1 and stats.events == 1
    assert seen[0].rejected.total == 1
    assert store.load() == stats.position  # refused lines cannot succeed later: moved past
