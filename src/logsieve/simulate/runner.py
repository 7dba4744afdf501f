"""Run a simulator against a server: pace it, batch it like an agent, send it, report.

``run()`` is the one entry point, shared by ``logsieve simulate`` and the in-process demo. It
takes events from a generator, paces them to ``rate`` events per wall-clock second (unless
``paced`` is off: then as fast as the server takes them), creates the log group and each
stream on first sight as a delivering agent does (CreateLogGroup / CreateLogStream, existing
ones are fine), batches per stream with the shared ``shipping.Batcher`` (PutLogEvents limits,
flushed ~200 ms after a batch's first event) and sends on a few threads. It stops after
``count`` events, after ``duration`` seconds, or when ``stop`` is set -- then flushes what is
batched -- and returns a summary.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from logsieve.shipping.batching import Batcher
from logsieve.shipping.client import Target
from logsieve.shipping.pool import SenderPool
from logsieve.shipping.sender import Rejected, RetryPolicy, Sender

from .fake import SimEvent
from .generators import default_group, generate

__all__ = ["Progress", "RunSummary", "run"]

_SLEEP_AHEAD = 0.002  # sleep only when this far ahead of the schedule (bursts in between)


@dataclass(frozen=True)
class Progress:
    """A snapshot for progress displays, taken every ``progress_interval`` seconds."""

    source: str
    generated: int
    sent: int  # accepted by the server
    batches: int
    rejected: Rejected
    elapsed: float

    @property
    def events_per_second(self) -> float:
        return self.sent / self.elapsed if self.elapsed > 0 else 0.0


@dataclass
class RunSummary:
    source: str
    group: str | None  # None when writing to a file
    seed: int
    start_ms: int
    rate: float
    paced: bool
    generated: int = 0
    sent: int = 0  # accepted by the server (or written)
    batches: int = 0
    bytes: int = 0
    rejected: Rejected = field(default_factory=Rejected)
    streams: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    stopped: bool = False  # ended by ``stop`` rather than by count/duration

    @property
    def events_per_second(self) -> float:
        return self.sent / self.elapsed if self.elapsed > 0 else 0.0


def run(
    source: str,
    target: Target | None = None,
    *,
    group: str | None = None,
    seed: int | None = None,
    rate: float = 100.0,
    duration: float | None = None,
    count: int | None = None,
    start_ms: int | None = None,
    paced: bool = True,
    account_id: str = "123456789012",
    region: str = "us-east-1",
    options: dict[str, Any] | None = None,
    events: Iterable[SimEvent] | None = None,
    output: TextIO | None = None,
    stop: threading.Event | None = None,
    progress: Callable[[Progress], None] | None = None,
    progress_interval: float = 1.0,
    senders: int = 2,
    retry: RetryPolicy | None = None,
    on_retry: Callable[[str, float], None] | None = None,
) -> RunSummary:
    """Generate ``source`` traffic and send it to ``target`` (or write the messages to
    ``output``, one per line). ``events`` replaces the generator (for tests and custom
    scenarios). Raises ShippingError when sending cannot go on."""
    if rate <= 0:
        raise ValueError("rate must be positive")
    if (target is None) == (output is None):
        raise ValueError("give exactly one of target and output")
    seed = secrets.randbelow(2**31) if seed is None else seed
    start_ms = int(time.time() * 1000) if start_ms is None else start_ms
    stop = stop or threading.Event()
    if target is not None and group is None:
        group = default_group(source, account_id)
    summary = RunSummary(source, group, seed, start_ms, rate, paced)
    if events is None:
        events = generate(
            source, seed=seed, start_ms=start_ms, rate=rate, account_id=account_id,
            region=region, **(options or {}),
        )  # fmt: skip
    if output is not None:
        return _write(events, output, summary, duration, count, stop, progress,
                      progress_interval)  # fmt: skip
    assert target is not None and group is not None
    control = Sender(target.client(), endpoint=target.endpoint_url, retry=retry,
                     on_retry=on_retry)  # fmt: skip
    control.ensure_group(group)
    pool = SenderPool(target, group, threads=senders, create=True, retry=retry,
                      on_retry=on_retry)  # fmt: skip
    batcher = Batcher()
    known: set[str] = set()
    clock = time.monotonic
    started = clock()
    interval = 1.0 / rate
    end = started + duration if duration is not None else float("inf")
    limit = count if count is not None else -1
    next_report = started + progress_interval
    n = 0

    def report(now: float) -> None:
        stats = pool.stats
        progress_fn = progress
        assert progress_fn is not None
        progress_fn(Progress(source, n, stats.events, stats.batches, stats.rejected,
                             now - started))  # fmt: skip

    try:
        for event in events:
            if n == limit:
                break
            now = clock()
            if paced:
                ahead = started + n * interval - now
                while ahead > _SLEEP_AHEAD:  # keep flushing and reporting while waiting
                    for batch in batcher.due(now):
                        pool.submit(batch)
                    wake = min(ahead, batcher.deadline - now, next_report - now, end - now)
                    if stop.wait(max(wake, 0.0)):
                        break
                    now = clock()
                    ahead = started + n * interval - now
                    if progress is not None and now >= next_report:
                        report(now)
                        next_report = now + progress_interval
                    if now >= end:
                        break
            if now >= end or stop.is_set():
                summary.stopped = stop.is_set()
                break
            stream = event.stream
            if stream not in known:
                control.ensure_stream(group, stream)
                known.add(stream)
                summary.streams.append(stream)
            for batch in batcher.add(stream, event.timestamp, event.message):
                pool.submit(batch)
            n += 1
            if now >= batcher.deadline:
                for batch in batcher.due(now):
                    pool.submit(batch)
            if progress is not None and now >= next_report:
                report(now)
                next_report = now + progress_interval
        for batch in batcher.drain():
            pool.submit(batch)
    except BaseException as exc:
        if not isinstance(exc, Exception):  # a second Ctrl-C: do not wait for retries
            pool.abort()
        with contextlib.suppress(Exception):  # the error in flight says more
            pool.close()
        raise
    pool.close()
    summary.generated = n
    summary.elapsed = clock() - started
    summary.sent = pool.stats.events
    summary.batches = pool.stats.batches
    summary.bytes = pool.stats.bytes
    summary.rejected = pool.stats.rejected
    return summary


def _write(
    events: Iterable[SimEvent], output: TextIO, summary: RunSummary, duration: float | None,
    count: int | None, stop: threading.Event, progress: Callable[[Progress], None] | None,
    progress_interval: float,
) -> RunSummary:  # fmt: skip
    """The ``output`` path: messages as lines, unpaced (files need no pacing)."""
    started = time.monotonic()
    end = started + duration if duration is not None else float("inf")
    next_report = started + progress_interval
    streams: set[str] = set()
    write = output.write
    n = 0
    for event in events:
        if n == count:
            break
        if n & 1023 == 0:
            now = time.monotonic()
            if now >= end or stop.is_set():
                summary.stopped = stop.is_set()
                break
            if progress is not None and now >= next_report:
                progress(Progress(summary.source, n, n, 0, Rejected(), now - started))
                next_report = now + progress_interval
        if event.stream not in streams:
            streams.add(event.stream)
            summary.streams.append(event.stream)
        write(event.message)
        write("\n")
        summary.bytes += len(event.message) + 1
        n += 1
    output.flush()
    summary.generated = summary.sent = n
    summary.elapsed = time.monotonic() - started
    return summary
