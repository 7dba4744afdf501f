"""Every signed call to the server becomes a CloudTrail management event: in LookupEvents, and
delivered to logging trails' groups where filters see it ("every API call alice makes")."""

from __future__ import annotations

import json
import time

import botocore.exceptions
import pytest

from tests.cloudtrail.conftest import ACCOUNT, ALICE_KEY, ALICE_SECRET, ROLE, group_arn, make_client
from tests.waiting import wait_for

STREAM = f"{ACCOUNT}_CloudTrail_us-east-1"


@pytest.fixture(scope="module")
def alice(ct_server):
    return {
        name: make_client(ct_server, name, ALICE_KEY, ALICE_SECRET)
        for name in ("logs", "sns", "cloudtrail")
    }


def _lookup(trail_client, key: str, value: str) -> list[dict]:
    events = trail_client.lookup_events(
        LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}], MaxResults=50
    )["Events"]
    return events


def test_alices_calls_reach_a_filter_on_the_trails_group(trail_client, ops_logs, alice) -> None:
    ops_logs.create_log_group(logGroupName="ct-alice")
    trail_client.create_trail(
        Name="alice-watch", S3BucketName="b", IsMultiRegionTrail=True,
        CloudWatchLogsLogGroupArn=group_arn("ct-alice"), CloudWatchLogsRoleArn=ROLE,
    )  # fmt: skip
    trail_client.start_logging(Name="alice-watch")
    alice["logs"].create_log_group(logGroupName="alice-made")
    alice["logs"].create_log_stream(logGroupName="alice-made", logStreamName="s")
    alice["logs"].put_log_events(
        logGroupName="alice-made",
        logStreamName="s",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "hello"}],
    )
    with pytest.raises(botocore.exceptions.ClientError):
        alice["logs"].delete_log_group(logGroupName="never-there")
    topic = alice["sns"].create_topic(Name="alice-topic")["TopicArn"]

    def alices() -> list[dict]:
        found = ops_logs.filter_log_events(
            logGroupName="ct-alice",
            filterPattern='{ $.userIdentity.userName = "alice" }',
        )["events"]
        names = {json.loads(e["message"])["eventName"] for e in found}
        return found if {"CreateLogGroup", "DeleteLogGroup", "CreateTopic"} <= names else []

    found = wait_for(alices, what="alice's calls in the trail's group")
    assert {e["logStreamName"] for e in found} == {STREAM}
    records = {json.loads(e["message"])["eventName"]: json.loads(e["message"]) for e in found}
    assert "PutLogEvents" not in records  # a data event: not recorded, as on AWS
    created = records["CreateLogGroup"]
    assert created["userIdentity"] == {
        "type": "IAMUser",
        "principalId": created["userIdentity"]["principalId"],
        "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
        "accountId": ACCOUNT,
        "accessKeyId": ALICE_KEY,
        "userName": "alice",
    }
    assert created["userIdentity"]["principalId"].startswith("AIDA")
    assert created["eventSource"] == "logs.amazonaws.com"
    assert created["requestParameters"] == {"logGroupName": "alice-made"}
    assert created["responseElements"] is None
    assert created["readOnly"] is False
    assert created["sourceIPAddress"] == "127.0.0.1"
    assert "Boto3" in created["userAgent"]
    assert created["eventType"] == "AwsApiCall" and created["managementEvent"] is True
    assert created["recipientAccountId"] == ACCOUNT and created["awsRegion"] == "us-east-1"
    assert created["eventTime"].endswith("Z")
    failed = records["DeleteLogGroup"]
    assert failed["errorCode"] == "ResourceNotFoundException"
    assert failed["errorMessage"] == "The specified log group does not exist."
    assert records["CreateTopic"]["eventSource"] == "sns.amazonaws.com"
    assert records["CreateTopic"]["requestParameters"] == {"name": "alice-topic"}
    assert records["CreateTopic"]["responseElements"] == {"topicArn": topic}
    status = trail_client.get_trail_status(Name="alice-watch")
    assert "LatestCloudWatchLogsDeliveryTime" in status
    trail_client.delete_trail(Name="alice-watch")


def test_lookup_events_finds_calls_by_user_and_name(trail_client, alice) -> None:
    alice["cloudtrail"].describe_trails()
    events = wait_for(
        lambda: [
            e
            for e in _lookup(trail_client, "Username", "alice")
            if e["EventName"] == "DescribeTrails"
        ],
        what="alice's DescribeTrails in LookupEvents",
    )
    event = events[0]
    assert event["ReadOnly"] == "true"
    assert event["AccessKeyId"] == ALICE_KEY
    assert event["EventSource"] == "cloudtrail.amazonaws.com"
    record = json.loads(event["CloudTrailEvent"])
    assert record["eventID"] == event["EventId"]
    assert record["responseElements"] is None
    assert [e["EventId"] for e in _lookup(trail_client, "EventId", event["EventId"])] == [
        event["EventId"]
    ]


def test_lookup_events_pages_and_refuses_two_attributes(trail_client, ops_logs) -> None:
    for n in range(5):
        ops_logs.describe_log_groups(logGroupNamePrefix=f"page-{n}")
    wait_for(
        lambda: len(_lookup(trail_client, "EventName", "DescribeLogGroups")) >= 5,
        what="five DescribeLogGroups events",
    )
    seen, token = [], None
    while True:
        kwargs = {"NextToken": token} if token else {}
        page = trail_client.lookup_events(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DescribeLogGroups"}],
            MaxResults=2,
            **kwargs,
        )
        assert len(page["Events"]) <= 2
        seen += [e["EventId"] for e in page["Events"]]
        token = page.get("NextToken")
        if not token:
            break
    assert len(seen) == len(set(seen)) >= 5
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        trail_client.lookup_events(
            LookupAttributes=[
                {"AttributeKey": "EventName", "AttributeValue": "a"},
                {"AttributeKey": "Username", "AttributeValue": "b"},
            ]
        )
    assert excinfo.value.response["Error"]["Code"] == "InvalidLookupAttributesException"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        trail_client.lookup_events(StartTime=time.time(), EndTime=time.time() - 60)
    assert excinfo.value.response["Error"]["Code"] == "InvalidTimeRangeException"


def test_a_stopped_or_write_only_trail_delivers_accordingly(trail_client, ops_logs) -> None:
    ops_logs.create_log_group(logGroupName="ct-writes")
    trail_client.create_trail(
        Name="writes", S3BucketName="b",
        CloudWatchLogsLogGroupArn=group_arn("ct-writes"), CloudWatchLogsRoleArn=ROLE,
    )  # fmt: skip
    trail_client.put_event_selectors(
        TrailName="writes",
        EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}],
    )
    trail_client.start_logging(Name="writes")
    ops_logs.describe_log_groups(logGroupNamePrefix="read-marker")
    ops_logs.create_log_group(logGroupName="write-marker")

    def delivered() -> list[dict]:
        events = ops_logs.filter_log_events(logGroupName="ct-writes")["events"]
        return [json.loads(e["message"]) for e in events]

    records = wait_for(
        lambda: [r for r in delivered() if r["eventName"] == "CreateLogGroup"],
        what="the write event delivered",
    )
    assert records[0]["requestParameters"] == {"logGroupName": "write-marker"}
    assert all(not r["readOnly"] for r in delivered())
    trail_client.stop_logging(Name="writes")
    # StopLogging itself is delivered (it was made while the trail was logging): what the
    # CIS "CloudTrail configuration changes" filter watches for.
    wait_for(
        lambda: [r for r in delivered() if r["eventName"] == "StopLogging"],
        what="StopLogging delivered",
    )
    before = len(delivered())
    ops_logs.create_log_group(logGroupName="after-stop")
    # The call after StopLogging is recorded in the history but not delivered.
    wait_for(
        lambda: _lookup(trail_client, "ResourceName", "after-stop"), what="after-stop recorded"
    )
    ops_logs.create_log_group(logGroupName="after-stop-2")
    wait_for(lambda: _lookup(trail_client, "ResourceName", "after-stop-2"), what="second recorded")
    names = [r["requestParameters"]["logGroupName"] for r in delivered()[before:]]
    assert "after-stop" not in names and "after-stop-2" not in names
    trail_client.delete_trail(Name="writes")


def test_delivery_to_a_deleted_group_shows_in_the_status(trail_client, ops_logs) -> None:
    ops_logs.create_log_group(logGroupName="ct-doomed")
    trail_client.create_trail(
        Name="doomed", S3BucketName="b",
        CloudWatchLogsLogGroupArn=group_arn("ct-doomed"), CloudWatchLogsRoleArn=ROLE,
    )  # fmt: skip
    trail_client.start_logging(Name="doomed")
    ops_logs.delete_log_group(logGroupName="ct-doomed")
    status = wait_for(
        lambda: trail_client.get_trail_status(Name="doomed").get(
            "LatestCloudWatchLogsDeliveryError"
        ),
        what="a delivery error",
    )
    assert status == "ResourceNotFoundException"
    trail_client.delete_trail(Name="doomed")


def test_calls_whose_lists_take_the_fast_decoder_are_recorded(ct_server, trail_client) -> None:
    """Lists of flat structures (CloudWatch's Dimensions) are decoded into structs by the
    fast path; the record must still hold them as JSON, and one such call must not cost the
    other calls of its batch their records (it once failed the whole batch)."""
    cloudwatch = make_client(ct_server, "cloudwatch", ALICE_KEY, ALICE_SECRET)
    logs = make_client(ct_server, "logs", ALICE_KEY, ALICE_SECRET)
    cloudwatch.put_metric_alarm(
        AlarmName="fast-decoded",
        Namespace="App",
        MetricName="Errors",
        Dimensions=[{"Name": "Service", "Value": "api"}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    logs.create_log_group(logGroupName="/batched/with-the-alarm")

    def recorded(name: str, key: str, value: str) -> dict | None:
        found = [
            json.loads(event["CloudTrailEvent"])
            for event in _lookup(trail_client, "EventName", name)
        ]
        return next((r for r in found if r["requestParameters"].get(key) == value), None)

    alarm = wait_for(
        lambda: recorded("PutMetricAlarm", "alarmName", "fast-decoded"), what="the alarm's record"
    )
    assert alarm["requestParameters"]["dimensions"] == [{"name": "Service", "value": "api"}]
    wait_for(
        lambda: recorded("CreateLogGroup", "logGroupName", "/batched/with-the-alarm"),
        what="the record of the call batched with it",
    )


def test_cloudwatch_metric_data_calls_are_data_events(ct_server, trail_client) -> None:
    """PutMetricData, GetMetricData, GetMetricStatistics and ListMetrics are data events on
    AWS: not in the event history; the alarm call made after them is (so they had their turn)."""
    cloudwatch = make_client(ct_server, "cloudwatch", ALICE_KEY, ALICE_SECRET)
    metric = {"Namespace": "DataEvents", "MetricName": "Hits"}
    cloudwatch.put_metric_data(
        Namespace="DataEvents", MetricData=[{"MetricName": "Hits", "Value": 1}]
    )
    cloudwatch.list_metrics(Namespace="DataEvents")
    now = time.time()
    window = {"StartTime": now - 600, "EndTime": now + 60}
    cloudwatch.get_metric_statistics(**metric, Period=60, Statistics=["Sum"], **window)
    stat = {"Metric": metric, "Period": 60, "Stat": "Sum"}
    cloudwatch.get_metric_data(MetricDataQueries=[{"Id": "h", "MetricStat": stat}], **window)
    cloudwatch.put_metric_alarm(
        AlarmName="after-the-data-events", **metric, Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    wait_for(
        lambda: [
            e for e in _lookup(trail_client, "EventName", "PutMetricAlarm")
            if json.loads(e["CloudTrailEvent"])["requestParameters"]["alarmName"]
            == "after-the-data-events"
        ],
        what="the alarm call's record",
    )  # fmt: skip
    for name in ("PutMetricData", "ListMetrics", "GetMetricStatistics", "GetMetricData"):
        assert _lookup(trail_client, "EventName", name) == [], name
