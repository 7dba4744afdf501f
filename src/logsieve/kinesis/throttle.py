"""Per-shard write limits, so producers see the partial failures AWS gives them.

AWS accepts up to 1,000 records and 1 MiB (data plus partition key) per second per shard and
answers the excess with ``ProvisionedThroughputExceededException`` -- for PutRecords record by
record, in a 200 response. Producers are written to retry those records; a local server that
never throttles hides bugs in that path. Each shard has two token buckets holding one second of
allowance; they refill continuously.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ShardLimits:
    records_per_second: int = 1_000
    bytes_per_second: int = 1024 * 1024


class WriteThrottle:
    def __init__(self, limits: ShardLimits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        # (stream id, shard) -> [records allowance, bytes allowance, last refill ms]
        self._buckets: dict[tuple[int, int], list[float]] = {}

    def admit(self, stream_id: int, writes: Sequence[tuple[int, int]], now: int) -> list[bool]:
        """For each (shard, size) write, in order: whether it fits the shard's allowance now.

        Admitted writes use up allowance. A full byte bucket admits one write of any size (a
        1 MiB record plus its key is over 1 MiB, yet AWS accepts it on an idle shard).
        """
        rps, bps = self.limits.records_per_second, self.limits.bytes_per_second
        admitted = []
        with self._lock:
            for shard, size in writes:
                bucket = self._buckets.get((stream_id, shard))
                if bucket is None:
                    bucket = self._buckets[(stream_id, shard)] = [rps, bps, now]
                elapsed = max(0, now - bucket[2])
                bucket[0] = min(rps, bucket[0] + elapsed * rps / 1000)
                bucket[1] = min(bps, bucket[1] + elapsed * bps / 1000)
                bucket[2] = now
                ok = bucket[0] >= 1 and (bucket[1] >= size or bucket[1] >= bps)
                if ok:
                    bucket[0] -= 1
                    bucket[1] -= size
                admitted.append(ok)
        return admitted

    def forget(self, stream_id: int) -> None:
        with self._lock:
            for key in [k for k in self._buckets if k[0] == stream_id]:
                del self._buckets[key]
