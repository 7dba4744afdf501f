"""Durability: a 200 from PutRecord(s) means the record survives ``kill -9``.

Writers hammer a stream while the server is SIGKILLed at random moments and restarted on the
same data directory. Afterwards every acknowledged record is there exactly once, with the
sequence number and shard it was acknowledged with; no record refused (throttled) in an answered
request is stored; sequence numbers still only grow within each shard; and iterators handed out
before a crash still work after it.
"""

from __future__ import annotations

import os
import random
import re
import sqlite3
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tests.server import Server, client

SEED = int(os.environ.get("LOGSIEVE_CRASH_SEED", "20261122"))
KILLS = 4
DATA = re.compile(rb"(w\d+) (\d+) (\d+) [0-9a-f]{8}")


@dataclass
class Writer:
    """One client thread sending PutRecords (and now and then PutRecord) back to back.

    At full speed the writers exceed a shard's 1,000 records per second, so some PutRecords
    results are per-record throttling errors: those records were refused, not stored.
    """

    name: str
    kinesis: Any
    stream: str
    rng: random.Random
    acked: dict[bytes, tuple[str, str]] = field(default_factory=dict)  # data -> (shard, seq)
    refused: set[bytes] = field(default_factory=set)  # throttled within an acknowledged request
    answered: set[int] = field(default_factory=set)  # requests that got a 200
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        request = 0
        while not self.stop.is_set():
            n = self.rng.choice([1, self.rng.randint(2, 200)])
            tag = uuid.uuid4().hex[:8]
            records = [
                {"Data": b"%s %d %d %s" % (self.name.encode(), request, i, tag.encode()),
                 "PartitionKey": f"{self.name}-{self.rng.randint(0, 50)}"}
                for i in range(n)
            ]  # fmt: skip
            try:
                if n == 1:
                    one = self.kinesis.put_record(StreamName=self.stream, **records[0])
                    if "SequenceNumber" not in one:  # the connection died after the status
                        request += 1  # line: botocore parses the cut body as no fields, not
                        continue  # a refusal (read as one, a stored record was "refused")
                    results = [one]
                else:
                    out = self.kinesis.put_records(StreamName=self.stream, Records=records)
                    if "Records" not in out:  # the connection died after the status line
                        request += 1
                        continue
                    results = out["Records"]
                    assert out["FailedRecordCount"] == sum("ErrorCode" in r for r in results)
            except ClientError as exc:  # PutRecord throttled, or the server was going down
                if exc.response["Error"]["Code"] == "ProvisionedThroughputExceededException":
                    self.answered.add(request)
                    self.refused.add(records[0]["Data"])
            except (BotoCoreError, OSError):  # refused connection, reset: no answer
                time.sleep(0.01)
            else:
                self.answered.add(request)
                for record, result in zip(records, results, strict=True):
                    if "SequenceNumber" in result:
                        self.acked[record["Data"]] = (result["ShardId"], result["SequenceNumber"])
                    else:
                        self.refused.add(record["Data"])
            request += 1


def read_everything(kinesis, stream: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        it = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while True:
            page = kinesis.get_records(ShardIterator=it, Limit=997)
            records += [{**r, "ShardId": shard["ShardId"]} for r in page["Records"]]
            it = page["NextShardIterator"]
            if page["MillisBehindLatest"] == 0:
                break
    return records


def test_acknowledged_records_survive_sigkill(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    server = Server(tmp_path / "data").start()
    try:
        setup = client(server, "kinesis")
        stream = f"crash-{uuid.uuid4().hex[:8]}"
        setup.create_stream(StreamName=stream, ShardCount=3)
        setup.put_record(StreamName=stream, Data=b"first", PartitionKey="p", ExplicitHashKey="0")
        early = setup.get_shard_iterator(
            StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

        writers = [
            # One attempt per request: a request cut off by the kill is not resent, so what
            # is stored twice would be the server's doing.
            Writer(f"w{k}", client(server, "kinesis", retries=0), stream, random.Random(SEED + k))
            for k in range(3)
        ]
        threads = [threading.Thread(target=w.run, daemon=True) for w in writers]
        for thread in threads:
            thread.start()
        acks_at_kill = []
        try:
            for _ in range(KILLS):
                time.sleep(rng.uniform(0.05, 0.4))
                acks_at_kill.append(sum(len(w.acked) for w in writers))
                server.kill()
                server.start()
            time.sleep(0.2)  # some acknowledged writes after the last restart too
        finally:
            for w in writers:
                w.stop.set()
            for thread in threads:
                thread.join(timeout=30)
        assert not any(t.is_alive() for t in threads), "a writer thread hung"

        reader = client(server, "kinesis")
        stored = read_everything(reader, stream)
        datas = [r["Data"] for r in stored]
        twice = [d for d, c in Counter(datas).items() if c > 1]
        assert not twice, f"{len(twice)} records stored twice, e.g. {twice[:3]}"
        where = {r["Data"]: (r["ShardId"], r["SequenceNumber"]) for r in stored}

        acked_total = 0
        for w in writers:
            for data, placed in w.acked.items():
                assert where.get(data) == placed, f"acknowledged {data!r} at {placed} is missing"
            stored_refused = w.refused & where.keys()
            assert not stored_refused, f"refused yet stored: {sorted(stored_refused)[:3]}"
            acked_total += len(w.acked)
            for data in datas:
                m = DATA.fullmatch(data)
                assert m or data == b"first", f"unexpected record {data!r}"
                if m and m.group(1).decode() == w.name and int(m.group(2)) in w.answered:
                    # Stored from an answered request: then it was acknowledged.
                    assert data in w.acked, f"{data!r} stored but not acknowledged"
        assert acked_total >= KILLS, f"too few acknowledged writes to mean anything: {acks_at_kill}"

        by_shard: dict[str, list[int]] = {}
        for record in stored:
            by_shard.setdefault(record["ShardId"], []).append(int(record["SequenceNumber"]))
        for shard, numbers in by_shard.items():
            assert numbers == sorted(numbers), f"{shard} reads out of sequence order"

        # After all the crashes, new records still sort after everything already stored.
        last = reader.put_record(StreamName=stream, Data=b"last", PartitionKey="p",
                                 ExplicitHashKey="0")  # fmt: skip
        assert int(last["SequenceNumber"]) > max(by_shard["shardId-000000000000"])
        # An iterator from before the crashes still reads (it is under five minutes old).
        page = reader.get_records(ShardIterator=early, Limit=1)
        assert [r["Data"] for r in page["Records"]] == [b"first"]
        print(
            f"\nkinesis crash seed={SEED}: {acked_total} acknowledged records, "
            f"{len(stored)} stored, acks before each kill {acks_at_kill}"
        )
    finally:
        server.stop()

    conn = sqlite3.connect(f"file:{tmp_path / 'data' / 'kinesis.db'}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()


def test_streams_and_tags_survive_a_restart(tmp_path: Path) -> None:
    server = Server(tmp_path / "data").start()
    try:
        kinesis = client(server, "kinesis")
        kinesis.create_stream(StreamName="kept", ShardCount=2)
        kinesis.add_tags_to_stream(StreamName="kept", Tags={"team": "ops"})
        kinesis.increase_stream_retention_period(StreamName="kept", RetentionPeriodHours=72)
        before = kinesis.describe_stream(StreamName="kept")["StreamDescription"]
        server.kill()
        server.start()
        kinesis = client(server, "kinesis")
        assert kinesis.describe_stream(StreamName="kept")["StreamDescription"] == before
        assert kinesis.list_tags_for_stream(StreamName="kept")["Tags"] == [
            {"Key": "team", "Value": "ops"}
        ]
    finally:
        server.stop()
