"""The world's scripted flood: one address hammering a port, as REJECTed flow records in each
flow log's own format, for the interfaces the API reports (what moves a reject-rate alarm)."""

from __future__ import annotations

import uuid

from logsieve.formats.vpc_flow import FlowLogFormat
from logsieve.shipping.client import Target
from logsieve.simulate.world import World
from tests.server import ACCESS_KEY, SECRET_KEY, Server, client

ROLE = "arn:aws:iam::123456789012:role/flow-logs"
FORMAT = (
    "${version} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${action} ${vpc-id}"
)


def _events(logs, group: str) -> list[dict]:
    found, request = [], {"logGroupName": group}
    while True:
        page = logs.filter_log_events(**request)
        found += page["events"]
        if not page.get("nextToken"):
            return found
        request["nextToken"] = page["nextToken"]


def test_flood_writes_rejects_in_each_flow_logs_format(tmp_path) -> None:
    server = Server(tmp_path).start()
    try:
        ec2, logs = client(server, "ec2", retries=0), client(server, "logs", retries=0)
        vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
        rejects, accepts = f"/vpc/{uuid.uuid4().hex[:6]}", f"/vpc/{uuid.uuid4().hex[:6]}"
        for group, traffic in ((rejects, "ALL"), (accepts, "ACCEPT")):
            ec2.create_flow_logs(
                ResourceIds=[vpc["VpcId"]], ResourceType="VPC", TrafficType=traffic,
                LogGroupName=group, DeliverLogsPermissionArn=ROLE, LogFormat=FORMAT,
            )  # fmt: skip
        interfaces = {
            i["NetworkInterfaceId"]: i
            for i in ec2.describe_network_interfaces()["NetworkInterfaces"]
        }
        world = World(Target(server.url, "us-east-1", ACCESS_KEY, SECRET_KEY), seed=3)

        assert world.flood(120, port=2222) == 120

        events = _events(logs, rejects)
        assert len(events) == 120
        fmt = FlowLogFormat.from_string(FORMAT)
        parsed = [fmt.parse(event["message"]) for event in events]
        assert {str(r["action"]) for r in parsed} == {"REJECT"}
        assert {r["dstport"] for r in parsed} == {2222}
        assert len({str(r["srcaddr"]) for r in parsed}) == 1  # one attacker
        assert len({r["srcport"] for r in parsed}) == 120  # each attempt its own flow
        (eni,) = {str(r["interface-id"]) for r in parsed}
        assert eni in interfaces
        assert {str(r["dstaddr"]) for r in parsed} == {interfaces[eni]["PrivateIpAddress"]}
        assert {str(r["vpc-id"]) for r in parsed} == {vpc["VpcId"]}
        assert {e["logStreamName"] for e in events} == {f"{eni}-all"}
        assert sum(world.summary.flow_events.values()) == 120
        # An ACCEPT-only flow log never records a rejected flow.
        assert logs.describe_log_groups(logGroupNamePrefix=accepts)["logGroups"] == [] or not (
            _events(logs, accepts)
        )
    finally:
        server.stop()
