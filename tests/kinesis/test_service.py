"""The service in-process, with a clock the test moves: iterator expiry and tampering,
throttling, retention, MillisBehindLatest, AT_TIMESTAMP, the dispatcher's API, identifiers."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from logsieve.errors import ServiceError
from logsieve.kinesis import KinesisContext, KinesisService
from logsieve.kinesis.identifiers import (
    parse_sequence_number,
    sequence_number,
    shard_for_hash,
    shard_index,
    starting_sequence_number,
)
from logsieve.storage.streams_sqlite import SqliteStreamStore
from tests.kinesis.conftest import ACCOUNT, Clock, md5_int

HOUR = 3_600_000


def call(service: KinesisService, operation: str, **params: Any) -> dict[str, Any]:
    return service.operations[operation](params) or {}


def error(service: KinesisService, operation: str, **params: Any) -> ServiceError:
    with pytest.raises(ServiceError) as err:
        call(service, operation, **params)
    return err.value


def put(service: KinesisService, stream: str, data: bytes, key: str = "k") -> dict[str, Any]:
    return call(service, "PutRecord", StreamName=stream, Data=data, PartitionKey=key)


def shard_iterator(service: KinesisService, stream: str, kind: str, **params: Any) -> str:
    return call(
        service,
        "GetShardIterator",
        StreamName=stream,
        ShardId="shardId-000000000000",
        ShardIteratorType=kind,
        **params,
    )["ShardIterator"]


def read_all(service: KinesisService, it: str) -> list[bytes]:
    out: list[bytes] = []
    while True:
        page = call(service, "GetRecords", ShardIterator=it)
        out += [r["Data"] for r in page["Records"]]
        it = page["NextShardIterator"]
        if page["MillisBehindLatest"] == 0:
            return out


# --- iterators ---------------------------------------------------------------------------------


def test_iterator_expires_after_five_minutes(service: KinesisService, clock: Clock) -> None:
    call(service, "CreateStream", StreamName="s", ShardCount=1)
    put(service, "s", b"one")
    it = shard_iterator(service, "s", "TRIM_HORIZON")
    clock.advance(300_000)
    page = call(service, "GetRecords", ShardIterator=it)  # exactly 5 minutes: still valid
    assert [r["Data"] for r in page["Records"]] == [b"one"]
    # Every GetRecords hands out a fresh iterator with a fresh five minutes.
    clock.advance(299_000)
    call(service, "GetRecords", ShardIterator=page["NextShardIterator"])
    clock.advance(2_000)
    err = error(service, "GetRecords", ShardIterator=it)
    assert err.code == "ExpiredIteratorException"
    assert re.fullmatch(
        r"Iterator expired\. The iterator was created at time \w{3} \w{3} \d{2} "
        r"\d{2}:\d{2}:\d{2} UTC \d{4} while right now it is \w{3} \w{3} \d{2} "
        r"\d{2}:\d{2}:\d{2} UTC \d{4} which is further in the future than the tolerated "
        r"delay of 300000 milliseconds\.",
        err.message,
    ), err.message
    assert "Tue Nov 14 22:13:20 UTC 2023" in err.message  # the clock's start, as Java prints it


def test_tampered_iterators_are_invalid(service: KinesisService, clock: Clock) -> None:
    call(service, "CreateStream", StreamName="s", ShardCount=2)
    it = shard_iterator(service, "s", "TRIM_HORIZON")
    raw = base64.b64decode(it)
    assert raw.startswith(b"\x00" * 7 + b"\x01")
    forged = []
    for i in range(len(raw)):  # every single-bit change anywhere is caught
        changed = bytearray(raw)
        changed[i] ^= 0x01
        forged.append(base64.b64encode(bytes(changed)).decode())
    forged += [
        it[:-1],
        it + "=",
        it.replace("A", "B", 1),
        base64.b64encode(raw[:-16]).decode(),
        "AAAAAAAAAAE=",
        "!!notbase64!!",
        base64.b64encode(raw.replace(b"s", b"t")).decode(),  # another stream, same tag
    ]
    for bad in forged:
        err = error(service, "GetRecords", ShardIterator=bad)
        assert (err.code, err.message) == ("InvalidArgumentException", "Invalid ShardIterator.")
    # Tampering is checked before expiry: an old forged iterator is invalid, not expired.
    clock.advance(10 * 60_000)
    assert error(service, "GetRecords", ShardIterator=forged[0]).code == "InvalidArgumentException"


def test_iterators_from_another_store_are_invalid(
    service: KinesisService, clock: Clock, tmp_path
) -> None:
    call(service, "CreateStream", StreamName="s", ShardCount=1)
    other_store = SqliteStreamStore(tmp_path / "other.db")
    try:
        other = KinesisService(KinesisContext(other_store, "us-east-1", ACCOUNT, clock))
        call(other, "CreateStream", StreamName="s", ShardCount=1)
        foreign = shard_iterator(other, "s", "TRIM_HORIZON")
    finally:
        other_store.close()
    err = error(service, "GetRecords", ShardIterator=foreign)
    assert err.message == "Invalid ShardIterator."


def test_iterators_survive_reopening_the_store(tmp_path, clock: Clock) -> None:
    first = SqliteStreamStore(tmp_path / "k.db")
    service = KinesisService(KinesisContext(first, "us-east-1", ACCOUNT, clock))
    call(service, "CreateStream", StreamName="s", ShardCount=1)
    put(service, "s", b"before")
    it = shard_iterator(service, "s", "TRIM_HORIZON")
    first.close()
    second = SqliteStreamStore(tmp_path / "k.db")
    try:
        service = KinesisService(KinesisContext(second, "us-east-1", ACCOUNT, clock))
        put(service, "s", b"after")
        assert read_all(service, it) == [b"before", b"after"]
    finally:
        second.close()


# --- positions and time -------------------------------------------------------------------------


def test_millis_behind_latest(service: KinesisService, clock: Clock) -> None:
    call(service, "CreateStream", StreamName="s", ShardCount=1)
    put(service, "s", b"a")
    clock.advance(1_000)
    put(service, "s", b"b")
    clock.advance(4_000)
    it = shard_iterator(service, "s", "TRIM_HORIZON")
    first = call(service, "GetRecords", ShardIterator=it, Limit=1)
    assert [r["Data"] for r in first["Records"]] == [b"a"]
    assert first["MillisBehindLatest"] == 4_000  # "b" arrived 4 s ago and is unread
    second = call(service, "GetRecords", ShardIterator=first["NextShardIterator"], Limit=1)
    assert [r["Data"] for r in second["Records"]] == [b"b"]
    assert second["MillisBehindLatest"] == 0
    # A record of this very millisecond left unread still counts as behind.
    put(service, "s", b"c")
    put(service, "s", b"d")
    third = call(service, "GetRecords", ShardIterator=second["NextShardIterator"], Limit=1)
    assert [r["Data"] for r in third["Records"]] == [b"c"]
    assert third["MillisBehindLatest"] == 1


def test_arrival_timestamp_and_at_timestamp(service: KinesisService, clock: Clock) -> None:
    call(service, "CreateStream", StreamName="s", ShardCount=1)
    start = clock.now
    for name in (b"t0", b"t1", b"t2"):
        put(service, "s", name)
        clock.advance(1_000)
    page = call(service, "GetRecords", ShardIterator=shard_iterator(service, "s", "TRIM_HORIZON"))
    assert [r["ApproximateArrivalTimestamp"] for r in page["Records"]] == [
        start / 1000,
        (start + 1_000) / 1000,
        (start + 2_000) / 1000,
    ]

    def at(ms: int) -> list[bytes]:
        return read_all(service, shard_iterator(service, "s", "AT_TIMESTAMP", Timestamp=ms / 1000))

    assert at(start - 60_000) == [b"t0", b"t1", b"t2"]
    assert at(start + 1_000) == [b"t1", b"t2"]
    assert at(start + 1_001) == [b"t2"]
    it = shard_iterator(service, "s", "AT_TIMESTAMP", Timestamp=clock.now / 1000)
    put(service, "s", b"t3")
    assert read_all(service, it) == [b"t3"]  # nothing at or after the time yet: like LATEST
    err = error(service, "GetShardIterator", StreamName="s", ShardId="0",
                ShardIteratorType="AT_TIMESTAMP", Timestamp=(clock.now + 1) / 1000)  # fmt: skip
    assert err.code == "InvalidArgumentException"
    assert err.message == (
        "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. "
        f"timestampInMillis: {clock.now + 1}, currentTimestampInMillis: {clock.now}"
    )


# --- retention ---------------------------------------------------------------------------------


def test_retention_trims_records(service: KinesisService, clock: Clock) -> None:
    call(service, "CreateStream", StreamName="s", ShardCount=1)
    call(service, "CreateStream", StreamName="long", ShardCount=1)
    call(service, "IncreaseStreamRetentionPeriod", StreamName="long", RetentionPeriodHours=48)
    put(service, "s", b"old")
    put(service, "long", b"old")
    clock.advance(23 * HOUR)
    put(service, "s", b"new")
    trim_horizon = shard_iterator(service, "s", "TRIM_HORIZON")
    clock.advance(HOUR + 1)
    # Past retention, a record is no longer served even before the retention pass runs...
    assert read_all(service, shard_iterator(service, "s", "TRIM_HORIZON")) == [b"new"]
    # ...and the pass deletes it (only it: the 48 h stream keeps its record).
    assert service.expire(clock.now) == 1
    assert read_all(service, shard_iterator(service, "s", "TRIM_HORIZON")) == [b"new"]
    assert read_all(service, shard_iterator(service, "long", "TRIM_HORIZON")) == [b"old"]
    assert service.expire(clock.now) == 0
    clock.advance(25 * HOUR)
    assert service.expire() == 2  # the default: the service's own clock
    assert read_all(service, shard_iterator(service, "s", "TRIM_HORIZON")) == []
    with pytest.raises(ServiceError):  # the old iterator expired long ago
        read_all(service, trim_horizon)


def test_deleted_stream_records_are_purged_and_never_resurface(
    service: KinesisService, store: SqliteStreamStore
) -> None:
    call(service, "CreateStream", StreamName="s", ShardCount=1)
    for i in range(12):
        put(service, "s", b"%d" % i)
    old_iterator = shard_iterator(service, "s", "TRIM_HORIZON")
    call(service, "DeleteStream", StreamName="s")
    call(service, "CreateStream", StreamName="s", ShardCount=1)
    assert read_all(service, shard_iterator(service, "s", "TRIM_HORIZON")) == []
    put(service, "s", b"fresh")
    # The old iterator belongs to the deleted stream: it fails as that stream's shard, rather
    # than reading the namesake from the old stream's position (it would skip records).
    with pytest.raises(ServiceError, match="ResourceNotFoundException"):
        read_all(service, old_iterator)
    assert read_all(service, shard_iterator(service, "s", "TRIM_HORIZON")) == [b"fresh"]
    assert service.expire() == 12
    assert store._db.read().execute("SELECT count(*) FROM records").fetchone() == (1,)
    assert store._db.read().execute("SELECT count(*) FROM purges").fetchone() == (0,)


# --- throttling --------------------------------------------------------------------------------


def test_shard_write_limits(service: KinesisService, clock: Clock) -> None:
    call(service, "CreateStream", StreamName="s", ShardCount=2)
    # Both records of shard 0 fill its 1,000 records/s; shard 1 is independent.
    zero, one = "0", str(2**127)
    batch = [{"Data": b"x", "PartitionKey": "k", "ExplicitHashKey": zero}] * 500
    assert call(service, "PutRecords", StreamName="s", Records=batch)["FailedRecordCount"] == 0
    assert call(service, "PutRecords", StreamName="s", Records=batch)["FailedRecordCount"] == 0
    mixed = [
        {"Data": b"x", "PartitionKey": "k", "ExplicitHashKey": zero},
        {"Data": b"y", "PartitionKey": "k", "ExplicitHashKey": one},
    ]
    result = call(service, "PutRecords", StreamName="s", Records=mixed)
    assert result["FailedRecordCount"] == 1
    assert result["Records"][0]["ErrorCode"] == "ProvisionedThroughputExceededException"
    assert result["Records"][1]["ShardId"] == "shardId-000000000001"
    err = error(service, "PutRecord", StreamName="s", Data=b"x", PartitionKey="k",
                ExplicitHashKey=zero)  # fmt: skip
    assert err.code == "ProvisionedThroughputExceededException"
    assert err.message == (
        f"Rate exceeded for shard shardId-000000000000 in stream s under account {ACCOUNT}."
    )
    clock.advance(1)  # a millisecond refills one record's allowance
    put_zero = {"StreamName": "s", "Data": b"x", "PartitionKey": "k", "ExplicitHashKey": zero}
    assert call(service, "PutRecord", **put_zero)["ShardId"] == "shardId-000000000000"
    assert error(service, "PutRecord", **put_zero).code == "ProvisionedThroughputExceededException"
    # Bytes: 1 MiB (data and partition key) per second.
    clock.advance(1_000)
    big = b"z" * (1024 * 1024 - 1)  # with its 1-byte key: exactly one second's allowance
    assert call(service, "PutRecord", **{**put_zero, "Data": big})
    clock.advance(500)
    assert error(service, "PutRecord", **{**put_zero, "Data": big}).code.startswith("Provisioned")
    clock.advance(500)
    assert call(service, "PutRecord", **{**put_zero, "Data": big})
    clock.advance(10_000)
    assert call(service, "PutRecord", **{**put_zero, "Data": big + b"z"})  # the largest record
    # In-process deliveries are not throttled.
    for _ in range(1_500):
        service.put_internal("s", b"d", "k")


# --- the dispatcher's API ----------------------------------------------------------------------


def test_put_internal(service: KinesisService) -> None:
    with pytest.raises(ServiceError) as err:
        service.put_internal("missing", b"x", "k")
    assert err.value.code == "ResourceNotFoundException"
    assert err.value.message == f"Stream missing under account {ACCOUNT} not found."
    assert not service.exists("missing")
    call(service, "CreateStream", StreamName="dest", ShardCount=4)
    assert service.exists("dest")
    arn = service.stream_arn("dest")
    assert arn == f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/dest"
    assert service.exists(arn)
    assert not service.exists("arn:aws:kinesis:us-east-1:999999999999:stream/dest")

    shards = call(service, "ListShards", StreamName="dest")["Shards"]
    written = []
    for i in range(20):
        key = f"group:stream-{i}"
        shard, seq = service.put_internal("dest" if i % 2 else arn, b"payload %d" % i, key)
        expected = next(
            s["ShardId"]
            for s in shards
            if int(s["HashKeyRange"]["StartingHashKey"])
            <= md5_int(key)
            <= int(s["HashKeyRange"]["EndingHashKey"])
        )
        assert shard == expected
        written.append((shard, seq, b"payload %d" % i, key))
    for shard in {w[0] for w in written}:
        it = call(service, "GetShardIterator", StreamName="dest", ShardId=shard,
                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]  # fmt: skip
        records = call(service, "GetRecords", ShardIterator=it)["Records"]
        assert [(r["SequenceNumber"], r["Data"], r["PartitionKey"]) for r in records] == [
            (seq, data, key) for s, seq, data, key in written if s == shard
        ]
    for data, key in ((b"x" * (1024 * 1024 + 1), "k"), (b"x", ""), (b"x", "k" * 257)):
        with pytest.raises(ServiceError) as err:
            service.put_internal("dest", data, key)
        assert err.value.code == "ValidationException"
    other_region = "arn:aws:kinesis:eu-west-1:123456789012:stream/dest"
    assert not service.exists(other_region)
    with pytest.raises(ServiceError) as err:
        service.put_internal(other_region, b"x", "k")
    assert err.value.code == "ResourceNotFoundException"


def test_put_internal_on_a_stream_that_is_not_active(service: KinesisService, store) -> None:
    call(service, "CreateStream", StreamName="s", ShardCount=1)
    with store._db.write() as conn:
        conn.execute("UPDATE streams SET status = 'CREATING'")
    with pytest.raises(ServiceError) as err:
        service.put_internal("s", b"x", "k")
    assert err.value.code == "ResourceInUseException"  # retryable: not a missing stream


# --- identifiers -------------------------------------------------------------------------------


def test_sequence_number_layout() -> None:
    created = 1_700_000_000_123
    number = sequence_number(created, 5, 123_456, created + 42_000)
    assert len(number) == 56
    parsed = parse_sequence_number(number)
    assert parsed is not None
    assert (parsed.created_s, parsed.shard, parsed.seq, parsed.arrival_s) == (
        1_700_000_000,
        5,
        123_456,
        1_700_000_042,
    )
    # Within a shard the number grows with seq whatever the arrival times.
    assert int(sequence_number(created, 5, 7, created)) > int(
        sequence_number(created, 5, 6, created + 10**9)
    )
    assert int(starting_sequence_number(created, 5)) < int(sequence_number(created, 5, 1, created))
    for bad in ("0", "5", "1" * 56, "9" * 57, number[:-1] + "3", "", "12a"):
        assert parse_sequence_number(bad) is None, bad


def test_shard_ids_and_routing() -> None:
    assert [shard_index(s) for s in ("shardId-000000000007", "shard-7", "7", "x-07")] == [7] * 4
    assert shard_index("shardId-2147483648") is None
    assert shard_index("nonsense") is None
    assert shard_for_hash(0, 3) == 0
    assert shard_for_hash(2**128 - 1, 3) == 2
    assert shard_for_hash(2**128 // 3, 3) == 1
    assert shard_for_hash(2**128 // 3 - 1, 3) == 0
