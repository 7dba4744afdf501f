"""Stream lifecycle, descriptions, listings, tags and retention through boto3 on the real server."""

from __future__ import annotations

import base64
import json
import re
import uuid

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.kinesis.conftest import ACCOUNT, code, message
from tests.server import ACCESS_KEY, SECRET_KEY

HASH_SPACE = 2**128


def test_stream_lifecycle(kinesis, new_stream) -> None:
    name = new_stream(shards=2)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"MaxAttempts": 1})
    description = kinesis.describe_stream(StreamName=name)["StreamDescription"]
    assert description["StreamName"] == name
    assert description["StreamARN"] == f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{name}"
    assert description["StreamStatus"] == "ACTIVE"
    assert description["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert description["RetentionPeriodHours"] == 24
    assert description["HasMoreShards"] is False
    assert description["EncryptionType"] == "NONE"
    assert [s["ShardId"] for s in description["Shards"]] == [
        "shardId-000000000000",
        "shardId-000000000001",
    ]
    created = description["StreamCreationTimestamp"]

    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 2
    assert summary["StreamCreationTimestamp"] == created
    assert summary["StreamARN"] == description["StreamARN"]
    assert summary["ConsumerCount"] == 0

    with pytest.raises(kinesis.exceptions.ResourceInUseException) as err:
        kinesis.create_stream(StreamName=name, ShardCount=1)
    assert message(err) == f"Stream {name} under account {ACCOUNT} already exists."

    kinesis.delete_stream(StreamName=name)
    kinesis.get_waiter("stream_not_exists").wait(StreamName=name, WaiterConfig={"MaxAttempts": 1})
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException) as err:
        kinesis.describe_stream_summary(StreamName=name)
    assert message(err) == f"Stream {name} under account {ACCOUNT} not found."
    with pytest.raises(ClientError) as err:
        kinesis.delete_stream(StreamName=name)
    assert code(err) == "ResourceNotFoundException"


def test_stream_arn_works_wherever_a_name_does(kinesis, new_stream) -> None:
    name = new_stream(shards=1)
    arn = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{name}"
    assert (
        kinesis.describe_stream_summary(StreamARN=arn)["StreamDescriptionSummary"]["StreamName"]
        == name
    )
    put = kinesis.put_record(StreamARN=arn, Data=b"by arn", PartitionKey="k")
    iterator = kinesis.get_shard_iterator(
        StreamARN=arn, ShardId=put["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=iterator)["Records"]] == [
        b"by arn"
    ]
    other = f"arn:aws:kinesis:us-east-1:999999999999:stream/{name}"
    with pytest.raises(ClientError) as err:
        kinesis.describe_stream_summary(StreamARN=other)
    assert code(err) == "ResourceNotFoundException"
    assert message(err) == f"Stream {name} under account 999999999999 not found."


@pytest.mark.parametrize("count", [1, 2, 3, 7, 16])
def test_hash_key_ranges_split_the_space_evenly(kinesis, new_stream, count: int) -> None:
    name = new_stream(shards=count)
    shards = kinesis.list_shards(StreamName=name)["Shards"]
    assert [s["ShardId"] for s in shards] == [f"shardId-{i:012d}" for i in range(count)]
    width = HASH_SPACE // count
    for i, shard in enumerate(shards):
        start = int(shard["HashKeyRange"]["StartingHashKey"])
        end = int(shard["HashKeyRange"]["EndingHashKey"])
        assert start == i * width
        assert end == (HASH_SPACE - 1 if i == count - 1 else (i + 1) * width - 1)
        assert "EndingSequenceNumber" not in shard["SequenceNumberRange"]
        assert re.fullmatch(r"\d{56}", shard["SequenceNumberRange"]["StartingSequenceNumber"])
    if count == 1:
        assert shards[0]["HashKeyRange"] == {
            "StartingHashKey": "0",
            "EndingHashKey": "340282366920938463463374607431768211455",
        }


def test_stream_modes(kinesis, new_stream) -> None:
    on_demand = new_stream(shards=None, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    summary = kinesis.describe_stream_summary(StreamName=on_demand)["StreamDescriptionSummary"]
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert summary["OpenShardCount"] == 4
    bare = new_stream(shards=None)  # `aws kinesis create-stream --stream-name x` works on AWS
    summary = kinesis.describe_stream_summary(StreamName=bare)["StreamDescriptionSummary"]
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}

    name = f"test-{uuid.uuid4().hex[:12]}"
    with pytest.raises(ClientError) as err:
        kinesis.create_stream(
            StreamName=name, ShardCount=2, StreamModeDetails={"StreamMode": "ON_DEMAND"}
        )
    assert code(err) == "InvalidArgumentException"
    with pytest.raises(ClientError) as err:
        kinesis.create_stream(StreamName=name, StreamModeDetails={"StreamMode": "PROVISIONED"})
    assert code(err) == "InvalidArgumentException"
    with pytest.raises(ClientError) as err:
        kinesis.describe_stream(StreamName=name)
    assert code(err) == "ResourceNotFoundException"  # neither attempt created it


def test_model_validation_is_a_validation_exception(kinesis) -> None:
    with pytest.raises(ClientError) as err:
        kinesis.create_stream(StreamName="bad name", ShardCount=1)
    assert code(err) == "ValidationException"
    assert message(err) == (
        "1 validation error detected: Value 'bad name' at 'streamName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
    )


def test_shard_limit(kinesis) -> None:
    name = f"test-{uuid.uuid4().hex[:12]}"
    with pytest.raises(kinesis.exceptions.LimitExceededException) as err:
        kinesis.create_stream(StreamName=name, ShardCount=100_000)
    assert message(err).startswith(
        f"This request would exceed the shard limit for the account {ACCOUNT} in us-east-1. "
    )
    assert "Number of additional shards that would have resulted from this request: 100000." in (
        message(err)
    )


def test_list_streams_pages(kinesis, new_stream) -> None:
    mine = sorted(new_stream(shards=1) for _ in range(7))
    seen: list[str] = []
    pages = kinesis.get_paginator("list_streams").paginate(PaginationConfig={"PageSize": 2})
    for page in pages:
        assert len(page["StreamNames"]) <= 2
        assert [s["StreamName"] for s in page["StreamSummaries"]] == page["StreamNames"]
        for summary in page["StreamSummaries"]:
            assert summary["StreamARN"].endswith(f":stream/{summary['StreamName']}")
            assert summary["StreamStatus"] == "ACTIVE"
        assert page["HasMoreStreams"] == ("NextToken" in page)
        seen += page["StreamNames"]
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert [n for n in seen if n in mine] == mine

    # The older way to page: ExclusiveStartStreamName.
    page = kinesis.list_streams(Limit=3, ExclusiveStartStreamName=mine[1])
    assert page["StreamNames"][0] == mine[2]
    assert page["StreamNames"] == sorted(page["StreamNames"])

    with pytest.raises(ClientError) as err:
        kinesis.list_streams(NextToken="not-a-token")
    assert code(err) == "InvalidArgumentException"


def test_describe_stream_pages_shards(kinesis, new_stream) -> None:
    name = new_stream(shards=5)
    first = kinesis.describe_stream(StreamName=name, Limit=2)["StreamDescription"]
    assert [s["ShardId"][-1] for s in first["Shards"]] == ["0", "1"]
    assert first["HasMoreShards"] is True
    pages = kinesis.get_paginator("describe_stream").paginate(
        StreamName=name, PaginationConfig={"PageSize": 2}
    )
    result = pages.build_full_result()
    assert [s["ShardId"] for s in result["StreamDescription"]["Shards"]] == [
        f"shardId-{i:012d}" for i in range(5)
    ]


def test_list_shards_pages_with_next_token_alone(kinesis, new_stream) -> None:
    name = new_stream(shards=5)
    page = kinesis.list_shards(StreamName=name, MaxResults=2)
    ids = [s["ShardId"] for s in page["Shards"]]
    token = page["NextToken"]
    # AWS refuses the stream's name next to a NextToken (the token names the stream).
    with pytest.raises(ClientError) as err:
        kinesis.list_shards(StreamName=name, NextToken=token)
    assert code(err) == "InvalidArgumentException"
    assert message(err) == "NextToken and StreamName cannot be provided together."
    with pytest.raises(ClientError) as err:
        kinesis.list_shards(NextToken=token, ExclusiveStartShardId="shardId-000000000000")
    assert message(err) == "NextToken and ExclusiveStartShardId cannot be provided together."
    while token:
        page = kinesis.list_shards(NextToken=token, MaxResults=2)
        ids += [s["ShardId"] for s in page["Shards"]]
        token = page.get("NextToken")
    assert ids == [f"shardId-{i:012d}" for i in range(5)]

    after = kinesis.list_shards(StreamName=name, ExclusiveStartShardId="shardId-000000000002")
    assert [s["ShardId"][-1] for s in after["Shards"]] == ["3", "4"]
    filtered = kinesis.list_shards(
        StreamName=name, ShardFilter={"Type": "AFTER_SHARD_ID", "ShardId": "shardId-000000000003"}
    )
    assert [s["ShardId"][-1] for s in filtered["Shards"]] == ["4"]
    horizon = kinesis.list_shards(StreamName=name, ShardFilter={"Type": "AT_TRIM_HORIZON"})
    assert len(horizon["Shards"]) == 5
    with pytest.raises(ClientError) as err:
        kinesis.list_shards()
    assert code(err) == "InvalidArgumentException"
    with pytest.raises(ClientError) as err:
        kinesis.list_shards(NextToken="garbage")
    assert code(err) == "InvalidArgumentException"


def test_tags(kinesis, new_stream) -> None:
    name = new_stream(shards=1, Tags={"team": "ops"})
    kinesis.add_tags_to_stream(StreamName=name, Tags={"env": "dev", "team": "sre"})
    tags = kinesis.list_tags_for_stream(StreamName=name)
    assert tags["Tags"] == [{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "sre"}]
    assert tags["HasMoreTags"] is False
    page = kinesis.list_tags_for_stream(StreamName=name, Limit=1)
    assert page["Tags"] == [{"Key": "env", "Value": "dev"}] and page["HasMoreTags"] is True
    rest = kinesis.list_tags_for_stream(StreamName=name, ExclusiveStartTagKey="env")
    assert rest["Tags"] == [{"Key": "team", "Value": "sre"}]
    kinesis.remove_tags_from_stream(StreamName=name, TagKeys=["env"])
    assert kinesis.list_tags_for_stream(StreamName=name)["Tags"] == [
        {"Key": "team", "Value": "sre"}
    ]
    with pytest.raises(ClientError) as err:
        kinesis.add_tags_to_stream(StreamName=name, Tags={f"k{i}": "v" for i in range(50)})
    assert code(err) == "InvalidArgumentException"
    assert "cannot have more than 50 tags" in message(err)


def test_retention_period(kinesis, new_stream) -> None:
    name = new_stream(shards=1)
    kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=48)
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summary["RetentionPeriodHours"] == 48
    with pytest.raises(ClientError) as err:
        kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=30)
    assert code(err) == "InvalidArgumentException"
    assert message(err).endswith("Use DecreaseRetentionPeriod API.")
    with pytest.raises(ClientError) as err:
        kinesis.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=12)
    assert message(err) == (
        "Minimum allowed retention period is 24 hours. Requested retention period (12 hours) "
        "is too short."
    )
    kinesis.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=24)
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summary["RetentionPeriodHours"] == 24


def _signed_post(server, target: str, service: str) -> httpx.Response:
    body = b"{}"
    request = AWSRequest(
        method="POST",
        url=server.url + "/",
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target},
    )
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), service, "us-east-1").add_auth(request)
    return httpx.post(server.url + "/", content=body, headers=dict(request.headers.items()))


def test_each_service_checks_its_own_credential_scope(server) -> None:
    """A Kinesis call signed for ``logs`` is refused, one signed for ``kinesis`` is served."""
    refused = _signed_post(server, "Kinesis_20131202.ListStreams", "logs")
    assert refused.status_code == 400
    assert refused.json()["__type"] == "InvalidSignatureException"
    assert refused.headers["x-amzn-errortype"] == "InvalidSignatureException"
    served = _signed_post(server, "Kinesis_20131202.ListStreams", "kinesis")
    assert served.status_code == 200, served.text
    assert "StreamNames" in served.json()
    unknown = _signed_post(server, "Kinesis_20131202.SplitShard", "kinesis")
    assert unknown.status_code == 400
    assert unknown.json()["__type"] == "UnknownOperationException"


def _token(state: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("operation", "token"),
    [
        ("list_streams", _token({"after": 5})),
        ("list_streams", _token([1, 2])),
        ("list_shards", _token({"stream": 1, "created": 0, "next": 0, "issued": 0})),
        ("list_shards", _token({"stream": "s", "created": "0", "next": 0, "issued": 0})),
        ("list_shards", _token({"stream": "s", "created": 0, "next": 0})),
        ("list_shards", "%%%"),
    ],
)
def test_forged_next_tokens_are_invalid_arguments(kinesis, operation: str, token: str) -> None:
    with pytest.raises(ClientError) as err:
        getattr(kinesis, operation)(NextToken=token)
    assert code(err) == "InvalidArgumentException"


def test_list_shards_token_for_a_recreated_stream(kinesis, new_stream) -> None:
    name = new_stream(shards=3)
    token = kinesis.list_shards(StreamName=name, MaxResults=1)["NextToken"]
    kinesis.delete_stream(StreamName=name)
    with pytest.raises(ClientError) as err:
        kinesis.list_shards(NextToken=token)
    assert code(err) == "ResourceNotFoundException"
