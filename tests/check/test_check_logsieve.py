"""``logsieve check --endpoint-url`` against this server: CloudTrail, Logs, EC2 flow logs and
Client VPN (CloudWatch alarms come with another service: moto's tests cover the CIS alarms)."""

from __future__ import annotations

import json

from tests.check.conftest import run_check
from tests.server import ACCESS_KEY, SECRET_KEY, client

KEYS = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
ROLE = "arn:aws:iam::123456789012:role/CloudTrail_CloudWatchLogs_Role"


def test_trail_checks_and_fixes_on_this_server(server) -> None:
    logs, trails = client(server), client(server, "cloudtrail")
    logs.create_log_group(logGroupName="check-trail")
    arn = logs.describe_log_groups(logGroupNamePrefix="check-trail")["logGroups"][0]["arn"]
    trail_arn = trails.create_trail(
        Name="check-trail", S3BucketName="b", IsMultiRegionTrail=True,
        CloudWatchLogsLogGroupArn=arn if arn.endswith(":*") else arn + ":*",
        CloudWatchLogsRoleArn=ROLE,
    )["TrailARN"]  # fmt: skip
    checks = ["--check=LS-TRAIL-1", "--check=LS-TRAIL-2", "--check=LS-LOGS-1"]
    try:
        before = run_check(server.url, "--json", *checks, env=KEYS)
        assert before.exit_code == 1, before.output
        results = {r["id"]: r for r in json.loads(before.output)["results"]}
        assert [f["resource"] for f in results["LS-TRAIL-2"]["failing"]] == [trail_arn]
        assert "check-trail" in [f["resource"] for f in results["LS-LOGS-1"]["failing"]]
        fixed = run_check(server.url, "--fix", "--yes", *checks, env=KEYS)
        assert "applied" in fixed.output
        after = run_check(server.url, "--json", *checks, env=KEYS)
        statuses = {r["id"]: r["status"] for r in json.loads(after.output)["results"]}
        assert statuses == {"LS-TRAIL-1": "pass", "LS-TRAIL-2": "pass", "LS-LOGS-1": "pass"}
        assert after.exit_code == 0
        assert trails.get_trail_status(Name="check-trail")["IsLogging"] is True
    finally:
        trails.delete_trail(Name="check-trail")


def test_a_refused_key_exits_2_naming_the_permission(server) -> None:
    result = run_check(
        server.url, "--check=LS-TRAIL-1",
        env={"AWS_ACCESS_KEY_ID": "AKIANOBODY0000000000", "AWS_SECRET_ACCESS_KEY": "x"},
    )  # fmt: skip
    assert result.exit_code == 2
    assert "missing permission cloudtrail:DescribeTrails" in result.output


CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f6b8e1e-1111-2222-3333-444455556666"
AUTH = [{"Type": "certificate-authentication",
         "MutualAuthentication": {"ClientRootCertificateChainArn": CERT}}]  # fmt: skip


def test_client_vpn_and_flow_log_checks_on_this_server(tmp_path) -> None:
    """Client VPN is the part moto cannot check: endpoints without connection logging, or
    logging to a group that is gone, fail; so does a VPC without a flow log."""
    from tests.server import Server

    server = Server(tmp_path / "data").start(timeout=90)
    try:
        ec2, logs = client(server, "ec2"), client(server)
        logs.create_log_group(logGroupName="vpn-logs")
        endpoint = dict(ClientCidrBlock="10.100.0.0/22", ServerCertificateArn=CERT,
                        AuthenticationOptions=AUTH)  # fmt: skip
        silent = ec2.create_client_vpn_endpoint(
            **endpoint, ConnectionLogOptions={"Enabled": False}
        )["ClientVpnEndpointId"]
        logged = ec2.create_client_vpn_endpoint(
            **endpoint,
            ConnectionLogOptions={"Enabled": True, "CloudwatchLogGroup": "vpn-logs"},
        )["ClientVpnEndpointId"]
        gone = ec2.create_client_vpn_endpoint(
            **endpoint,
            ConnectionLogOptions={"Enabled": True, "CloudwatchLogGroup": "vpn-logs"},
        )["ClientVpnEndpointId"]
        ec2.modify_client_vpn_endpoint(
            ClientVpnEndpointId=gone,
            ConnectionLogOptions={"Enabled": True, "CloudwatchLogGroup": "vpn-gone"},
        )
        result = run_check(server.url, "--json", "--check=LS-VPN-1", "--check=LS-VPC-1",
                           env=KEYS)  # fmt: skip
        assert result.exit_code == 1, result.output
        results = {r["id"]: r for r in json.loads(result.output)["results"]}
        failing = {f["resource"]: f["detail"] for f in results["LS-VPN-1"]["failing"]}
        assert set(failing) == {silent, gone}, failing
        assert failing[silent] == "connection logging is disabled"
        assert "vpn-gone, which does not exist" in failing[gone]
        assert logged not in failing
        vpcs = [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]]
        assert [f["resource"] for f in results["LS-VPC-1"]["failing"]] == vpcs
    finally:
        server.stop()
