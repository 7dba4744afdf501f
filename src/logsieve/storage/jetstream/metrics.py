"""``MetricStore`` on JetStream: one stream of puts, read through an in-memory mirror.

Each ``put`` is one message on ``<ns>.metrics.put`` holding its observations and its progress
positions together, so both commit at once (a message is atomic) and a counter never counts
an event twice. Every store keeps a mirror of the stream, fed by an ordered consumer: per
metric, its observations sorted by time and a per-minute roll-up (SampleCount, Sum, Minimum,
Maximum per minute and unit), so reads are in-memory like SQLite's index scans, and reads
without raw values whose start and period are whole minutes take their whole minutes from
the roll-up (and a last partial minute from the observations). Before answering, a read waits
until the mirror has every message up to the stream leader's last sequence, so each node sees
every put acknowledged before the read began (read-your-writes across nodes).

Expiry publishes a watermark message (observations older than it, in messages before it, are
gone: every mirror applies it at the same point of the stream, whenever it replays; it also
carries the progress positions, kept as the highest seen), then deletes the messages that
held only expired observations. The watermark is the stream's last
message, so the leader's last sequence always names a message a mirror will receive.

A put bigger than ``_MAX_MESSAGE`` bytes is split into several messages, the progress
positions in the last: then a crash between them may count that put's first part twice.
Every node holds every metric's retained observations in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from operator import itemgetter
from typing import Any

import orjson
from nats.aio.msg import Msg
from nats.js import api
from nats.js.errors import BadRequestError, NotFoundError

from ..metrics import Bucket, MetricKey, Observation
from ..metrics_chunks import fold
from .connection import Connection
from .options import JetStreamOptions

__all__ = ["JetStreamMetricStore"]

_STREAM = "metrics"
_MAX_MESSAGE = 512 * 1024  # half the server's default max_payload, leaving room for JSON
_Row = tuple[int, str, float, float, float, float]  # ts, unit, count, total, minimum, maximum
_COLUMNS = tuple(map(itemgetter, range(2, 6)))  # count, total, minimum, maximum of a _Row


class _Series:
    """One metric's observations, sorted by time on demand, and their per-minute roll-up."""

    __slots__ = ("minutes", "rows", "sorted")

    def __init__(self) -> None:
        self.rows: list[_Row] = []
        self.sorted = True
        self.minutes: dict[tuple[int, str], list[float]] = {}

    def add(self, row: _Row) -> None:
        if self.rows and row[0] < self.rows[-1][0]:
            self.sorted = False
        self.rows.append(row)
        fold(self.minutes, (row[0] // 60 * 60, row[1]), row[2], row[3], row[4], row[5])

    def between(self, start: int, end: int) -> list[_Row]:
        if not self.sorted:
            self.rows.sort(key=lambda row: row[0])
            self.sorted = True
        rows = self.rows
        return rows[bisect_left(rows, start, key=_ts) : bisect_left(rows, end, key=_ts)]

    def drop_before(self, before: int) -> int:
        """Forget rows older than ``before`` (rebuilding the roll-up); how many."""
        kept = [row for row in self.rows if row[0] >= before]
        dropped = len(self.rows) - len(kept)
        if dropped:
            self.rows, self.minutes, self.sorted = [], {}, True
            for row in kept:
                self.add(row)
        return dropped


def _ts(row: _Row) -> int:
    return row[0]


def _encode(observations: list[Observation], progress: Mapping[str, int] | None) -> list[bytes]:
    """The put's messages: ``{"m": metrics, "o": rows by metric index, "g": progress}``."""
    messages: list[bytes] = []
    metrics: dict[MetricKey, int] = {}
    rows: list[list[Any]] = []
    size = 0
    for o in observations:
        index = metrics.setdefault(o.metric, len(metrics))
        row = [index, o.timestamp, o.unit, o.count, o.total, o.minimum, o.maximum]
        rows.append(row)
        size += 64 + len(o.unit) + (len(str(o.metric)) if index == len(metrics) - 1 else 0)
        if size >= _MAX_MESSAGE:
            messages.append(orjson.dumps({"m": list(metrics), "o": rows}))
            metrics, rows, size = {}, [], 0
    messages.append(orjson.dumps({"m": list(metrics), "o": rows, "g": dict(progress or {})}))
    return messages


class JetStreamMetricStore:
    """``MetricStore`` on the stream ``<namespace>_metrics``."""

    def __init__(self, options: JetStreamOptions) -> None:
        self._conn = Connection(options, "metrics")
        self._stream = self._conn.name(_STREAM)
        self._series: dict[MetricKey, _Series] = {}
        self._progress: dict[str, int] = {}
        self._at = 0  # the last stream sequence applied to the mirror
        self._caught_up: asyncio.Condition | None = None
        self._message_seqs: dict[int, int] = {}  # put message seq -> its newest timestamp
        self._expired: dict[int, int] = {}  # watermark seq -> observations it dropped
        try:
            self._conn.setup(self._start())
        except BaseException:
            self._conn.close()
            raise

    async def _start(self) -> None:
        await self._conn.ensure_stream(
            api.StreamConfig(name=self._stream, subjects=[self._conn.subject(_STREAM, ">")])
        )
        self._caught_up = asyncio.Condition()
        self._sub = await self._conn.js.subscribe(
            self._conn.subject(_STREAM, ">"),
            stream=self._stream,
            cb=self._apply,
            ordered_consumer=True,
            deliver_policy=api.DeliverPolicy.ALL,
        )

    # -- the mirror -------------------------------------------------------------------------

    async def _apply(self, msg: Msg) -> None:
        seq = msg.metadata.sequence.stream
        if seq <= self._at:
            return
        body = orjson.loads(msg.data)
        if "w" in body:
            self._expired[seq] = self._expire_mirror(int(body["w"]))
            for key, position in body["g"].items():  # a snapshot: never move one back
                self._progress[key] = max(position, self._progress.get(key, position))
        else:
            metrics = [(ns, name, tuple(map(tuple, dims))) for ns, name, dims in body["m"]]
            newest = None
            for index, ts, unit, count, total, low, high in body["o"]:
                metric: MetricKey = metrics[index]  # type: ignore[assignment]
                series = self._series.get(metric)
                if series is None:
                    series = self._series[metric] = _Series()
                series.add((ts, unit, count, total, low, high))
                newest = ts if newest is None else max(newest, ts)
            if newest is not None:
                self._message_seqs[seq] = newest
            self._progress.update(body.get("g", {}))
        self._at = seq
        assert self._caught_up is not None
        async with self._caught_up:
            self._caught_up.notify_all()

    def _expire_mirror(self, before: int) -> int:
        dropped = sum(series.drop_before(before) for series in self._series.values())
        for metric in [m for m, series in self._series.items() if not series.rows]:
            del self._series[metric]
        return dropped

    async def _sync(self) -> None:
        """Wait until the mirror holds every message the stream's leader has."""
        info = await self._conn.retrying(self._conn.js.stream_info, self._stream)
        last = info.state.last_seq
        assert self._caught_up is not None
        async with self._caught_up:
            await self._caught_up.wait_for(lambda: self._at >= last)

    def _read(self) -> None:
        self._conn.run(self._sync())

    # -- writing ----------------------------------------------------------------------------

    def put(
        self, observations: Iterable[Observation], progress: Mapping[str, int] | None = None
    ) -> None:
        messages = _encode(list(observations), progress)
        subject = self._conn.subject(_STREAM, "put")

        async def put() -> None:
            for payload in messages:
                await self._conn.retrying(self._conn.js.publish, subject, payload)

        self._conn.run(put())

    def expire(self, before: int) -> int:
        async def expire() -> int:
            await self._sync()
            subject = self._conn.subject(_STREAM, "watermark")
            watermark = orjson.dumps({"w": before, "g": self._progress})
            ack = await self._conn.retrying(self._conn.js.publish, subject, watermark)
            assert self._caught_up is not None
            async with self._caught_up:  # the mirror applies the watermark itself
                await self._caught_up.wait_for(lambda: self._at >= ack.seq)
            dropped = self._expired.pop(ack.seq, 0)
            old = [
                seq
                for seq, newest in self._message_seqs.items()
                if newest < before and seq < ack.seq
            ]
            for seq in old:
                self._message_seqs.pop(seq, None)
                with contextlib.suppress(NotFoundError, BadRequestError):  # deleted already
                    await self._conn.retrying(self._conn.js.delete_msg, self._stream, seq)
            return dropped

        return self._conn.run(expire())

    # -- reading ----------------------------------------------------------------------------

    def progress(self, key: str) -> int | None:
        self._read()
        return self._progress.get(key)

    def metrics(self, namespace: str | None = None, name: str | None = None) -> list[MetricKey]:
        self._read()
        return sorted(
            metric
            for metric in list(self._series)
            if (namespace is None or metric[0] == namespace) and (name is None or metric[1] == name)
        )

    def buckets(
        self,
        metric: MetricKey,
        start: int,
        end: int,
        period: int,
        unit: str | None = None,
        *,
        per_unit: bool = True,
        raw_values: bool = False,
    ) -> list[Bucket]:
        self._read()
        return self._conn.run(self._buckets(metric, start, end, period, unit, per_unit, raw_values))

    async def _buckets(
        self,
        metric: MetricKey,
        start: int,
        end: int,
        period: int,
        unit: str | None,
        per_unit: bool,
        raw_values: bool,
    ) -> list[Bucket]:
        """On the loop's thread, where the mirror changes: never read half-applied."""
        series = self._series.get(metric)
        if series is None or end <= start:
            return []
        if not raw_values and not (start % 60 or period % 60):
            # whole minutes from the roll-up (each inside one period), the last partial
            # minute (an EndTime of "now") from the observations
            whole = end // 60 * 60
            minutes = [
                (minute, u, *held)
                for (minute, u), held in series.minutes.items()
                if start <= minute < whole
            ]
            minutes.sort(key=_ts)
            rows: list[_Row] = minutes + series.between(whole, end)  # type: ignore[operator]
        else:
            rows = series.between(start, end)
        if unit is not None:
            rows = [row for row in rows if row[1] == unit]
        return list(_aggregate(rows, start, period, per_unit, raw_values))

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing the connection drops the consumer anyway
            self._conn.run(self._sub.unsubscribe())
        self._conn.close()


def _aggregate(
    rows: list[_Row], start: int, period: int, per_unit: bool, raw_values: bool
) -> Iterator[Bucket]:
    """The buckets of ``rows`` (sorted by time): each period's rows found by bisection and
    summed column-wise, so the per-row work is in C, not in this loop."""
    at = 0
    while at < len(rows):
        slot = (rows[at][0] - start) // period
        stop = bisect_left(rows, start + (slot + 1) * period, lo=at, key=_ts)
        chunk = rows[at:stop]
        at = stop
        if not per_unit:
            groups: list[tuple[str | None, list[_Row]]] = [(None, chunk)]
        else:
            units = sorted(set(map(itemgetter(1), chunk)))
            if len(units) == 1:
                groups = [(units[0], chunk)]
            else:
                groups = [(u, [row for row in chunk if row[1] == u]) for u in units]
        for u, group in groups:
            counts, totals, lows, highs = (list(map(get, group)) for get in _COLUMNS)
            values = None
            if raw_values and lows == highs and min(lows) >= 0:  # no statistic set, no negative
                values = sorted(zip(lows, counts, strict=True))
            yield Bucket(
                start + slot * period, u, sum(counts), sum(totals), min(lows), max(highs), values
            )
