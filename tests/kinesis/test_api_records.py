"""Writing and reading records through boto3 on the real server: routing, sequence numbers,
every iterator type, ordering, PutRecords partial failures, errors, and a consumer loop."""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections import defaultdict
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.kinesis.conftest import ACCOUNT, code, md5_int, message, owning_shard

HASH_SPACE = 2**128


def iterator(kinesis, stream: str, shard: str, kind: str, **kwargs: Any) -> str:
    return kinesis.get_shard_iterator(
        StreamName=stream, ShardId=shard, ShardIteratorType=kind, **kwargs
    )["ShardIterator"]


def drain(kinesis, shard_iterator: str, limit: int | None = None) -> list[dict[str, Any]]:
    """Every record from an iterator until the shard's tip (MillisBehindLatest 0)."""
    records: list[dict[str, Any]] = []
    for _ in range(10_000):
        kwargs = {"Limit": limit} if limit else {}
        page = kinesis.get_records(ShardIterator=shard_iterator, **kwargs)
        records += page["Records"]
        shard_iterator = page["NextShardIterator"]
        if page["MillisBehindLatest"] == 0:
            return records
    raise AssertionError("GetRecords never caught up")


def test_partition_key_picks_the_shard_md5_says(kinesis, new_stream) -> None:
    stream = new_stream(shards=4)
    shards = kinesis.list_shards(StreamName=stream)["Shards"]
    keys = [f"key-{i}" for i in range(120)] + ["ü✓ unicode", "x" * 256]
    for key in keys:
        put = kinesis.put_record(StreamName=stream, Data=key.encode(), PartitionKey=key)
        assert put["ShardId"] == owning_shard(shards, md5_int(key)), key
    # Every shard got some (MD5 spreads 120 keys over 4 ranges).
    assert len({owning_shard(shards, md5_int(k)) for k in keys}) == 4

    batch = kinesis.put_records(
        StreamName=stream,
        Records=[{"Data": b"b", "PartitionKey": f"batch-{i}"} for i in range(100)],
    )
    assert batch["FailedRecordCount"] == 0
    assert [r["ShardId"] for r in batch["Records"]] == [
        owning_shard(shards, md5_int(f"batch-{i}")) for i in range(100)
    ]


def test_explicit_hash_key_overrides_the_partition_key(kinesis, new_stream) -> None:
    stream = new_stream(shards=3)
    shards = kinesis.list_shards(StreamName=stream)["Shards"]
    for shard in shards:
        for edge in ("StartingHashKey", "EndingHashKey"):
            put = kinesis.put_record(
                StreamName=stream,
                Data=b"x",
                PartitionKey="same key every time",
                ExplicitHashKey=shard["HashKeyRange"][edge],
            )
            assert put["ShardId"] == shard["ShardId"]
    with pytest.raises(ClientError) as err:
        kinesis.put_record(
            StreamName=stream, Data=b"x", PartitionKey="k", ExplicitHashKey=str(HASH_SPACE)
        )
    assert code(err) == "InvalidArgumentException"
    assert message(err) == (
        "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
        f"Specified value was {HASH_SPACE}"
    )


def test_sequence_numbers(kinesis, new_stream) -> None:
    """56 decimal digits, increasing within a shard (as integers), unique in the stream."""
    stream = new_stream(shards=2)
    by_shard: dict[str, list[int]] = defaultdict(list)
    every: list[str] = []
    for i in range(60):
        put = kinesis.put_record(StreamName=stream, Data=b"%d" % i, PartitionKey=f"k{i % 7}")
        assert re.fullmatch(r"[1-9]\d{55}", put["SequenceNumber"])
        by_shard[put["ShardId"]].append(int(put["SequenceNumber"]))
        every.append(put["SequenceNumber"])
    batch = kinesis.put_records(
        StreamName=stream, Records=[{"Data": b"b", "PartitionKey": f"k{i}"} for i in range(40)]
    )
    for result in batch["Records"]:
        by_shard[result["ShardId"]].append(int(result["SequenceNumber"]))
        every.append(result["SequenceNumber"])
    assert len(set(every)) == len(every)
    starts = {
        s["ShardId"]: int(s["SequenceNumberRange"]["StartingSequenceNumber"])
        for s in kinesis.list_shards(StreamName=stream)["Shards"]
    }
    for shard, numbers in by_shard.items():
        assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
        assert numbers[0] > starts[shard]


def test_records_read_back_in_order_per_shard(kinesis, new_stream) -> None:
    stream = new_stream(shards=3)
    sent: dict[str, list[tuple[str, bytes, str]]] = defaultdict(list)
    for i in range(90):
        key = f"user-{i % 5}"
        data = bytes([i]) + b"\x00\xff payload %d" % i
        put = kinesis.put_record(StreamName=stream, Data=data, PartitionKey=key)
        sent[put["ShardId"]].append((put["SequenceNumber"], data, key))
    for shard, expected in sent.items():
        records = drain(kinesis, iterator(kinesis, stream, shard, "TRIM_HORIZON"), limit=7)
        assert [(r["SequenceNumber"], r["Data"], r["PartitionKey"]) for r in records] == expected
        for record in records:
            assert isinstance(record["ApproximateArrivalTimestamp"], dt.datetime)
            assert "EncryptionType" not in record


def test_iterator_types(kinesis, new_stream) -> None:
    stream = new_stream(shards=1)
    shard = "shardId-000000000000"

    def put(data: bytes) -> dict[str, Any]:
        return kinesis.put_record(StreamName=stream, Data=data, PartitionKey="p")

    def data(kind: str, **kwargs: Any) -> list[bytes]:
        return [r["Data"] for r in drain(kinesis, iterator(kinesis, stream, shard, kind, **kwargs))]

    first = [put(b"a%d" % i) for i in range(5)]
    latest = iterator(kinesis, stream, shard, "LATEST")
    assert kinesis.get_records(ShardIterator=latest)["Records"] == []
    later = [put(b"b%d" % i) for i in range(3)]

    everything = [b"a0", b"a1", b"a2", b"a3", b"a4", b"b0", b"b1", b"b2"]
    assert data("TRIM_HORIZON") == everything
    # LATEST: only what was written after the iterator was taken.
    assert [r["Data"] for r in drain(kinesis, latest)] == [b"b0", b"b1", b"b2"]
    at = first[3]["SequenceNumber"]
    assert data("AT_SEQUENCE_NUMBER", StartingSequenceNumber=at) == everything[3:]
    assert data("AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=at) == everything[4:]
    last = later[-1]["SequenceNumber"]
    assert data("AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=last) == []
    # The shard's StartingSequenceNumber reads from the beginning.
    shard_info = kinesis.list_shards(StreamName=stream)["Shards"][0]
    start = shard_info["SequenceNumberRange"]["StartingSequenceNumber"]
    assert data("AT_SEQUENCE_NUMBER", StartingSequenceNumber=start) == everything

    # AT_TIMESTAMP: the first record that arrived at or after the time, then everything after.
    records = drain(kinesis, iterator(kinesis, stream, shard, "TRIM_HORIZON"))
    pivot = records[5]["ApproximateArrivalTimestamp"]
    got = drain(kinesis, iterator(kinesis, stream, shard, "AT_TIMESTAMP", Timestamp=pivot))
    expected = [r for r in records if r["ApproximateArrivalTimestamp"] >= pivot]
    assert got == expected and got[-1] == records[-1]  # a suffix of the shard
    long_ago = dt.datetime(2001, 1, 1, tzinfo=dt.UTC)
    assert data("AT_TIMESTAMP", Timestamp=long_ago) == everything
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    with pytest.raises(ClientError) as err:
        iterator(kinesis, stream, shard, "AT_TIMESTAMP", Timestamp=soon)
    assert code(err) == "InvalidArgumentException"
    assert message(err).startswith(
        "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis."
    )


def test_shard_iterator_errors(kinesis, new_stream) -> None:
    stream = new_stream(shards=2)
    put = kinesis.put_record(
        StreamName=stream, Data=b"x", PartitionKey="k", ExplicitHashKey="0"
    )  # shard 0
    cases = [
        (
            {"ShardId": "shardId-000000000000", "ShardIteratorType": "AT_SEQUENCE_NUMBER"},
            "InvalidArgumentException",
            "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
            "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. "
            "Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.",
        ),
        (
            {
                "ShardId": "shardId-000000000000",
                "ShardIteratorType": "LATEST",
                "StartingSequenceNumber": put["SequenceNumber"],
            },
            "InvalidArgumentException",
            "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
            "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. "
            "Request specified LATEST and also a StartingSequenceNumber.",
        ),
        (
            {"ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP"},
            "InvalidArgumentException",
            "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
            "Current request has no timestamp parameter.",
        ),
        (
            {
                "ShardId": "shardId-000000000001",
                "ShardIteratorType": "AT_SEQUENCE_NUMBER",
                "StartingSequenceNumber": put["SequenceNumber"],
            },
            "InvalidArgumentException",
            "Invalid StartingSequenceNumber. It encodes shardId-000000000000, while it was used "
            "in a call to a shard with shardId-000000000001",
        ),
        (
            {
                "ShardId": "shardId-000000000000",
                "ShardIteratorType": "AT_SEQUENCE_NUMBER",
                "StartingSequenceNumber": "12345",
            },
            "InvalidArgumentException",
            f"StartingSequenceNumber 12345 used in GetShardIterator on shard shardId-000000000000 "
            f"in stream {stream} under account {ACCOUNT} is invalid.",
        ),
        (
            {"ShardId": "shardId-000000000002", "ShardIteratorType": "LATEST"},
            "ResourceNotFoundException",
            f"Shard shardId-000000000002 in stream {stream} under account {ACCOUNT} does not exist",
        ),
        (
            {"ShardId": "nonsense", "ShardIteratorType": "LATEST"},
            "ResourceNotFoundException",
            f"Could not find shard nonsense in stream {stream} under account {ACCOUNT}.",
        ),
    ]
    for kwargs, expected_code, expected_message in cases:
        with pytest.raises(ClientError) as err:
            kinesis.get_shard_iterator(StreamName=stream, **kwargs)
        assert (code(err), message(err)) == (expected_code, expected_message), kwargs
    # Kinesis reads the number after the hyphen: "shard-1" and "1" name shardId-000000000001.
    for alias in ("shard-1", "1", "shardId-1"):
        iterator(kinesis, stream, alias, "TRIM_HORIZON")

    # A sequence number from another stream (same shard) did not come from this one.
    other = new_stream(shards=1)
    foreign = kinesis.put_record(StreamName=other, Data=b"x", PartitionKey="k")
    number = int(foreign["SequenceNumber"])
    reused = str(number ^ (1 << 148))  # the creation time field differs, the rest is equal
    with pytest.raises(ClientError) as err:
        iterator(
            kinesis, other, "shardId-000000000000", "AT_SEQUENCE_NUMBER",
            StartingSequenceNumber=reused,
        )  # fmt: skip
    assert message(err).endswith("is invalid because it did not come from this stream.")


def test_get_records_errors(kinesis, new_stream) -> None:
    stream = new_stream(shards=1)
    it = iterator(kinesis, stream, "shardId-000000000000", "TRIM_HORIZON")
    raw = bytearray(base64.b64decode(it))
    raw[12] ^= 1
    for bad in ("garbage", base64.b64encode(bytes(raw)).decode(), it[:-4], it + "AAAA"):
        with pytest.raises(ClientError) as err:
            kinesis.get_records(ShardIterator=bad)
        assert (code(err), message(err)) == ("InvalidArgumentException", "Invalid ShardIterator.")
    kinesis.delete_stream(StreamName=stream)
    with pytest.raises(ClientError) as err:
        kinesis.get_records(ShardIterator=it)
    assert code(err) == "ResourceNotFoundException"
    assert message(err) == (
        f"Shard shardId-000000000000 in stream {stream} under account {ACCOUNT} does not exist"
    )


def test_put_errors(kinesis, new_stream) -> None:
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException) as err:
        kinesis.put_record(StreamName="no-such-stream-here", Data=b"x", PartitionKey="k")
    assert message(err) == f"Stream no-such-stream-here under account {ACCOUNT} not found."
    stream = new_stream(shards=1)
    with pytest.raises(ClientError) as err:
        kinesis.put_record(StreamName=stream, Data=b"x" * (1024 * 1024 + 1), PartitionKey="k")
    assert code(err) == "ValidationException"
    assert "Member must have length less than or equal to 1048576" in message(err)
    with pytest.raises(ClientError) as err:
        kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="k", DryRun=True)
    assert code(err) == "DryRunOperationException"
    it = iterator(kinesis, stream, "shardId-000000000000", "TRIM_HORIZON")
    assert kinesis.get_records(ShardIterator=it)["Records"] == []  # nothing was stored


def test_put_records_partial_failure_shape(kinesis, new_stream) -> None:
    """A shard takes 1 MiB per second: the second 700 KB record of one request is refused
    with a per-record error in a 200, the others are stored, results stay in request order."""
    stream = new_stream(shards=1)
    big = 700 * 1024
    result = kinesis.put_records(
        StreamName=stream,
        Records=[
            {"Data": b"1" * big, "PartitionKey": "a"},
            {"Data": b"2" * big, "PartitionKey": "b"},
            {"Data": b"small", "PartitionKey": "c"},
        ],
    )
    assert result["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert result["FailedRecordCount"] == 1
    ok1, failed, ok2 = result["Records"]
    assert set(ok1) == set(ok2) == {"SequenceNumber", "ShardId"}
    assert failed == {
        "ErrorCode": "ProvisionedThroughputExceededException",
        "ErrorMessage": f"Rate exceeded for shard shardId-000000000000 in stream {stream} "
        f"under account {ACCOUNT}.",
    }
    stored = drain(kinesis, iterator(kinesis, stream, "shardId-000000000000", "TRIM_HORIZON"))
    assert [(r["SequenceNumber"], r["PartitionKey"]) for r in stored] == [
        (ok1["SequenceNumber"], "a"),
        (ok2["SequenceNumber"], "c"),
    ]
    assert stored[0]["Data"] == b"1" * big


def test_millis_behind_latest_and_limit(kinesis, new_stream) -> None:
    stream = new_stream(shards=1)
    kinesis.put_records(
        StreamName=stream, Records=[{"Data": b"%d" % i, "PartitionKey": "k"} for i in range(10)]
    )
    it = iterator(kinesis, stream, "shardId-000000000000", "TRIM_HORIZON")
    page = kinesis.get_records(ShardIterator=it, Limit=4)
    assert [r["Data"] for r in page["Records"]] == [b"0", b"1", b"2", b"3"]
    assert page["MillisBehindLatest"] > 0  # records are left
    page = kinesis.get_records(ShardIterator=page["NextShardIterator"], Limit=100)
    assert len(page["Records"]) == 6
    assert page["MillisBehindLatest"] == 0
    tip = kinesis.get_records(ShardIterator=page["NextShardIterator"])
    assert tip["Records"] == [] and tip["MillisBehindLatest"] == 0
    assert tip["NextShardIterator"]
    # The same iterator can be used again: it is a position, not a cursor.
    again = kinesis.get_records(ShardIterator=it, Limit=2)
    assert [r["Data"] for r in again["Records"]] == [b"0", b"1"]


def test_a_plain_boto3_consumer_loop(kinesis, new_stream) -> None:
    """How users read a stream: list shards, TRIM_HORIZON iterators, GetRecords until caught up."""
    stream = new_stream(shards=4)
    sent: list[tuple[str, bytes]] = []
    for batch in range(5):
        records = [
            {"Data": f"event {batch}-{i}".encode(), "PartitionKey": f"device-{i % 9}"}
            for i in range(60)
        ]
        assert kinesis.put_records(StreamName=stream, Records=records)["FailedRecordCount"] == 0
        sent += [(r["PartitionKey"], r["Data"]) for r in records]

    received: list[dict[str, Any]] = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        shard_iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while True:
            response = kinesis.get_records(ShardIterator=shard_iterator, Limit=25)
            received.extend(response["Records"])
            shard_iterator = response["NextShardIterator"]
            if response["MillisBehindLatest"] == 0:
                break
    assert sorted(r["Data"] for r in received) == sorted(data for _, data in sent)
    # Per partition key, the order written is the order read (a key always maps to one shard).
    by_key: dict[str, list[bytes]] = defaultdict(list)
    for record in received:
        by_key[record["PartitionKey"]].append(record["Data"])
    assert len(by_key) == 9
    for key, data in by_key.items():
        assert data == [d for k, d in sent if k == key]


def test_an_iterator_of_a_deleted_stream_does_not_read_its_recreated_namesake(
    kinesis, new_stream
) -> None:
    stream = new_stream(shards=1)
    kinesis.put_record(StreamName=stream, Data=b"old", PartitionKey="k")
    old = iterator(kinesis, stream, "shardId-000000000000", "TRIM_HORIZON")
    kinesis.delete_stream(StreamName=stream)
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    kinesis.put_record(StreamName=stream, Data=b"new", PartitionKey="k")
    with pytest.raises(ClientError) as err:
        kinesis.get_records(ShardIterator=old)
    assert code(err) == "ResourceNotFoundException"
    assert message(err) == (
        f"Shard shardId-000000000000 in stream {stream} under account {ACCOUNT} does not exist"
    )
    fresh = iterator(kinesis, stream, "shardId-000000000000", "TRIM_HORIZON")
    assert [r["Data"] for r in drain(kinesis, fresh)] == [b"new"]
