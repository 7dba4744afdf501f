"""PutLogEvents, GetLogEvents and FilterLogEvents through boto3 against the real server."""

from __future__ import annotations

import time
import uuid

import pytest
from botocore.exceptions import ClientError

HOUR = 3_600_000
DAY = 24 * HOUR


def now() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def stream(logs) -> tuple[str, str]:
    group = f"/test/events-{uuid.uuid4().hex[:10]}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s1")
    return group, "s1"


def put(logs, stream, events) -> dict:
    group, name = stream
    return logs.put_log_events(logGroupName=group, logStreamName=name, logEvents=events)


def test_put_and_get(logs, stream) -> None:
    t = now()
    events = [{"timestamp": t + i, "message": f"line {i}"} for i in range(5)]
    result = put(logs, stream, events)
    assert len(result["nextSequenceToken"]) == 56
    assert "rejectedLogEventsInfo" not in result
    got = logs.get_log_events(logGroupName=stream[0], logStreamName=stream[1], startFromHead=True)
    assert [e["message"] for e in got["events"]] == [f"line {i}" for i in range(5)]
    assert all(e["ingestionTime"] >= t - 1000 for e in got["events"])
    assert got["nextForwardToken"].startswith("f/") and got["nextBackwardToken"].startswith("b/")
    again = logs.get_log_events(
        logGroupName=stream[0], logStreamName=stream[1], nextToken=got["nextForwardToken"],
        startFromHead=True,
    )  # fmt: skip
    assert again["events"] == [] and again["nextForwardToken"] == got["nextForwardToken"]
    info = logs.describe_log_streams(logGroupName=stream[0])["logStreams"][0]
    assert info["firstEventTimestamp"] == t and info["lastEventTimestamp"] == t + 4
    group = logs.describe_log_groups(logGroupNamePrefix=stream[0])["logGroups"][0]
    assert group["storedBytes"] == sum(len(e["message"]) for e in events)


def test_get_pages_newest_first_by_default_and_walks_back(logs, stream) -> None:
    t = now()
    put(logs, stream, [{"timestamp": t + i, "message": str(i)} for i in range(10)])
    group, name = stream
    newest = logs.get_log_events(logGroupName=group, logStreamName=name, limit=4)
    assert [e["message"] for e in newest["events"]] == ["6", "7", "8", "9"]
    back = logs.get_log_events(
        logGroupName=group, logStreamName=name, limit=4, nextToken=newest["nextBackwardToken"]
    )
    assert [e["message"] for e in back["events"]] == ["2", "3", "4", "5"]
    start = logs.get_log_events(
        logGroupName=group, logStreamName=name, startTime=t + 3, endTime=t + 6, startFromHead=True
    )
    assert [e["message"] for e in start["events"]] == ["3", "4", "5"]  # endTime exclusive


def test_rejected_events_are_reported(logs, stream) -> None:
    t = now()
    events = [
        {"timestamp": t - 15 * DAY, "message": "too old"},
        {"timestamp": t, "message": "ok"},
        {"timestamp": t + 3 * HOUR, "message": "too new"},
    ]
    result = put(logs, stream, events)
    assert result["rejectedLogEventsInfo"] == {
        "tooOldLogEventEndIndex": 1,
        "tooNewLogEventStartIndex": 2,
    }
    got = logs.get_log_events(logGroupName=stream[0], logStreamName=stream[1])
    assert [e["message"] for e in got["events"]] == ["ok"]


def test_expired_events_follow_retention(logs, stream) -> None:
    logs.put_retention_policy(logGroupName=stream[0], retentionInDays=1)
    t = now()
    result = put(
        logs, stream, [{"timestamp": t - 2 * DAY, "message": "x"}, {"timestamp": t, "message": "y"}]
    )
    assert result["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 1}


REJECTIONS = [
    (
        lambda t: [{"timestamp": t, "message": "b"}, {"timestamp": t - 1, "message": "a"}],
        "Log events in a single PutLogEvents request must be in chronological order.",
    ),
    (
        lambda t: [{"timestamp": t - 25 * HOUR, "message": "a"}, {"timestamp": t, "message": "b"}],
        "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
    ),
    (
        lambda t: [{"timestamp": t, "message": "x" * 600_000}] * 2,
        "Upload too large: 1200052 bytes exceeds limit of 1048576",
    ),
    (
        lambda t: [{"timestamp": t, "message": "x" * 1_048_560}],
        "Log event too large: 1048586 bytes exceeds limit of 1048576",
    ),
]


@pytest.mark.parametrize(("make_events", "message"), REJECTIONS)
def test_whole_batch_rejections(logs, stream, make_events, message) -> None:
    with pytest.raises(ClientError) as err:
        put(logs, stream, make_events(now()))
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"
    assert err.value.response["Error"]["Message"] == message
    assert logs.get_log_events(logGroupName=stream[0], logStreamName=stream[1])["events"] == []


def test_missing_stream_and_no_autocreate(logs, stream) -> None:
    with pytest.raises(ClientError) as err:
        put(logs, (stream[0], "nope"), [{"timestamp": now(), "message": "x"}])
    assert err.value.response["Error"]["Message"] == "The specified log stream does not exist."
    assert len(logs.describe_log_streams(logGroupName=stream[0])["logStreams"]) == 1


def test_filter_log_events(logs, stream) -> None:
    group, _ = stream
    logs.create_log_stream(logGroupName=group, logStreamName="s2")
    t = now()
    put(
        logs,
        stream,
        [{"timestamp": t + i, "message": f"ERROR {i}" if i % 2 else f"ok {i}"} for i in range(6)],
    )
    logs.put_log_events(
        logGroupName=group,
        logStreamName="s2",
        logEvents=[{"timestamp": t + 1, "message": "ERROR s2"}],
    )
    found = logs.filter_log_events(logGroupName=group, filterPattern="ERROR")
    assert [e["message"] for e in found["events"]] == ["ERROR 1", "ERROR s2", "ERROR 3", "ERROR 5"]
    assert found["searchedLogStreams"] == []
    first = found["events"][0]
    assert first["logStreamName"] == "s1"
    assert int(first["eventId"]) >> 144 == first["timestamp"] and len(first["eventId"]) == 56
    bounded = logs.filter_log_events(
        logGroupName=group, startTime=t + 1, endTime=t + 3, logStreamNames=["s1"]
    )
    assert [e["message"] for e in bounded["events"]] == ["ERROR 1", "ok 2", "ERROR 3"]  # inclusive
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, filterPattern="ERROR", PaginationConfig={"PageSize": 1}
    )
    assert [e["message"] for p in pages for e in p["events"]] == [
        e["message"] for e in found["events"]
    ]
    with pytest.raises(ClientError) as err:
        logs.filter_log_events(logGroupName=group, logStreamNames=["s1"], logStreamNamePrefix="s")
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError) as err:
        logs.filter_log_events(logGroupName=group, filterPattern="%bad!%")
    assert "Invalid character(s) in term '!'" in err.value.response["Error"]["Message"]
    json_hit = logs.filter_log_events(logGroupName=group, filterPattern="[level = ERROR, n > 2]")
    assert [e["message"] for e in json_hit["events"]] == ["ERROR 3", "ERROR 5"]
