"""Trails through boto3: AWS's shapes, messages and state, kept across a restart."""

from __future__ import annotations

import botocore.exceptions
import pytest

from tests.cloudtrail.conftest import ACCOUNT, ROLE, group_arn


def _code(excinfo: pytest.ExceptionInfo) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def test_trail_lifecycle(trail_client, ops_logs) -> None:
    ops_logs.create_log_group(logGroupName="trail-life")
    created = trail_client.create_trail(
        Name="life", S3BucketName="bucket", IsMultiRegionTrail=True,
        CloudWatchLogsLogGroupArn=group_arn("trail-life"), CloudWatchLogsRoleArn=ROLE,
    )  # fmt: skip
    arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/life"
    assert created["TrailARN"] == arn
    assert created["IsMultiRegionTrail"] is True
    assert created["IncludeGlobalServiceEvents"] is True
    assert created["LogFileValidationEnabled"] is False
    assert created["CloudWatchLogsLogGroupArn"] == group_arn("trail-life")
    described = trail_client.describe_trails(trailNameList=["life"])["trailList"]
    assert [(t["Name"], t["HomeRegion"], t["HasCustomEventSelectors"]) for t in described] == [
        ("life", "us-east-1", False)
    ]
    assert trail_client.get_trail(Name=arn)["Trail"]["S3BucketName"] == "bucket"
    assert trail_client.get_trail_status(Name="life")["IsLogging"] is False
    trail_client.start_logging(Name="life")
    status = trail_client.get_trail_status(Name="life")
    assert status["IsLogging"] is True and "StartLoggingTime" in status
    trail_client.stop_logging(Name=arn)
    status = trail_client.get_trail_status(Name="life")
    assert status["IsLogging"] is False and "StopLoggingTime" in status
    updated = trail_client.update_trail(Name="life", S3KeyPrefix="p", EnableLogFileValidation=True)
    assert updated["S3KeyPrefix"] == "p" and updated["LogFileValidationEnabled"] is True
    trail_client.delete_trail(Name="life")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        trail_client.get_trail(Name="life")
    assert _code(excinfo) == (
        "TrailNotFoundException",
        f"Unknown trail: life for the user: {ACCOUNT}",
    )


def test_event_selectors(trail_client) -> None:
    trail_client.create_trail(Name="selected", S3BucketName="b")
    default = trail_client.get_event_selectors(TrailName="selected")["EventSelectors"]
    assert default == [
        {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [],
         "ExcludeManagementEventSources": []}
    ]  # fmt: skip
    put = trail_client.put_event_selectors(
        TrailName="selected",
        EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}],
    )
    assert put["EventSelectors"][0]["ReadWriteType"] == "WriteOnly"
    got = trail_client.get_event_selectors(TrailName="selected")
    assert got["EventSelectors"][0]["ReadWriteType"] == "WriteOnly"
    assert trail_client.get_trail(Name="selected")["Trail"]["HasCustomEventSelectors"] is True
    trail_client.delete_trail(Name="selected")


@pytest.mark.parametrize(
    ("kwargs", "code", "message"),
    [
        ({"Name": "ab"}, "InvalidTrailNameException",
         "Trail name too short. Minimum allowed length: 3 characters. Specified name length: "
         "2 characters."),
        ({"Name": "-abc"}, "InvalidTrailNameException",
         "Trail name must starts with a letter or number."),
        ({"Name": "a b c"}, "InvalidTrailNameException",
         "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, "
         "periods (.), hyphens (-), and underscores (_)."),
        ({"Name": "nogroup", "CloudWatchLogsLogGroupArn": group_arn("missing-group"),
          "CloudWatchLogsRoleArn": ROLE},
         "InvalidCloudWatchLogsLogGroupArnException",
         "CloudTrail cannot validate the specified log group ARN."),
        ({"Name": "norole", "CloudWatchLogsLogGroupArn": group_arn("x")},
         "InvalidCloudWatchLogsRoleArnException",
         "You must specify a role ARN as well as a log group."),
        ({"Name": "multi", "IsMultiRegionTrail": True, "IncludeGlobalServiceEvents": False},
         "InvalidParameterCombinationException",
         "Multi-Region trail must include global service events."),
    ],
)  # fmt: skip
def test_create_trail_refusals(trail_client, kwargs, code, message) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        trail_client.create_trail(S3BucketName="b", **kwargs)
    assert _code(excinfo) == (code, message)


def test_duplicate_and_unknown_trails(trail_client) -> None:
    trail_client.create_trail(Name="twice", S3BucketName="b")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        trail_client.create_trail(Name="twice", S3BucketName="b")
    assert _code(excinfo) == (
        "TrailAlreadyExistsException",
        f"Trail twice already exists for customer: {ACCOUNT}",
    )
    trail_client.delete_trail(Name="twice")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        trail_client.get_trail_status(Name="ghost")
    assert _code(excinfo)[0] == "TrailNotFoundException"
    assert f"trail/ghost for the user: {ACCOUNT}" in _code(excinfo)[1]
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        trail_client.start_logging(Name="ghost")
    assert _code(excinfo)[0] == "TrailNotFoundException"
    assert trail_client.describe_trails(trailNameList=["ghost"])["trailList"] == []


def test_trails_survive_a_restart(ct_server, trail_client) -> None:
    trail_client.create_trail(Name="durable", S3BucketName="b")
    trail_client.start_logging(Name="durable")
    ct_server.stop()
    ct_server.start()
    assert trail_client.get_trail_status(Name="durable")["IsLogging"] is True
    trail_client.delete_trail(Name="durable")
