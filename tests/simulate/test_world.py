"""``simulate world`` follows what the API configures: flow records in each flow log's format
for the account's real interfaces, connection logs only where logging is enabled."""

from __future__ import annotations

import json
import re
import threading
import uuid

import pytest

from logsieve.formats import client_vpn as records
from logsieve.formats.vpc_flow import FlowLogFormat
from logsieve.shipping.client import Target
from logsieve.simulate.world import TrailSource, World, discover_flow_logs, discover_trails
from tests.server import ACCESS_KEY, SECRET_KEY, Server, client
from tests.waiting import wait_for

ROLE = "arn:aws:iam::123456789012:role/flow-logs"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f6b8e1e-1111-2222-3333-444455556666"
AUTH = [{"Type": "certificate-authentication",
         "MutualAuthentication": {"ClientRootCertificateChainArn": CERT}}]  # fmt: skip
FORMAT = "${version} ${interface-id} ${srcaddr} ${dstaddr} ${dstport} ${action} ${tcp-flags}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    running = Server(tmp_path_factory.mktemp("world")).start()
    yield running
    running.stop()


def test_world_writes_what_the_api_configures(server: Server) -> None:
    ec2, logs = client(server, "ec2", retries=0), client(server, "logs", retries=0)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    interfaces = {
        i["NetworkInterfaceId"]
        for i in ec2.describe_network_interfaces(
            Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
        )["NetworkInterfaces"]
    }
    flows = f"/vpc/{uuid.uuid4().hex[:6]}"
    [flow_id] = ec2.create_flow_logs(
        ResourceIds=[vpc["VpcId"]], ResourceType="VPC", TrafficType="ALL", LogGroupName=flows,
        DeliverLogsPermissionArn=ROLE, LogFormat=FORMAT,
    )["FlowLogIds"]  # fmt: skip
    vpn_logs = f"vpn-{uuid.uuid4().hex[:6]}"
    logs.create_log_group(logGroupName=vpn_logs)
    logged_endpoint = ec2.create_client_vpn_endpoint(
        ClientCidrBlock="10.100.0.0/22", ServerCertificateArn=CERT, AuthenticationOptions=AUTH,
        ConnectionLogOptions={"Enabled": True, "CloudwatchLogGroup": vpn_logs,
                              "CloudwatchLogStream": "connections"},
    )["ClientVpnEndpointId"]  # fmt: skip
    silent_endpoint = ec2.create_client_vpn_endpoint(
        ClientCidrBlock="10.104.0.0/22", ServerCertificateArn=CERT, AuthenticationOptions=AUTH,
        ConnectionLogOptions={"Enabled": False},
    )["ClientVpnEndpointId"]  # fmt: skip
    unassociated = ec2.create_client_vpn_endpoint(
        ClientCidrBlock="10.108.0.0/22", ServerCertificateArn=CERT, AuthenticationOptions=AUTH,
        ConnectionLogOptions={"Enabled": False},
    )["ClientVpnEndpointId"]  # fmt: skip
    default_subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])[
        "Subnets"
    ][0]["SubnetId"]
    for endpoint_id in (logged_endpoint, silent_endpoint):  # clients connect once associated
        ec2.associate_client_vpn_target_network(
            ClientVpnEndpointId=endpoint_id, SubnetId=default_subnet
        )
    assert [s.flow_log_id for s in discover_flow_logs(ec2)] == [flow_id]

    target = Target(server.url, "us-east-1", ACCESS_KEY, SECRET_KEY)
    world = World(target, rate=200, connect_every=0.2, refresh=0.3, seed=7)
    stop = threading.Event()
    runner = threading.Thread(target=world.run, kwargs={"stop": stop})
    runner.start()
    try:

        def streams() -> set[str]:
            try:
                found = logs.describe_log_streams(logGroupName=flows)["logStreams"]
            except logs.exceptions.ResourceNotFoundException:  # not created yet
                return set()
            return {s["logStreamName"] for s in found} if len(found) >= 3 else set()

        names = wait_for(streams, what="a stream per interface")
        assert names == {f"{eni}-all" for eni in interfaces}
        stream = sorted(names)[0]
        events = wait_for(
            lambda: logs.get_log_events(logGroupName=flows, logStreamName=stream)["events"],
            what="flow records",
        )
        record = FlowLogFormat(FORMAT).parse(events[0]["message"])
        assert record.get("interface-id") == stream.removesuffix("-all")

        def connection_logs() -> list[dict]:
            try:
                found = logs.get_log_events(logGroupName=vpn_logs, logStreamName="connections")
            except logs.exceptions.ResourceNotFoundException:  # no attempt logged yet
                return []
            return [records.parse(e["message"]).fields for e in found["events"]]

        logged = wait_for(lambda: connection_logs() or None, what="connection-log records")
        assert {r["client-vpn-endpoint-id"] for r in logged} == {logged_endpoint}
        silent = wait_for(
            lambda: ec2.describe_client_vpn_connections(ClientVpnEndpointId=silent_endpoint)[
                "Connections"
            ],
            what="connections on the endpoint without logging",
        )
        assert silent[0]["Status"]["Code"] == "active"
        # An endpoint without a target network is pending-associate: nobody connects to it.
        assert not ec2.describe_client_vpn_connections(ClientVpnEndpointId=unassociated)[
            "Connections"
        ]

        # Deleting the flow log stops its records within a refresh.
        ec2.delete_flow_logs(FlowLogIds=[flow_id])
        wait_for(lambda: not world._runs, what="the world to stop following the flow log")
    finally:
        stop.set()
        runner.join()
    assert world.summary.flow_events[flow_id] > 0 and world.summary.attempts > 0


def test_cli_runs_the_world_for_a_while(server: Server, tmp_path) -> None:
    from tests.shipping.helpers import cli_env, run_cli

    ec2 = client(server, "ec2", retries=0)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    ec2.create_flow_logs(
        ResourceIds=[vpc["VpcId"]], ResourceType="VPC", TrafficType="REJECT",
        LogGroupName=f"/vpc/cli-{uuid.uuid4().hex[:6]}", DeliverLogsPermissionArn=ROLE,
    )  # fmt: skip
    logs, trails = client(server, "logs", retries=0), client(server, "cloudtrail", retries=0)
    group = f"cli-trail-{uuid.uuid4().hex[:6]}"
    logs.create_log_group(logGroupName=group)
    trails.create_trail(
        Name=group, S3BucketName="bucket", CloudWatchLogsRoleArn=ROLE,
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:us-east-1:123456789012:log-group:{group}:*",
    )  # fmt: skip
    trails.start_logging(Name=group)
    try:
        done = run_cli("simulate", "world", "--duration", "2", "--rate", "50", "--refresh",
                       "0.5", "--trail-rate", "20", "--endpoint-url", server.url,
                       env=cli_env(tmp_path / "data"))  # fmt: skip
    finally:
        trails.delete_trail(Name=group)
    assert done.returncode == 0, done.stderr
    sent = re.search(r"Sent ([\d,]+) flow-log events for (\d+) flow log", done.stdout)
    assert sent is not None, done.stdout
    assert int(sent.group(1).replace(",", "")) > 0 and int(sent.group(2)) >= 1
    trail = re.search(r"([\d,]+) CloudTrail events for 1 trail\b", done.stdout)
    assert trail is not None and int(trail.group(1).replace(",", "")) > 0, done.stdout


def test_world_writes_user_activity_to_logging_trails(server: Server) -> None:
    logs, trails = client(server, "logs", retries=0), client(server, "cloudtrail", retries=0)
    group = f"trail-{uuid.uuid4().hex[:6]}"
    logs.create_log_group(logGroupName=group)
    group_arn = f"arn:aws:logs:us-east-1:123456789012:log-group:{group}:*"
    arn = trails.create_trail(
        Name=group, S3BucketName="bucket", CloudWatchLogsLogGroupArn=group_arn,
        CloudWatchLogsRoleArn="arn:aws:iam::123456789012:role/trail-to-logs",
    )["TrailARN"]  # fmt: skip
    silent = trails.create_trail(Name=f"{group}-s3-only", S3BucketName="bucket")["TrailARN"]
    trails.start_logging(Name=silent)
    assert [t.trail_arn for t in discover_trails(trails)] == []  # not logging yet
    trails.start_logging(Name=arn)
    assert [(t.trail_arn, t.group) for t in discover_trails(trails)] == [(arn, group)]

    target = Target(server.url, "us-east-1", ACCESS_KEY, SECRET_KEY)
    world = World(target, rate=1, trail_rate=200, connect_every=60, refresh=0.3, seed=3)
    stop = threading.Event()
    runner = threading.Thread(target=world.run, kwargs={"stop": stop})
    runner.start()
    stream = "123456789012_CloudTrail_us-east-1"
    try:

        def simulated() -> list[dict]:
            try:
                found = logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]
            except logs.exceptions.ResourceNotFoundException:
                return []
            records = [json.loads(e["message"]) for e in found]
            # The server's own records of real calls come from this machine's address.
            return [r for r in records if r["sourceIPAddress"] != "127.0.0.1"]

        made = wait_for(lambda: simulated() or None, what="simulated CloudTrail records")
        assert {r["recipientAccountId"] for r in made} == {"123456789012"}
        assert all(r["eventVersion"] and r["eventID"] and r["userIdentity"] for r in made)

        # Stopping the trail stops the simulated activity within a refresh.
        trails.stop_logging(Name=arn)
        wait_for(
            lambda: not any(isinstance(s, TrailSource) for s in world._runs),
            what="the world to stop following the trail",
        )
    finally:
        stop.set()
        runner.join()
        trails.delete_trail(Name=arn)
        trails.delete_trail(Name=silent)
    assert world.summary.trail_events[arn] > 0


def test_world_users_connect_stay_a_while_and_leave(server: Server) -> None:
    ec2, logs = client(server, "ec2", retries=0), client(server, "logs", retries=0)
    group = f"vpn-{uuid.uuid4().hex[:6]}"
    logs.create_log_group(logGroupName=group)
    endpoint_id = ec2.create_client_vpn_endpoint(
        ClientCidrBlock="10.112.0.0/22", ServerCertificateArn=CERT, AuthenticationOptions=AUTH,
        ConnectionLogOptions={"Enabled": True, "CloudwatchLogGroup": group,
                              "CloudwatchLogStream": "c"},
    )["ClientVpnEndpointId"]  # fmt: skip
    subnet = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])[
        "Subnets"
    ][0]["SubnetId"]
    ec2.associate_client_vpn_target_network(ClientVpnEndpointId=endpoint_id, SubnetId=subnet)

    def logged() -> list[dict]:
        try:
            found = logs.get_log_events(logGroupName=group, logStreamName="c")["events"]
        except logs.exceptions.ResourceNotFoundException:
            return []
        return [records.parse(e["message"]).fields for e in found]

    target = Target(server.url, "us-east-1", ACCESS_KEY, SECRET_KEY)
    world = World(target, rate=1, trail_rate=1, connect_every=0.2, refresh=60, seed=5,
                  session_seconds=0.5)  # fmt: skip
    stop = threading.Event()
    runner = threading.Thread(target=world.run, kwargs={"stop": stop})
    runner.start()
    try:
        wait_for(
            lambda: any(r["connection-log-type"] == "connection-reset" for r in logged()),
            what="a user to leave",
        )
    finally:
        stop.set()
        runner.join()
    connections = ec2.describe_client_vpn_connections(ClientVpnEndpointId=endpoint_id)[
        "Connections"
    ]
    assert connections and {c["Status"]["Code"] for c in connections} == {"terminated"}
    written = logged()
    opened = {r["connection-id"] for r in written if r["connection-log-type"] != "connection-reset"}
    resets = [r for r in written if r["connection-log-type"] == "connection-reset"]
    assert {r["connection-id"] for r in resets} == opened  # everyone left, once
    assert len(resets) == len(opened) <= world.summary.disconnects  # (other endpoints too)
    for reset in resets:
        assert reset["connection-end-time"] != "NA"
        assert reset["connection-duration-seconds"].isdigit()
