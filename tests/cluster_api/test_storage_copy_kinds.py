"""``logsieve storage copy`` of the kinds beyond CloudWatch Logs, end to end: a SQLite server
filled through boto3 (a Lambda function, metric data, VPC resources, a Kinesis stream, an SNS
notification its endpoint refused so far), stopped, copied into a real 3-node cluster; a
logsieve node on the cluster invokes the function, answers the same statistics, ids and
records, and delivers the owed notification exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster_api.harness import ApiCluster
from tests.lambdas.helpers import ROLE, make_zip
from tests.receivers import HttpReceiver, Reply
from tests.server import Server, client
from tests.sns.test_http import subscribe_and_confirm
from tests.waiting import wait_for

HANDLER = """\
def handler(event, context):
    return {"doubled": event["n"] * 2}
"""


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as running:
        yield running


def _view(make: Callable[[str], Any], start: float) -> dict[str, Any]:
    """What must read the same before and after the copy, through one server's API."""
    cw, ec2, kinesis = make("cloudwatch"), make("ec2"), make("kinesis")
    asked = (
        {"Statistics": ["SampleCount", "Sum", "Minimum", "Maximum", "Average"]},
        {"ExtendedStatistics": ["p50", "p90"]},
    )
    stats = {
        (name, n): cw.get_metric_statistics(
            Namespace="App", MetricName=name, StartTime=start - 600, EndTime=start + 600,
            Period=60, **statistics,
        )["Datapoints"]
        for name in ("Latency", "Bytes") for n, statistics in enumerate(asked)
    }  # fmt: skip
    shard = kinesis.describe_stream(StreamName="orders")["StreamDescription"]["Shards"][0]
    iterator = kinesis.get_shard_iterator(
        StreamName="orders", ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator)["Records"]
    return {
        "metrics": sorted(
            (m["MetricName"], json.dumps(m["Dimensions"])) for m in cw.list_metrics()["Metrics"]
        ),
        "stats": {k: sorted(v, key=lambda p: p["Timestamp"]) for k, v in stats.items()},
        "vpcs": sorted((v["VpcId"], v["CidrBlock"]) for v in ec2.describe_vpcs()["Vpcs"]),
        "subnets": sorted(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]),
        "records": [(r["PartitionKey"], r["Data"], r["ApproximateArrivalTimestamp"])
                    for r in records],
    }  # fmt: skip


def _populate(source: Path, receiver: HttpReceiver) -> tuple[dict[str, Any], str, str, float]:
    server = Server(source).start()
    try:
        make = lambda service: client(server, service)  # noqa: E731
        lam = make("lambda")
        lam.create_function(
            FunctionName="double", Runtime="python3.12", Role=ROLE, Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": HANDLER})},
        )  # fmt: skip
        answer = lam.invoke(FunctionName="double", Payload=b'{"n": 21}')
        assert json.loads(answer["Payload"].read()) == {"doubled": 42}
        now = time.time()
        make("cloudwatch").put_metric_data(
            Namespace="App",
            MetricData=[
                *({"MetricName": "Latency", "Value": float(v), "Timestamp": now - v,
                   "Dimensions": [{"Name": "host", "Value": "a"}]} for v in range(1, 200, 3)),
                {"MetricName": "Bytes", "Timestamp": now, "StatisticValues": {
                    "SampleCount": 4, "Sum": 100, "Minimum": 5, "Maximum": 60}},
            ],
        )  # fmt: skip
        ec2 = make("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")
        kinesis = make("kinesis")
        kinesis.create_stream(StreamName="orders", ShardCount=1)
        kinesis.get_waiter("stream_exists").wait(StreamName="orders", WaiterConfig={"Delay": 1})
        for n in range(5):
            kinesis.put_record(StreamName="orders", PartitionKey=f"k{n}", Data=f"order {n}")
        sns = make("sns")
        arn = sns.create_topic(Name="owed")["TopicArn"]
        path, _, _ = subscribe_and_confirm(sns, receiver, arn)
        # refused once, told to come back in an hour: still owed when the server stops
        receiver.script(Reply(500, b"", {"Retry-After": "3600"}), path=path)
        owed = sns.publish(TopicArn=arn, Message="owed")["MessageId"]
        receiver.wait_requests(path, 2)
        return _view(make, now), path, owed, now
    finally:
        server.stop()


def _delivered(receiver: HttpReceiver, path: str, message_id: str) -> int:
    return sum(
        1 for r in receiver.requests(path)
        if r.headers.get("x-amz-sns-message-id") == message_id
    )  # fmt: skip


def test_functions_metrics_ec2_kinesis_and_owed_notifications_arrive(
    own_deployment: Callable[..., ApiCluster], tmp_path: Path, receiver: HttpReceiver
) -> None:
    source = tmp_path / "sqlite"
    before, path, owed, start = _populate(source, receiver)
    assert _delivered(receiver, path, owed) == 1  # the refused attempt
    deployment = own_deployment(logsieve_nodes=0)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "logsieve", "storage", "copy", "--from", str(source),
         "--to", str(deployment.config_file)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    print(f"copy took {time.monotonic() - started:.1f} s:\n{done.stdout}")
    assert "  Lambda functions: 1 copied" in done.stdout
    assert "  pending notifications: 1 copied" in done.stdout

    deployment.add_node()
    make = lambda service: deployment.client(0, service)  # noqa: E731
    answer = make("lambda").invoke(FunctionName="double", Payload=b'{"n": 4}')
    assert json.loads(answer["Payload"].read()) == {"doubled": 8}
    assert _view(make, start) == before
    # The owed notification arrives once; a later one proves nothing else is on its way.
    wait_for(lambda: _delivered(receiver, path, owed) == 2, what="the owed notification")
    [topic] = make("sns").list_topics()["Topics"]
    later = make("sns").publish(TopicArn=topic["TopicArn"], Message="later")
    wait_for(lambda: _delivered(receiver, path, later["MessageId"]) == 1, what="a later one")
    assert _delivered(receiver, path, owed) == 2

    again = subprocess.run(
        [sys.executable, "-m", "logsieve", "storage", "copy", "--from", str(source),
         "--to", str(deployment.config_file)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    for kind in ("Lambda functions", "EC2 resources", "Kinesis records", "metric observations",
                 "pending notifications"):  # fmt: skip
        assert f"  {kind}: 0 copied" in again.stdout, again.stdout
    assert _view(make, start) == before
