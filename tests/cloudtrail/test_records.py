"""What a record shows of a call: AWS's names, data events left out, secrets hidden."""

from __future__ import annotations

import json

from logsieve.cloudtrail import records
from logsieve.cloudtrail.calls import ApiCall


def _call(service: str, operation: str, params: dict, result: dict | None = None) -> ApiCall:
    return ApiCall(
        service, operation, params, result, None, None, "AKIAX", "10.0.0.1", "aws-cli/2",
        "req-1", 1_700_000_000.5, "us-east-1",
    )  # fmt: skip


def test_data_events_are_not_recorded() -> None:
    assert not records.is_recorded("logs", "PutLogEvents")
    assert not records.is_recorded("lambda", "Invoke")
    assert not records.is_recorded("kinesis", "PutRecords")
    assert not records.is_recorded("sns", "Publish")
    assert records.is_recorded("logs", "CreateLogGroup")
    assert records.is_recorded("cloudtrail", "StopLogging")


def test_lambda_environment_and_code_are_hidden() -> None:
    params = {
        "FunctionName": "f",
        "Environment": {"Variables": {"DB_PASSWORD": "hunter2"}},
        "Code": {"ZipFile": b"PK..."},
    }
    result = {"FunctionName": "f", "Environment": {"Variables": {"DB_PASSWORD": "hunter2"}}}
    identity = records.Identities("123456789012", lambda key: "alice")("AKIAX")
    record, row = records.build(_call("lambda", "CreateFunction", params, result), identity, "1")
    text = json.dumps(record)
    assert "hunter2" not in text and "PK..." not in text
    assert record["eventName"] == "CreateFunction20150331"
    assert record["requestParameters"] == {
        "functionName": "f",
        "environment": {"variables": records.HIDDEN},
        "code": {},
    }
    assert record["responseElements"]["environment"] == {"variables": records.HIDDEN}
    assert row.resources == (("AWS::Lambda::Function", "f"),)
    assert row.username == "alice"
    assert record["eventTime"] == "2023-11-14T22:13:20Z"


def test_names_and_read_only() -> None:
    assert records.event_source("monitoring") == "monitoring.amazonaws.com"
    assert records.event_source("ec2") == "ec2.amazonaws.com"
    assert records.event_name("lambda", "GetFunction") == "GetFunction20150331v2"
    assert records.read_only("DescribeTrails") and records.read_only("LookupEvents")
    assert not records.read_only("DeleteTrail") and not records.read_only("Getaway")
    assert records.shown({"TopicArn": "a", "SNSTopicName": "b", "logGroupName": "c"}) == {
        "topicArn": "a",
        "snsTopicName": "b",
        "logGroupName": "c",
    }


def test_function_keys_are_assumed_role_sessions() -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:shipper"
    identity = records.Identities("123456789012", lambda key: None, lambda key: arn)("AKIAF")
    assert identity["type"] == "AssumedRole"
    assert identity["arn"] == "arn:aws:sts::123456789012:assumed-role/shipper-role/shipper"
    unnamed = records.Identities("123456789012", lambda key: None)("AKIAY")
    assert unnamed["userName"] == records.DEFAULT_USER
    assert unnamed["arn"] == "arn:aws:iam::123456789012:user/logsieve"


def test_a_call_in_the_millisecond_logging_stopped_is_delivered() -> None:
    from logsieve.cloudtrail.service import logged_at
    from logsieve.storage.trails import TrailRow

    stopped = TrailRow("arn", "t", "r", logging=False, started_ms=1000, stopped_ms=2000)
    assert logged_at(stopped, 2000.4)  # StopLogging's own call: began in that millisecond
    assert logged_at(stopped, 1000.0)
    assert not logged_at(stopped, 999.9)
    assert not logged_at(stopped, 2001.0)
    assert not logged_at(TrailRow("arn", "t", "r"), 1500.0)
