"""CloudWatch Logs through ``logsieve serve`` on the jetstream engine, with boto3: groups,
streams, events in and out, a subscription delivered, and a second node seeing it all."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable

from tests.server import Server, client
from tests.waiting import wait_for

KINESIS_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/out"
ROLE_ARN = "arn:aws:iam::123456789012:role/CWLtoKinesisRole"


def _put(logs, group: str, stream: str, messages: list[str], start: int) -> None:
    events = [{"timestamp": start + n, "message": m} for n, m in enumerate(messages)]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def _kinesis_data(kinesis) -> list[dict]:
    found = []
    for shard in kinesis.list_shards(StreamName="out")["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName="out", ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for record in kinesis.get_records(ShardIterator=iterator)["Records"]:
            payload = json.loads(gzip.decompress(record["Data"]))
            if payload["messageType"] == "DATA_MESSAGE":
                found.append(payload)
    return found


def test_put_get_filter_and_a_kinesis_subscription(node: Callable[[], Server]) -> None:
    server = node()
    logs, kinesis = client(server, "logs"), client(server, "kinesis")
    now = int(time.time() * 1000)
    logs.create_log_group(logGroupName="/app.v1#x")  # names may hold "." and "#"
    logs.create_log_stream(logGroupName="/app.v1#x", logStreamName="web.1")
    logs.create_log_stream(logGroupName="/app.v1#x", logStreamName="worker")
    kinesis.create_stream(StreamName="out", ShardCount=1)
    logs.put_subscription_filter(
        logGroupName="/app.v1#x", filterName="errors", filterPattern="ERROR",
        destinationArn=KINESIS_ARN, roleArn=ROLE_ARN,
    )  # fmt: skip
    _put(logs, "/app.v1#x", "web.1", ["INFO up", "ERROR disk full", "INFO ok"], now)
    _put(logs, "/app.v1#x", "worker", ["ERROR queue stuck"], now + 1)

    got = logs.get_log_events(logGroupName="/app.v1#x", logStreamName="web.1", startFromHead=True)
    assert [e["message"] for e in got["events"]] == ["INFO up", "ERROR disk full", "INFO ok"]
    found = logs.filter_log_events(logGroupName="/app.v1#x", filterPattern="ERROR")["events"]
    assert [(e["logStreamName"], e["message"]) for e in found] == [
        ("web.1", "ERROR disk full"), ("worker", "ERROR queue stuck"),
    ]  # fmt: skip
    streams = logs.describe_log_streams(logGroupName="/app.v1#x")["logStreams"]
    assert [(s["logStreamName"], s["lastEventTimestamp"]) for s in streams] == [
        ("web.1", now + 2), ("worker", now + 1),
    ]  # fmt: skip
    group = logs.describe_log_groups(logGroupNamePrefix="/app")["logGroups"][0]
    assert group["storedBytes"] == len("INFO upERROR disk fullINFO okERROR queue stuck")

    delivered = wait_for(
        lambda: (d := _kinesis_data(kinesis)) and sum(len(p["logEvents"]) for p in d) >= 2 and d,
        what="two matched events in Kinesis",
    )
    messages = sorted(e["message"] for p in delivered for e in p["logEvents"])
    assert messages == ["ERROR disk full", "ERROR queue stuck"]
    assert all(p["subscriptionFilters"] == ["errors"] for p in delivered)
    assert not (server.data_dir / "logsieve.db").exists()  # the events are on the cluster


def test_a_second_node_answers_with_the_same_state(node: Callable[[], Server]) -> None:
    """Create on one node, put on the other, read back on both: one cluster, one state."""
    one, two = node(), node()
    first, second = client(one, "logs"), client(two, "logs")
    now = int(time.time() * 1000)
    first.create_log_group(logGroupName="/shared")
    first.create_log_stream(logGroupName="/shared", logStreamName="s")
    _put(second, "/shared", "s", ["from node two"], now)
    _put(first, "/shared", "s", ["from node one"], now + 1)
    for logs in (first, second):
        events = logs.filter_log_events(logGroupName="/shared")["events"]
        assert [e["message"] for e in events] == ["from node two", "from node one"]
    error = second.exceptions.ResourceAlreadyExistsException
    try:
        second.create_log_group(logGroupName="/shared")
        raise AssertionError("the group was created twice")
    except error:
        pass
    second.delete_log_group(logGroupName="/shared")
    assert first.describe_log_groups(logGroupNamePrefix="/shared")["logGroups"] == []
