"""``type = "kinesis"``: read a Kinesis stream that a subscription filter feeds.

Every shard is read with GetShardIterator/GetRecords; each shard's last sequence number is its
position, committed with the events of the records up to it. A closed shard is read to its end
(``SHARD_END`` then stored) before its children start, so a split or merge keeps the order of
each log stream's events. Records are awslogs payloads (gzip JSON); CONTROL_MESSAGE records are
skipped; anything else lands raw in ``raw_log_group`` when set (else it is counted and dropped).
Throttling (ProvisionedThroughputExceededException) backs off; an expired iterator is renewed
from the stored position. AWS allows 5 GetRecords per second per shard: an idle shard is polled
every ``poll_seconds`` (default 1 s).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from typing import Any

from starlette.routing import BaseRoute

from logsieve.config_values import Invalid

from .awslogs_records import NotAwslogs, awslogs_batch
from .base import Key, SourceContext, SourceKind, SourceSpec
from .events import RemoteBatch, RemoteEvent
from .keys import AWS_KEYS, choice, log_group_name, seconds, text

__all__ = ["KIND", "KinesisSource", "records_to_events"]

log = logging.getLogger("logsieve.sources")

SHARD_END = "SHARD_END"
STARTED = "started"  # position key: when the source first ran ("latest" resumes from there)
THROTTLED = "ProvisionedThroughputExceededException"
EXPIRED = ("ExpiredIteratorException",)
LIST_EVERY_S = 10.0  # new shards (a split or merge) are noticed within this long
MAX_THROTTLE_BACKOFF_S = 5.0
GET_LIMIT = 10_000


def records_to_events(
    records: list[dict[str, Any]], prefix: str, raw_group: str | None, shard_id: str
) -> tuple[list[RemoteBatch | RemoteEvent], int]:
    """The log events in GetRecords' records, and how many records were neither awslogs nor
    kept raw."""
    events: list[RemoteBatch | RemoteEvent] = []
    dropped = 0
    for record in records:
        data = record["Data"]
        try:
            batch = awslogs_batch(data, prefix)
        except NotAwslogs:
            if raw_group is None:
                dropped += 1
                continue
            arrival = record.get("ApproximateArrivalTimestamp")
            stamp = int(arrival.timestamp() * 1000) if arrival else int(time.time() * 1000)
            try:
                message = data.decode("utf-8")
            except UnicodeDecodeError:
                message = base64.b64encode(data).decode()
            events.append(RemoteEvent(raw_group, shard_id, stamp, message))
            continue
        if batch is not None:  # None: CONTROL_MESSAGE, CloudWatch's ping
            events.append(batch)
    return events, dropped


def _error_code(error: Exception) -> str | None:
    response = getattr(error, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


class KinesisSource:
    def __init__(self, spec: SourceSpec, ctx: SourceContext) -> None:
        self.spec = spec
        self.ctx = ctx
        self._lags: dict[str, float] = {}
        self._closed: set[str] = set()  # shards ListShards shows an EndingSequenceNumber for
        self.dropped = 0

    def routes(self) -> list[BaseRoute]:
        return []

    def _client(self) -> Any:
        import boto3
        from botocore.config import Config

        session = boto3.session.Session(
            profile_name=self.spec["profile"], region_name=self.spec["region"]
        )
        return session.client(
            "kinesis",
            endpoint_url=self.spec["endpoint_url"],
            config=Config(retries={"mode": "standard", "max_attempts": 2}),
        )

    def _stream(self) -> dict[str, str]:
        if self.spec["stream_arn"]:
            return {"StreamARN": self.spec["stream_arn"]}
        return {"StreamName": self.spec["stream_name"]}

    async def run(self) -> None:
        client = await asyncio.to_thread(self._client)
        positions = await asyncio.to_thread(self.ctx.positions)
        self.ctx.status.position = dict(positions)
        if STARTED not in positions:
            positions[STARTED] = str(int(time.time() * 1000))
            await self.ctx.write([], {STARTED: positions[STARTED]})
        readers: dict[str, asyncio.Task[None]] = {}
        changed = asyncio.Event()
        try:
            while True:
                shards = await asyncio.to_thread(self._list_shards, client)
                known = {shard["ShardId"] for shard in shards}
                self._closed = {
                    shard["ShardId"] for shard in shards
                    if shard.get("SequenceNumberRange", {}).get("EndingSequenceNumber")
                }  # fmt: skip
                for shard in shards:
                    shard_id = shard["ShardId"]
                    if shard_id in readers or self.ctx.status.position.get(shard_id) == SHARD_END:
                        continue
                    parents = [shard.get("ParentShardId"), shard.get("AdjacentParentShardId")]
                    waiting = [
                        p for p in parents
                        if p in known and self.ctx.status.position.get(p) != SHARD_END
                    ]  # fmt: skip
                    if waiting:
                        continue  # parents first: their events come before the child's
                    child = any(p in known for p in parents)
                    readers[shard_id] = asyncio.create_task(
                        self._read_shard(client, shard_id, positions, child, changed)
                    )
                changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), LIST_EVERY_S)
                for shard_id, task in list(readers.items()):
                    if task.done():
                        del readers[shard_id]
                        task.result()  # a failed reader fails the run: supervised, retried
        finally:
            for task in readers.values():
                task.cancel()
            await asyncio.gather(*readers.values(), return_exceptions=True)

    def _list_shards(self, client: Any) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        request: dict[str, Any] = dict(self._stream())
        while True:
            page = client.list_shards(**request)
            shards.extend(page["Shards"])
            token = page.get("NextToken")
            if not token:
                return shards
            request = {"NextToken": token}

    def _iterator(self, client: Any, shard_id: str, positions: dict[str, str], child: bool) -> str:
        request: dict[str, Any] = {**self._stream(), "ShardId": shard_id}
        stored = self.ctx.status.position.get(shard_id) or positions.get(shard_id)
        if stored and stored != SHARD_END:
            request.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=stored)
        elif child or self.spec["start"] == "trim_horizon":
            request["ShardIteratorType"] = "TRIM_HORIZON"
        else:  # "latest", as of when this source first ran: a restart loses nothing
            started = int(positions[STARTED]) / 1000
            request.update(ShardIteratorType="AT_TIMESTAMP", Timestamp=started)
        iterator: str = client.get_shard_iterator(**request)["ShardIterator"]
        return iterator

    async def _read_shard(
        self,
        client: Any,
        shard_id: str,
        positions: dict[str, str],
        child: bool,
        changed: asyncio.Event,
    ) -> None:
        iterator = await asyncio.to_thread(self._iterator, client, shard_id, positions, child)
        backoff = 0.1
        while True:
            try:
                page = await asyncio.to_thread(
                    client.get_records, ShardIterator=iterator, Limit=GET_LIMIT
                )
            except Exception as error:
                code = _error_code(error)
                if code == THROTTLED:
                    self.ctx.status.failed(error)
                    await asyncio.sleep(backoff)
                    backoff = min(MAX_THROTTLE_BACKOFF_S, backoff * 2)
                    continue
                if code in EXPIRED:
                    iterator = await asyncio.to_thread(
                        self._iterator, client, shard_id, positions, child
                    )
                    continue
                raise
            backoff = 0.1
            records = page["Records"]
            following = page.get("NextShardIterator")
            position = records[-1]["SequenceNumber"] if records else None
            caught_up = not records and page.get("MillisBehindLatest", 0) == 0
            if caught_up and shard_id in self._closed:
                following = None  # read to its end (AWS says so with no iterator; moto does not)
            if following is None:
                position = SHARD_END
            if position is not None:
                events, dropped = records_to_events(
                    records, self.spec["into_prefix"], self.spec["raw_log_group"], shard_id
                )
                if dropped:
                    self.dropped += dropped
                    log.warning(
                        "kinesis records not awslogs dropped=%d source=%s (set raw_log_group "
                        "to keep them)", dropped, self.spec.name,
                    )  # fmt: skip
                await self.ctx.write(events, {shard_id: position})
            self._lags[shard_id] = page.get("MillisBehindLatest", 0) / 1000
            self.ctx.status.lag_seconds = max(self._lags.values())
            if following is None:
                self._lags.pop(shard_id, None)
                changed.set()  # its children may start now
                return
            iterator = following
            if not records:
                await asyncio.sleep(self.spec["poll_seconds"])


def _check(options: dict[str, Any]) -> None:
    if bool(options["stream_name"]) == bool(options["stream_arn"]):
        raise Invalid(
            "needs exactly one of stream_name and stream_arn",
            'add stream_name = "my-stream" (or stream_arn)',
        )


KIND = SourceKind(
    keys={
        "stream_name": Key(text),
        "stream_arn": Key(text),
        "start": Key(choice("latest", "trim_horizon"), default="latest"),
        "raw_log_group": Key(log_group_name),
        "poll_seconds": Key(seconds(0.2, 60), default=1.0),
        **AWS_KEYS,
    },
    build=KinesisSource,
    check=_check,
    describe="a Kinesis stream fed by a CloudWatch Logs subscription filter",
)
