"""``logsieve check --endpoint-url`` against this server: the CloudTrail, Logs and SNS parts
(EC2 and CloudWatch alarms are other services' work: those checks say they were skipped)."""

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
    checks = ["--check=LS-TRAIL-1", "--check=LS-TRAIL-2", "--check=LS-LOGS-1", "--check=LS-VPC-1"]
    try:
        before = run_check(server.url, "--json", *checks, env=KEYS)
        assert before.exit_code == 1, before.output
        results = {r["id"]: r for r in json.loads(before.output)}
        assert [f["resource"] for f in results["LS-TRAIL-2"]["failing"]] == [trail_arn]
        assert "check-trail" in [f["resource"] for f in results["LS-LOGS-1"]["failing"]]
        assert results["LS-VPC-1"]["status"] == "skipped"
        fixed = run_check(server.url, "--fix", "--yes", *checks, env=KEYS)
        assert "applied" in fixed.output
        after = run_check(server.url, "--json", *checks, env=KEYS)
        statuses = {r["id"]: r["status"] for r in json.loads(after.output)}
        assert statuses == {
            "LS-TRAIL-1": "pass", "LS-TRAIL-2": "pass", "LS-LOGS-1": "pass",
            "LS-VPC-1": "skipped",
        }  # fmt: skip
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
