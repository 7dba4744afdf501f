"""Log groups, streams, retention and tags through boto3 against the real server."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError


def name(prefix: str = "g") -> str:
    return f"/test/{prefix}-{uuid.uuid4().hex[:10]}"


def code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return err.value.response["Error"]["Code"]


def test_group_lifecycle(logs) -> None:
    group = name()
    logs.create_log_group(logGroupName=group, tags={"team": "ops"})
    found = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert [g["logGroupName"] for g in found] == [group]
    item = found[0]
    assert item["arn"].endswith(f":log-group:{group}:*")
    assert item["logGroupArn"] == item["arn"][:-2]
    assert item["storedBytes"] == 0 and item["metricFilterCount"] == 0
    assert "retentionInDays" not in item
    assert item["logGroupClass"] == "STANDARD"
    with pytest.raises(ClientError) as err:
        logs.create_log_group(logGroupName=group)
    assert code(err) == "ResourceAlreadyExistsException"
    assert logs.list_tags_log_group(logGroupName=group)["tags"] == {"team": "ops"}
    logs.delete_log_group(logGroupName=group)
    with pytest.raises(ClientError) as err:
        logs.delete_log_group(logGroupName=group)
    assert code(err) == "ResourceNotFoundException"
    assert err.value.response["Error"]["Message"] == "The specified log group does not exist."


def test_invalid_names_get_the_model_message(logs) -> None:
    with pytest.raises(ClientError) as err:
        logs.create_log_group(logGroupName="bad name")
    assert code(err) == "InvalidParameterException"
    assert err.value.response["Error"]["Message"].startswith(
        "1 validation error detected: Value 'bad name' at 'logGroupName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern"
    )
    with pytest.raises(ClientError) as err:
        logs.create_log_group(logGroupName="aws/reserved")
    assert code(err) == "InvalidParameterException"


def test_describe_groups_pages_and_filters(logs) -> None:
    base = name("page")
    for i in range(7):
        logs.create_log_group(logGroupName=f"{base}/{i}")
    pages = logs.get_paginator("describe_log_groups").paginate(
        logGroupNamePrefix=base, PaginationConfig={"PageSize": 3}
    )
    names = [g["logGroupName"] for page in pages for g in page["logGroups"]]
    assert names == [f"{base}/{i}" for i in range(7)]
    middle = base.split("-")[-1]
    matched = logs.describe_log_groups(logGroupNamePattern=middle)["logGroups"]
    assert len(matched) == 7
    with pytest.raises(ClientError) as err:
        logs.describe_log_groups(logGroupNamePrefix=base, logGroupNamePattern=middle)
    assert code(err) == "InvalidParameterException"
    assert logs.describe_log_groups(logGroupNamePrefix=name("none"))["logGroups"] == []


def test_streams(logs) -> None:
    group = name()
    logs.create_log_group(logGroupName=group)
    for s in ("b", "a", "c"):
        logs.create_log_stream(logGroupName=group, logStreamName=s)
    with pytest.raises(ClientError) as err:
        logs.create_log_stream(logGroupName=group, logStreamName="a")
    assert code(err) == "ResourceAlreadyExistsException"
    with pytest.raises(ClientError) as err:
        logs.create_log_stream(logGroupName=name("missing"), logStreamName="a")
    assert err.value.response["Error"]["Message"] == "The specified log group does not exist."
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["a", "b", "c"]
    assert "lastEventTimestamp" not in streams[0]
    assert streams[0]["arn"].endswith(f"log-group:{group}:log-stream:a")
    desc = logs.describe_log_streams(logGroupName=group, descending=True, limit=2)
    assert [s["logStreamName"] for s in desc["logStreams"]] == ["c", "b"]
    rest = logs.describe_log_streams(
        logGroupName=group, descending=True, limit=2, nextToken=desc["nextToken"]
    )
    assert [s["logStreamName"] for s in rest["logStreams"]] == ["a"]
    assert "nextToken" not in rest
    with pytest.raises(ClientError) as err:
        logs.describe_log_streams(
            logGroupName=group, orderBy="LastEventTime", logStreamNamePrefix="a"
        )
    assert err.value.response["Error"]["Message"] == (
        "Cannot order by LastEventTime with a logStreamNamePrefix."
    )
    logs.delete_log_stream(logGroupName=group, logStreamName="b")
    with pytest.raises(ClientError) as err:
        logs.delete_log_stream(logGroupName=group, logStreamName="b")
    assert err.value.response["Error"]["Message"] == "The specified log stream does not exist."


def test_retention(logs) -> None:
    group = name()
    logs.create_log_group(logGroupName=group)
    logs.put_retention_policy(logGroupName=group, retentionInDays=30)
    found = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    assert found["retentionInDays"] == 30
    with pytest.raises(ClientError) as err:
        logs.put_retention_policy(logGroupName=group, retentionInDays=2)
    assert (
        "Member must satisfy enum value set: [1, 3, 5, 7" in err.value.response["Error"]["Message"]
    )
    logs.delete_retention_policy(logGroupName=group)
    found = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    assert "retentionInDays" not in found


def test_tags(logs) -> None:
    group = name()
    logs.create_log_group(logGroupName=group)
    arn = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["logGroupArn"]
    logs.tag_resource(resourceArn=arn, tags={"a": "1", "b": "2"})
    logs.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}
    logs.tag_log_group(logGroupName=group, tags={"c": "3"})
    logs.untag_log_group(logGroupName=group, tags=["b"])
    assert logs.list_tags_log_group(logGroupName=group)["tags"] == {"c": "3"}
    with pytest.raises(ClientError) as err:
        logs.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(50)})
    assert code(err) == "TooManyTagsException"
    with pytest.raises(ClientError) as err:
        logs.list_tags_for_resource(resourceArn=arn + "-nope")
    assert code(err) == "ResourceNotFoundException"
