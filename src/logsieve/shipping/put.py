"""``put``: send the lines of a file or of standard input to one log stream, then stop.

Input is read on its own thread so a slow pipe (``tail -f app.log | logsieve put ...``) still
gets its batches sent ``flush_interval`` after their first line instead of waiting for a full
batch. Batches are sent one at a time from the calling thread, so events keep the order of the
lines when read back.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .batching import Batch, Batcher
from .errors import ShippingError
from .sender import Rejected, Sender, SendResult
from .timestamps import Stamper

__all__ = ["PutStats", "put_lines"]

_CHUNK = 1 << 20
_EOF = object()


@dataclass
class PutStats:
    lines: int = 0
    events: int = 0  # accepted by the server
    batches: int = 0
    empty: int = 0  # empty lines skipped: a log event needs at least one character
    truncated: int = 0
    rejected: Rejected = field(default_factory=Rejected)
    seconds: float = 0.0


def _decode(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    return text[:-1] if text.endswith("\r") else text


def _read_lines(fd: int, out: queue.Queue[object], stop: threading.Event) -> None:
    """Reader thread: complete lines in lists (one per read), then the last unterminated
    line, then ``_EOF``; an OSError is handed over as it is."""
    partial = b""
    try:
        while not stop.is_set():
            data = os.read(fd, _CHUNK)
            if not data:
                break
            data = partial + data
            lines = data.split(b"\n")
            partial = lines.pop()
            if lines:
                out.put([_decode(raw) for raw in lines])
        if partial:
            out.put([_decode(partial)])
        out.put(_EOF)
    except OSError as exc:
        out.put(exc)


def put_lines(
    fd: int,
    *,
    sender: Sender,
    group: str,
    stream: str,
    stamper: Stamper | None = None,
    flush_interval: float = 0.2,
    stop: threading.Event | None = None,
    on_sent: Callable[[Batch, SendResult, PutStats], None] | None = None,
) -> PutStats:
    """Send every line readable from ``fd`` until its end (or ``stop``); returns the totals."""
    stop = stop or threading.Event()
    stamper = stamper or Stamper("now")
    stats = PutStats()
    batcher = Batcher(flush_interval=flush_interval)
    lines: queue.Queue[object] = queue.Queue(maxsize=64)
    reader = threading.Thread(
        target=_read_lines, args=(fd, lines, stop), name="logsieve-put-reader", daemon=True
    )
    started = time.monotonic()

    def send(batch: Batch) -> None:
        result = sender.send(group, batch)
        stats.events += result.accepted
        stats.batches += 1
        if result.rejected:
            stats.rejected = stats.rejected + result.rejected
        if on_sent is not None:
            on_sent(batch, result, stats)

    reader.start()
    while not stop.is_set():
        timeout = 0.5  # wake up now and then to notice ``stop``
        if batcher:
            timeout = max(0.0, min(timeout, batcher.deadline - batcher.clock()))
        try:
            item = lines.get(timeout=timeout)
        except queue.Empty:
            for batch in batcher.due():
                send(batch)
            continue
        if item is _EOF:
            break
        if isinstance(item, OSError):
            raise ShippingError(f"cannot read the input: {item.strerror or item}") from item
        assert isinstance(item, list)
        for text in item:
            stats.lines += 1
            if not text:
                stats.empty += 1
                continue
            for batch in batcher.add(stream, stamper(text), text):
                send(batch)
        for batch in batcher.due():
            send(batch)
    for batch in batcher.drain():
        send(batch)
    stats.truncated = batcher.truncated
    stats.seconds = time.monotonic() - started
    return stats
