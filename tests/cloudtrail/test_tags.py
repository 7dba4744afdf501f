"""Trail tags through boto3 and the aws CLI: AddTags, ListTags, RemoveTags, CreateTrail's
TagsList; AWS's errors; tags kept across a restart."""

from __future__ import annotations

import botocore.exceptions
import pytest

from tests.cloudtrail.conftest import ACCOUNT
from tests.waiting import wait_for

ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/"


def _error(excinfo: pytest.ExceptionInfo) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def _tags(client, *names: str) -> dict[str, dict[str, str | None]]:
    pages = client.get_paginator("list_tags").paginate(ResourceIdList=[ARN + n for n in names])
    found: dict[str, dict[str, str | None]] = {}
    for page in pages:
        for item in page["ResourceTagList"]:
            assert item["ResourceId"] not in found  # a resource is never split across pages
            found[item["ResourceId"]] = {t["Key"]: t.get("Value") for t in item["TagsList"]}
    return found


@pytest.fixture
def tagged(trail_client):
    trail_client.create_trail(
        Name="tagged", S3BucketName="b", TagsList=[{"Key": "team", "Value": "sec"}]
    )
    yield ARN + "tagged"
    trail_client.delete_trail(Name="tagged")


def test_tags_are_added_listed_and_removed(trail_client, tagged) -> None:
    assert _tags(trail_client, "tagged") == {tagged: {"team": "sec"}}
    trail_client.add_tags(
        ResourceId=tagged,
        TagsList=[{"Key": "team", "Value": "ops"}, {"Key": "env", "Value": "prod"},
                  {"Key": "novalue"}],
    )  # fmt: skip
    assert _tags(trail_client, "tagged") == {
        tagged: {"env": "prod", "novalue": None, "team": "ops"}
    }
    # RemoveTags removes by key; a value that differs or a key the trail lacks is ignored.
    trail_client.remove_tags(
        ResourceId=tagged, TagsList=[{"Key": "team", "Value": "other"}, {"Key": "absent"}]
    )
    assert _tags(trail_client, "tagged") == {tagged: {"env": "prod", "novalue": None}}


def test_list_tags_answers_for_several_trails_and_pages(trail_client) -> None:
    names = ["page-a", "page-b", "page-c"]
    for name in names:
        trail_client.create_trail(Name=name, S3BucketName="b")
        trail_client.add_tags(
            ResourceId=ARN + name,
            TagsList=[{"Key": f"k{i:02}", "Value": name} for i in range(50)],
        )
    try:
        first = trail_client.list_tags(ResourceIdList=[ARN + n for n in names])
        assert "NextToken" in first  # 150 tags do not fit one page
        listed = _tags(trail_client, *names)
        assert list(listed) == [ARN + n for n in names]
        assert all(len(tags) == 50 and set(tags.values()) == {n}
                   for n, tags in zip(names, listed.values(), strict=True))  # fmt: skip
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            trail_client.list_tags(ResourceIdList=[ARN + "page-a"], NextToken="garbage")
        assert _error(excinfo)[0] == "InvalidTokenException"
    finally:
        for name in names:
            trail_client.delete_trail(Name=name)


@pytest.mark.parametrize(
    ("resource", "code", "message"),
    [
        ("tagged", "CloudTrailARNInvalidException",
         "Invalid trail ARN: tagged. The ARN must be in the format "
         "arn:aws:cloudtrail:<region>:<account-id>:trail/<trail-name>."),
        (ARN + "ghost", "CloudTrailARNInvalidException",
         "You must specify an ARN that the caller account can access."),
        ("arn:aws:cloudtrail:us-east-1:210987654321:trail/tagged",
         "CloudTrailARNInvalidException",
         "You must specify an ARN that the caller account can access."),
        (f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:eventdatastore/0f6b8e1e-1111-2222",
         "ResourceNotFoundException",
         f"Resource arn:aws:cloudtrail:us-east-1:{ACCOUNT}:eventdatastore/0f6b8e1e-1111-2222 "
         "not found."),
    ],
)  # fmt: skip
def test_unknown_resources(trail_client, tagged, resource, code, message) -> None:
    for call in (
        lambda: trail_client.add_tags(ResourceId=resource, TagsList=[{"Key": "k"}]),
        lambda: trail_client.remove_tags(ResourceId=resource, TagsList=[{"Key": "k"}]),
        lambda: trail_client.list_tags(ResourceIdList=[tagged, resource]),
    ):
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            call()
        assert _error(excinfo) == (code, message)


def test_tag_limits_and_bad_tags(trail_client, tagged) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        trail_client.add_tags(
            ResourceId=tagged, TagsList=[{"Key": f"k{i}", "Value": "v"} for i in range(50)]
        )  # 50 new keys on top of "team"
    assert _error(excinfo) == (
        "TagsLimitExceededException",
        "The number of tags per trail has exceeded the permitted amount. "
        "Currently, the limit is 50.",
    )
    assert _tags(trail_client, "tagged") == {tagged: {"team": "sec"}}  # nothing applied
    trail_client.add_tags(ResourceId=tagged, TagsList=[{"Key": f"k{i}"} for i in range(49)])
    for tags, message in [
        ([{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}],
         "Duplicate tag keys are not allowed: a."),
        ([{"Key": "aws:reserved", "Value": "1"}],
         "Tag keys starting with 'aws:' are reserved for internal use: aws:reserved."),
        ([{"Key": "bad{key}"}],
         "Tag key bad{key} may only contain letters, numbers, spaces and _.:/=+-@."),
    ]:  # fmt: skip
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            trail_client.add_tags(ResourceId=tagged, TagsList=tags)
        assert _error(excinfo) == ("InvalidTagParameterException", message)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        trail_client.create_trail(
            Name="too-many", S3BucketName="b", TagsList=[{"Key": f"k{i}"} for i in range(51)]
        )
    assert _error(excinfo)[0] == "TagsLimitExceededException"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        trail_client.get_trail(Name="too-many")
    assert _error(excinfo)[0] == "TrailNotFoundException"


def test_list_tags_takes_at_most_20_resources(trail_client, tagged) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        trail_client.list_tags(ResourceIdList=[tagged] * 21)
    assert _error(excinfo) == (
        "InvalidParameterException",
        "ResourceIdList has a limit of 20 ARNs; 21 were given.",
    )


def test_tags_survive_a_restart(ct_server, trail_client) -> None:
    trail_client.create_trail(Name="kept", S3BucketName="b", TagsList=[{"Key": "a", "Value": "1"}])
    trail_client.add_tags(ResourceId=ARN + "kept", TagsList=[{"Key": "b", "Value": "2"}])
    ct_server.stop()
    ct_server.start()
    try:
        assert _tags(trail_client, "kept") == {ARN + "kept": {"a": "1", "b": "2"}}
    finally:
        trail_client.delete_trail(Name="kept")


def test_tag_changes_are_recorded_against_the_trail(trail_client, tagged) -> None:
    trail_client.add_tags(ResourceId=tagged, TagsList=[{"Key": "recorded", "Value": "yes"}])

    def found() -> list[dict]:
        events = trail_client.lookup_events(
            LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": tagged}]
        )["Events"]
        return [e for e in events if e["EventName"] == "AddTags"]

    event = wait_for(found, what="AddTags recorded against the trail")[0]
    assert event["Resources"] == [
        {"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": tagged}
    ]
