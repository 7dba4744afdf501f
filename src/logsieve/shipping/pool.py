"""Send batches from several threads, each with its own client, behind a bounded queue.

Why threads: a PutLogEvents round trip is mostly waiting (the server's durable commit, the
network), and botocore releases the GIL while it waits, so a couple of senders keep requests in
flight while the producer builds the next batches. The queue is bounded so a producer faster
than the server is slowed down (back-pressure) instead of buffering without limit. Parallel
PutLogEvents calls to one stream are allowed (aws-compat.md 3.1), so no per-stream ordering is
kept between batches -- within a batch events are chronological.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from .batching import Batch
from .client import Target
from .errors import ShippingError
from .sender import Rejected, RetryPolicy, Sender, SendResult

__all__ = ["PoolStats", "SenderPool"]


@dataclass
class PoolStats:
    """Running totals, updated by the sender threads under ``lock``."""

    events: int = 0  # accepted by the server
    batches: int = 0
    bytes: int = 0  # as the API counts them (messages + 26 per event)
    rejected: Rejected = field(default_factory=Rejected)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, batch: Batch, result: SendResult) -> None:
        with self.lock:
            self.events += result.accepted
            self.batches += 1
            self.bytes += batch.size
            if result.rejected:
                self.rejected = self.rejected + result.rejected


class SenderPool:
    """``submit`` batches for ``group``; ``close`` waits until every one was answered.

    The first error that cannot be retried stops the pool: later ``submit``/``close`` calls
    raise it, and batches still queued are dropped (the caller is about to fail anyway).
    """

    def __init__(
        self,
        target: Target,
        group: str,
        *,
        threads: int = 2,
        create: bool = True,
        retry: RetryPolicy | None = None,
        on_retry: Callable[[str, float], None] | None = None,
        on_result: Callable[[Batch, SendResult], None] | None = None,
        queue_size: int | None = None,
    ) -> None:
        if threads < 1:
            raise ValueError("threads must be at least 1")
        self.group = group
        self.stats = PoolStats()
        self.error: BaseException | None = None
        self.on_result = on_result
        self._abort = threading.Event()  # interrupts the senders' waits between retries
        self._queue: queue.Queue[Batch | None] = queue.Queue(queue_size or threads * 2)
        self._senders = [
            Sender(
                target.client(),
                endpoint=target.endpoint_url,
                create=create,
                retry=retry,
                on_retry=on_retry,
                stop=self._abort,
            )
            for _ in range(threads)
        ]
        self._threads = [
            threading.Thread(target=self._work, args=(s,), name=f"logsieve-sender-{i}", daemon=True)
            for i, s in enumerate(self._senders)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def sender(self) -> Sender:
        """A sender for calls the producer makes itself (creating the group and streams)."""
        return self._senders[0]

    def submit(self, batch: Batch) -> None:
        """Queue ``batch``; blocks while the queue is full (back-pressure)."""
        while True:
            self._raise_if_failed()
            try:
                self._queue.put(batch, timeout=0.1)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        """Wait for every queued batch to be sent, stop the threads, raise the first error."""
        for _ in self._threads:
            self._queue.put(None)  # the threads keep taking batches, even after an error
        for thread in self._threads:
            thread.join()
        self._raise_if_failed()

    def abort(self) -> None:
        """Give up on retries in progress (a second Ctrl-C); ``close`` then returns soon."""
        if self.error is None:
            self.error = ShippingError("interrupted before every batch was sent")
        self._abort.set()

    def _raise_if_failed(self) -> None:
        if self.error is not None:
            if isinstance(self.error, ShippingError):
                raise self.error
            raise ShippingError(f"sending failed: {self.error!r}") from self.error

    def _work(self, sender: Sender) -> None:
        while (batch := self._queue.get()) is not None:
            if self.error is not None:
                continue
            try:
                result = sender.send(self.group, batch)
            except BaseException as exc:
                if self.error is None:
                    self.error = exc
                self._abort.set()
                continue
            self.stats.add(batch, result)
            if self.on_result is not None:
                self.on_result(batch, result)
