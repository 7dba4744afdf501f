"""``logsieve check`` against moto's server: an account set up well passes, gaps fail with
the resources named, fixes apply with --fix --yes, outputs are JSON and SARIF."""

from __future__ import annotations

import json

from logsieve.check.cis import CONTROLS
from tests.check.conftest import moto_client, run_check

ROLE = "arn:aws:iam::123456789012:role/CloudTrail_CloudWatchLogs_Role"


def _account(url: str, *, logging: bool = True, retention: bool = True) -> dict[str, str]:
    """A trail to CloudWatch Logs, a flow log on every VPC, and CIS 4.5 wired to a topic."""
    logs, trail, ec2 = (moto_client(url, s) for s in ("logs", "cloudtrail", "ec2"))
    moto_client(url, "s3").create_bucket(Bucket="trail-bucket")
    logs.create_log_group(logGroupName="trail-group")
    if retention:
        logs.put_retention_policy(logGroupName="trail-group", retentionInDays=365)
    group_arn = logs.describe_log_groups(logGroupNamePrefix="trail-group")["logGroups"][0]["arn"]
    trail_arn = trail.create_trail(
        Name="management", S3BucketName="trail-bucket", IsMultiRegionTrail=True,
        CloudWatchLogsLogGroupArn=group_arn if group_arn.endswith(":*") else group_arn + ":*",
        CloudWatchLogsRoleArn=ROLE,
    )["TrailARN"]  # fmt: skip
    if logging:
        trail.start_logging(Name="management")
    logs.create_log_group(logGroupName="flows")
    logs.put_retention_policy(logGroupName="flows", retentionInDays=30)
    for vpc in ec2.describe_vpcs()["Vpcs"]:
        ec2.create_flow_logs(
            ResourceIds=[vpc["VpcId"]], ResourceType="VPC", TrafficType="ALL",
            LogGroupName="flows", DeliverLogsPermissionArn=ROLE,
        )  # fmt: skip
    control = next(c for c in CONTROLS if c.id == "4.5")
    # The benchmark's pattern, spelled differently: reordered, quoted, spaced, re-grouped.
    logs.put_metric_filter(
        logGroupName="trail-group", filterName="trail-changes",
        filterPattern='{($.eventName="StopLogging")||($.eventName=DeleteTrail)||'
                      '(($.eventName=CreateTrail)||($.eventName=UpdateTrail))||'
                      '($.eventName=StartLogging)}',
        metricTransformations=[{"metricName": "TrailChanges", "metricNamespace": "Sec",
                                "metricValue": "1"}],
    )  # fmt: skip
    sns = moto_client(url, "sns")
    topic = sns.create_topic(Name="security")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="sec@example.com")
    moto_client(url, "cloudwatch").put_metric_alarm(
        AlarmName="trail-changes", MetricName="TrailChanges", Namespace="Sec",
        Statistic="Sum", Period=300, EvaluationPeriods=1, Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold", AlarmActions=[topic],
    )  # fmt: skip
    return {"trail": trail_arn, "control": control.id}


def _by_id(output: str) -> dict[str, dict]:
    return {r["id"]: r for r in json.loads(output)["results"]}


def test_a_well_set_up_account_passes(moto_url) -> None:
    _account(moto_url)
    ids = ["LS-TRAIL-1", "LS-TRAIL-2", "LS-TRAIL-3", "LS-VPC-1", "LS-LOGS-1", "CIS-4.5"]
    result = run_check(moto_url, "--json", *(f"--check={i}" for i in ids))
    assert result.exit_code == 0, result.output
    results = _by_id(result.output)
    assert {i: r["status"] for i, r in results.items()} == dict.fromkeys(ids, "pass")
    account = json.loads(result.output)["account"]
    assert (account["account"], account["unknown"]) == ("123456789012", "")


def test_gaps_fail_naming_the_resources(moto_url) -> None:
    setup = _account(moto_url, logging=False, retention=False)
    moto_client(moto_url, "ec2").create_vpc(CidrBlock="10.9.0.0/16")
    result = run_check(moto_url, "--json")
    assert result.exit_code == 1, result.output
    results = _by_id(result.output)
    assert results["LS-TRAIL-2"]["status"] == "fail"
    assert [f["resource"] for f in results["LS-TRAIL-2"]["failing"]] == [setup["trail"]]
    assert results["LS-TRAIL-1"]["status"] == "fail"  # the only multi-region trail is stopped
    unlogged = [f["resource"] for f in results["LS-VPC-1"]["failing"]]
    assert len(unlogged) == 1 and unlogged[0].startswith("vpc-")
    assert [f["resource"] for f in results["LS-LOGS-1"]["failing"]] == ["trail-group"]
    assert results["LS-VPN-1"]["status"] == "skipped"  # moto has no Client VPN
    assert "DescribeClientVpnEndpoints" in results["LS-VPN-1"]["note"]
    assert results["CIS-4.1"]["status"] == "fail"


def test_fix_shows_then_applies_the_calls(moto_url) -> None:
    _account(moto_url, logging=False, retention=False)
    checks = ["--check=LS-TRAIL-2", "--check=LS-LOGS-1"]
    shown = run_check(moto_url, "--fix", *checks)
    assert shown.exit_code == 1
    assert "aws cloudtrail start-logging --name arn:aws:cloudtrail:" in shown.output
    assert "aws logs put-retention-policy --log-group-name trail-group" in shown.output
    assert "not applied; add --yes" in shown.output
    assert run_check(moto_url, "--json", *checks).exit_code == 1  # nothing was changed
    applied = run_check(moto_url, "--fix", "--yes", *checks)
    assert applied.output.count("applied") >= 2
    after = run_check(moto_url, "--json", *checks)
    assert after.exit_code == 0, after.output


def test_sarif_output(moto_url) -> None:
    result = run_check(moto_url, "--output", "sarif", "--check=LS-TRAIL-1")
    assert result.exit_code == 1
    sarif = json.loads(result.output)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["LS-TRAIL-1"]
    assert run["results"][0]["ruleId"] == "LS-TRAIL-1"
    assert run["results"][0]["level"] == "error"
    assert run["properties"]["account"] == "123456789012"  # moto's account
    assert run["properties"]["callerArn"].endswith(":123456789012:user/moto")


def test_cis_needs_an_alarm_and_a_confirmed_topic(moto_url) -> None:
    _account(moto_url)
    logs, cloudwatch = moto_client(moto_url, "logs"), moto_client(moto_url, "cloudwatch")
    control = next(c for c in CONTROLS if c.id == "4.10")
    logs.put_metric_filter(
        logGroupName="trail-group", filterName="sg", filterPattern=control.pattern,
        metricTransformations=[{"metricName": "SG", "metricNamespace": "Sec",
                                "metricValue": "1"}],
    )  # fmt: skip

    def detail() -> str:
        result = run_check(moto_url, "--json", "--check=CIS-4.10")
        [failing] = _by_id(result.output)["CIS-4.10"]["failing"]
        return failing["detail"]

    assert detail() == "no alarm on the metric of filter sg"
    empty_topic = moto_client(moto_url, "sns").create_topic(Name="nobody")["TopicArn"]
    cloudwatch.put_metric_alarm(
        AlarmName="sg", MetricName="SG", Namespace="Sec", Statistic="Sum", Period=300,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[empty_topic],
    )  # fmt: skip
    assert detail() == "the alarm on SG has no SNS topic with a confirmed subscription"
    moto_client(moto_url, "sns").subscribe(
        TopicArn=empty_topic, Protocol="email", Endpoint="sec@example.com"
    )
    passed = run_check(moto_url, "--json", "--check=CIS-4.10")
    assert _by_id(passed.output)["CIS-4.10"]["status"] == "pass"


def test_all_regions_reports_a_trail_once_in_its_home_region(moto_url) -> None:
    setup = _account(moto_url, logging=False)
    result = run_check(moto_url, "--json", "--all-regions", "--check=LS-TRAIL-2")
    assert result.exit_code == 1, result.output
    results = json.loads(result.output)["results"]
    assert len({r["region"] for r in results}) > 1
    failing = [(r["region"], f["resource"]) for r in results for f in r["failing"]]
    assert failing == [("us-east-1", setup["trail"])]
