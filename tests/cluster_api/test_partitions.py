"""A deployment whose event log is partitioned over three streams (``[storage] partitions =
3``): groups land on different partitions, and every node still reads, filters, pages with
tokens and delivers subscriptions of every group, each matched event once and in order."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from typing import Any

from tests.cluster_api.harness import ApiCluster
from tests.cluster_api.ingest import read_stream
from tests.waiting import wait_for

ROLE_ARN = "arn:aws:iam::123456789012:role/CWLtoKinesisRole"
GROUPS = [f"/part/g{n}" for n in range(3)]


def _delivered(kinesis: Any) -> dict[str, list[str]]:
    """Matched messages in Kinesis by log group, in delivery order."""
    found: dict[str, list[str]] = {}
    for shard in kinesis.list_shards(StreamName="out")["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName="out", ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator)
            for record in page["Records"]:
                payload = json.loads(gzip.decompress(record["Data"]))
                if payload["messageType"] == "DATA_MESSAGE":
                    found.setdefault(payload["logGroup"], []).extend(
                        e["message"] for e in payload["logEvents"]
                    )
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return found


def test_groups_on_three_partitions_read_and_deliver_from_every_node(
    own_deployment: Callable[..., ApiCluster],
) -> None:
    deployment = own_deployment(logsieve_nodes=2, partitions=3)
    one, two = deployment.client(0), deployment.client(1)
    kinesis = deployment.client(0, "kinesis")
    kinesis.create_stream(StreamName="out", ShardCount=1)
    arn = kinesis.describe_stream(StreamName="out")["StreamDescription"]["StreamARN"]
    for group in GROUPS:
        one.create_log_group(logGroupName=group)
        two.create_log_stream(logGroupName=group, logStreamName="s")
        one.put_subscription_filter(
            logGroupName=group, filterName="errors", filterPattern="ERROR",
            destinationArn=arn, roleArn=ROLE_ARN,
        )  # fmt: skip
    streams = deployment.streams()
    events_streams = {f"{deployment.namespace}_logs", *(
        f"{deployment.namespace}_logs_{p}" for p in (1, 2)
    )}  # fmt: skip
    assert events_streams <= set(streams)

    now = int(time.time() * 1000)
    sent: dict[str, list[str]] = {g: [] for g in GROUPS}
    for round_ in range(4):  # each group written through both nodes, alternately
        for n, group in enumerate(GROUPS):
            writer = one if (round_ + n) % 2 else two
            batch = [
                f"{'ERROR' if i % 3 == 0 else 'INFO'} {group} r{round_} e{i}" for i in range(10)
            ]
            writer.put_log_events(
                logGroupName=group, logStreamName="s",
                logEvents=[{"timestamp": now + round_ * 10 + i, "message": m}
                           for i, m in enumerate(batch)],
            )  # fmt: skip
            sent[group] += batch
    # every partition got chunks: the three groups are on three streams
    assert all(deployment.streams()[name][0] > 0 for name in events_streams)

    for group in GROUPS:
        for reader in (one, two):
            assert read_stream(reader, group, "s") == sent[group]
            found = reader.filter_log_events(logGroupName=group, filterPattern="ERROR")
            assert [e["message"] for e in found["events"]] == [
                m for m in sent[group] if m.startswith("ERROR")
            ]
            assert {e["eventId"] for e in found["events"]}.isdisjoint(
                e["eventId"]
                for other in GROUPS
                if other != group
                for e in reader.filter_log_events(logGroupName=other, limit=50)["events"]
            )
    expected = {g: [m for m in sent[g] if m.startswith("ERROR")] for g in GROUPS}

    def all_delivered() -> dict[str, list[str]] | None:
        found = _delivered(kinesis)
        counts = {g: len(found.get(g, [])) for g in GROUPS}
        return found if all(counts[g] >= len(expected[g]) for g in GROUPS) else None

    delivered = wait_for(all_delivered, timeout=60, what="every group's matches in Kinesis")
    assert delivered == expected  # each once, in order, whichever partition
