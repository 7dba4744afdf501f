"""``ship``: follow a file and send its lines, committing the position only after a 200.

The order of operations is the whole guarantee. Lines are read (complete ones only), batched,
sent; the position after the last line of a batch is saved only once PutLogEvents for that
batch has returned 200. So:

* a crash (SIGKILL, power loss) between the 200 and the save resends that batch on restart --
  at least once, never lost;
* a clean stop (SIGTERM, Ctrl-C) sends what is batched, saves, and exits -- a restart continues
  exactly after the last line sent, no duplicates.

Batches go out one at a time, in file order, so a saved position never skips a batch that is
still in flight. Events the server refuses (too old or too new) are reported through
``on_sent`` and the position moves past them: sending them again would fail the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .batching import Batch, Batcher
from .errors import Interrupted
from .follow import Follower, Position
from .sender import Rejected, Sender, SendResult
from .state import PositionStore
from .timestamps import Stamper

__all__ = ["ShipStats", "ship_file"]


@dataclass
class ShipStats:
    lines: int = 0  # complete lines read (including empty ones)
    events: int = 0  # accepted by the server
    batches: int = 0
    empty: int = 0  # empty lines: a log event needs at least one character
    truncated: int = 0  # lines cut to the largest event CloudWatch takes
    rejected: Rejected = field(default_factory=Rejected)
    position: Position | None = None  # last committed
    interrupted: bool = False  # stopped while the server was unreachable: batch not sent


def ship_file(
    path: Path,
    *,
    sender: Sender,
    group: str,
    stream: str,
    store: PositionStore | None = None,
    stamper: Stamper | None = None,
    stop: threading.Event | None = None,
    once: bool = False,
    from_end: bool = False,
    poll_interval: float = 0.25,
    flush_interval: float = 0.2,
    rotate_grace: float = 1.0,
    on_notice: Callable[[str], None] | None = None,
    on_sent: Callable[[Batch, SendResult, ShipStats], None] | None = None,
) -> ShipStats:
    """Ship ``path`` into ``group`` / ``stream`` until ``stop`` is set (or, with ``once``, until
    the file has nothing more right now). Returns the totals of this run."""
    stop = stop or threading.Event()
    stamper = stamper or Stamper("now")
    stats = ShipStats()
    start = store.load() if store is not None else None
    stats.position = start
    follower = Follower(
        path, start, from_end=from_end, rotate_grace=rotate_grace, on_notice=on_notice
    )
    batcher = Batcher(flush_interval=flush_interval)

    def commit(position: Position | None) -> None:
        if position is None or position == stats.position:
            return
        if store is not None:
            store.save(position)
        stats.position = position

    def send(batch: Batch) -> None:
        result = sender.send(group, batch)
        stats.events += result.accepted
        stats.batches += 1
        if result.rejected:
            stats.rejected = stats.rejected + result.rejected
        commit(batch.mark)
        if on_sent is not None:
            on_sent(batch, result, stats)

    last: Position | None = None
    try:
        if start is None:
            commit(follower.position)  # with --from-end: resume here, not at a later end
        while True:
            lines = follower.read()
            for line in lines:
                stats.lines += 1
                last = line.position
                if not line.text:
                    stats.empty += 1
                    continue
                for batch in batcher.add(stream, stamper(line.text), line.text, line.position):
                    send(batch)
            for batch in batcher.due():
                send(batch)
            if not batcher:
                commit(last)  # lines that needed no event (empty ones) move the position too
            if stop.is_set():
                break
            if not lines:
                if once and follower.idle:
                    break
                wait = poll_interval
                if batcher:
                    wait = max(0.0, min(wait, batcher.deadline - batcher.clock()))
                stop.wait(wait)
        for batch in batcher.drain():
            send(batch)
        commit(last)
    except Interrupted:
        stats.interrupted = True
    finally:
        stats.truncated = batcher.truncated
        follower.close()
    return stats
