"""Any node answers any API call with the same result: what one logsieve node writes, the
others read (three nodes on one 3-node NATS cluster, real boto3 clients)."""

from __future__ import annotations

import time

from tests.cluster_api.harness import ApiCluster
from tests.cluster_api.ingest import read_stream
from tests.waiting import wait_for


def test_a_group_made_on_one_node_is_written_on_another_and_read_on_a_third(
    deployment: ApiCluster,
) -> None:
    one, two, three = (deployment.client(i) for i in range(3))
    one.create_log_group(logGroupName="/cross/app")
    two.create_log_stream(logGroupName="/cross/app", logStreamName="web-1")
    now = int(time.time() * 1000)
    sent = [
        {"timestamp": now + i, "message": f"GET /item/{i} {500 if i % 10 == 3 else 200}"}
        for i in range(50)
    ]
    answer = two.put_log_events(logGroupName="/cross/app", logStreamName="web-1", logEvents=sent)
    assert "rejectedLogEventsInfo" not in answer

    messages = [e["message"] for e in sent]
    wait_for(
        lambda: read_stream(three, "/cross/app", "web-1") == messages,
        what="node 3's GetLogEvents to return node 2's events",
    )
    filtered = three.filter_log_events(logGroupName="/cross/app", filterPattern="500")
    assert [e["message"] for e in filtered["events"]] == messages[3::10]
    assert {e["logStreamName"] for e in filtered["events"]} == {"web-1"}

    def described() -> dict | None:
        streams = three.describe_log_streams(logGroupName="/cross/app")["logStreams"]
        return streams[0] if streams and streams[0].get("lastEventTimestamp") else None

    stream = wait_for(described, what="node 3 to describe the stream with its events")
    assert stream["logStreamName"] == "web-1"
    assert (stream["firstEventTimestamp"], stream["lastEventTimestamp"]) == (now, now + 49)
    groups = wait_for(
        lambda: three.describe_log_groups(logGroupNamePrefix="/cross/")["logGroups"],
        what="node 3 to list the group node 1 made",
    )
    assert [g["logGroupName"] for g in groups] == ["/cross/app"]


def test_a_name_taken_on_one_node_is_taken_on_every_node(deployment: ApiCluster) -> None:
    deployment.client(0).create_log_group(logGroupName="/cross/taken")
    for index in (1, 2):
        logs = deployment.client(index)
        try:
            logs.create_log_group(logGroupName="/cross/taken")
        except logs.exceptions.ResourceAlreadyExistsException:
            continue
        raise AssertionError(f"node {index + 1} created a group node 1 already has")


def test_metrics_put_on_one_node_are_summed_on_another(deployment: ApiCluster) -> None:
    now = int(time.time()) // 60 * 60
    for index, value in ((0, 3.0), (1, 4.0)):
        deployment.client(index, "cloudwatch").put_metric_data(
            Namespace="Cross",
            MetricData=[{"MetricName": "Hits", "Value": value, "Timestamp": now}],
        )
    reader = deployment.client(2, "cloudwatch")

    def summed() -> float | None:
        points = reader.get_metric_statistics(
            Namespace="Cross", MetricName="Hits", StartTime=now - 60, EndTime=now + 60,
            Period=60, Statistics=["Sum", "SampleCount"],
        )["Datapoints"]  # fmt: skip
        return points[0]["Sum"] if points and points[0]["SampleCount"] == 2 else None

    assert wait_for(summed, what="node 3 to see both nodes' datapoints") == 7.0
    listed = reader.list_metrics(Namespace="Cross")["Metrics"]
    assert [m["MetricName"] for m in listed] == ["Hits"]


def test_an_alarm_made_on_one_node_is_described_and_deleted_elsewhere(
    deployment: ApiCluster,
) -> None:
    deployment.client(0, "cloudwatch").put_metric_alarm(
        AlarmName="cross-high", Namespace="Cross", MetricName="Hits", Statistic="Sum",
        Period=60, EvaluationPeriods=1, Threshold=100.0,
        ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    reader = deployment.client(2, "cloudwatch")
    alarms = wait_for(
        lambda: reader.describe_alarms(AlarmNames=["cross-high"])["MetricAlarms"],
        what="node 3 to describe node 1's alarm",
    )
    assert (alarms[0]["Threshold"], alarms[0]["ComparisonOperator"]) == (
        100.0,
        "GreaterThanThreshold",
    )
    deployment.client(1, "cloudwatch").delete_alarms(AlarmNames=["cross-high"])
    wait_for(
        lambda: not reader.describe_alarms(AlarmNames=["cross-high"])["MetricAlarms"],
        what="node 3 to see node 2's delete",
    )


def test_a_topic_made_on_one_node_is_subscribed_on_another_and_listed_on_a_third(
    deployment: ApiCluster,
) -> None:
    arn = deployment.client(0, "sns").create_topic(Name="cross-alerts")["TopicArn"]
    deployment.client(1, "sns").subscribe(
        TopicArn=arn, Protocol="email", Endpoint="ops@example.com"
    )
    reader = deployment.client(2, "sns")
    topics = wait_for(
        lambda: [t["TopicArn"] for t in reader.list_topics()["Topics"] if t["TopicArn"] == arn],
        what="node 3 to list node 1's topic",
    )
    assert topics == [arn]
    subscriptions = wait_for(
        lambda: reader.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"],
        what="node 3 to list node 2's subscription",
    )
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", "ops@example.com")]
