"""Monitoring recipes: ``logsieve recipes apply`` makes the metric filters, alarms, topic and
subscription on the real server; each CIS pattern matches its CloudTrail event and not a
neighbour (TestMetricFilter, the server's pattern engine); the --dry-run script creates the
same things when run with the real aws CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from logsieve.cli import main
from tests.server import ACCESS_KEY, SECRET_KEY, Server, client

ENV = {"LOGSIEVE_ACCESS_KEY_ID": ACCESS_KEY, "LOGSIEVE_SECRET_ACCESS_KEY": SECRET_KEY}

#: Per control: a CloudTrail record it must count, and a near miss it must not.
CLOUDTRAIL = {
    "4.1": ({"errorCode": "Client.UnauthorizedOperation", "eventName": "RunInstances"},
            {"errorCode": "ThrottlingException", "eventName": "RunInstances"}),
    "4.2": ({"eventName": "ConsoleLogin", "additionalEventData": {"MFAUsed": "No"},
             "userIdentity": {"type": "IAMUser"}, "responseElements": {"ConsoleLogin": "Success"}},
            {"eventName": "ConsoleLogin", "additionalEventData": {"MFAUsed": "Yes"},
             "userIdentity": {"type": "IAMUser"}, "responseElements": {"ConsoleLogin": "Success"}}),
    "4.3": ({"userIdentity": {"type": "Root"}, "eventType": "AwsApiCall"},
            {"userIdentity": {"type": "Root", "invokedBy": "support.amazonaws.com"},
             "eventType": "AwsApiCall"}),
    "4.4": ({"eventName": "AttachRolePolicy"}, {"eventName": "ListPolicies"}),
    "4.5": ({"eventName": "StopLogging"}, {"eventName": "LookupEvents"}),
    "4.6": ({"eventName": "ConsoleLogin", "errorMessage": "Failed authentication"},
            {"eventName": "ConsoleLogin"}),
    "4.7": ({"eventSource": "kms.amazonaws.com", "eventName": "ScheduleKeyDeletion"},
            {"eventSource": "kms.amazonaws.com", "eventName": "Decrypt"}),
    "4.8": ({"eventSource": "s3.amazonaws.com", "eventName": "PutBucketPolicy"},
            {"eventSource": "s3.amazonaws.com", "eventName": "GetBucketPolicy"}),
    "4.9": ({"eventSource": "config.amazonaws.com", "eventName": "StopConfigurationRecorder"},
            {"eventSource": "config.amazonaws.com", "eventName": "DescribeConfigRules"}),
    "4.10": ({"eventName": "AuthorizeSecurityGroupIngress"},
             {"eventName": "DescribeSecurityGroups"}),
    "4.11": ({"eventName": "ReplaceNetworkAclEntry"}, {"eventName": "DescribeNetworkAcls"}),
    "4.12": ({"eventName": "AttachInternetGateway"}, {"eventName": "DescribeInternetGateways"}),
    "4.13": ({"eventName": "CreateRoute"}, {"eventName": "DescribeRouteTables"}),
    "4.14": ({"eventName": "CreateVpcPeeringConnection"}, {"eventName": "DescribeVpcs"}),
}  # fmt: skip


def apply(server: Server, *args: str) -> str:
    result = CliRunner().invoke(
        main, ["recipes", "apply", *args, "--endpoint-url", server.url], env=ENV
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_cis_monitoring_creates_filters_alarms_and_one_topic(
    server: Server, logs: Any, cloudwatch: Any
) -> None:
    group = f"trail-{uuid.uuid4().hex[:8]}"
    topic = f"cis-{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=group)
    out = apply(server, "cis-monitoring", "--log-group", group, "--email", "sec@example.com",
                "--topic", topic)  # fmt: skip
    assert "Created 14 metric filters" in out
    filters = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    assert len(filters) == 14
    by_number = {f["filterName"].split("-")[1]: f for f in filters}
    assert sorted(by_number, key=lambda n: int(n.split(".")[1])) == list(CLOUDTRAIL)
    for number, (hit, miss) in CLOUDTRAIL.items():
        pattern = by_number[number]["filterPattern"]
        matched = logs.test_metric_filter(
            filterPattern=pattern, logEventMessages=[json.dumps(hit), json.dumps(miss)]
        )["matches"]
        assert [m["eventNumber"] for m in matched] == [1], (number, pattern)
    alarms = cloudwatch.describe_alarms(AlarmNamePrefix="CIS-4.")["MetricAlarms"]
    ours = [a for a in alarms if a["AlarmActions"][0].endswith(f":{topic}")]
    assert len(ours) == 14
    for alarm in ours:
        assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Sum", 300, 1.0)
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["MetricName"] == alarm["AlarmName"]
    sns = client(server, "sns")
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=ours[0]["AlarmActions"][0])
    assert [s["Endpoint"] for s in subscriptions["Subscriptions"]] == ["sec@example.com"]


def test_rejected_traffic_rate_counts_rejects_only(server: Server, logs: Any) -> None:
    group = f"flow-{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=group)
    apply(server, "rejected-traffic-rate", "--log-group", group, "--threshold", "50",
          "--topic", f"rt-{uuid.uuid4().hex[:8]}")  # fmt: skip
    (total,) = [
        f for f in logs.describe_metric_filters(logGroupName=group)["metricFilters"]
        if f["filterName"] == "RejectedFlows"
    ]  # fmt: skip
    lines = [
        "2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 "
        "1432917027 1432917142 REJECT OK",
        "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 "
        "1418530010 1418530070 ACCEPT OK",
    ]
    matched = logs.test_metric_filter(filterPattern=total["filterPattern"], logEventMessages=lines)
    assert [m["eventNumber"] for m in matched["matches"]] == [1]


def test_the_dry_run_script_creates_the_same_with_the_aws_cli(
    server: Server, logs: Any, cloudwatch: Any, tmp_path: Path
) -> None:
    group = f"flow-{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=group)
    script = apply(server, "rejected-traffic-rate", "--log-group", group, "--email",
                   "ops@example.com", "--topic", f"dry-{uuid.uuid4().hex[:8]}",
                   "--dry-run")  # fmt: skip
    venv_bin = str(Path(sys.executable).parent)
    env = {
        "PATH": f"{venv_bin}:{os.environ['PATH']}", "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": server.url,
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
    }  # fmt: skip
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    names = [
        f["filterName"] for f in logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    ]
    assert sorted(names) == ["RejectedFlows", "RejectedFlowsBySource"]
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=["rejected-traffic-rate"])["MetricAlarms"]
    assert alarm["AlarmActions"][0].startswith("arn:aws:sns:us-east-1:")


@pytest.mark.parametrize("recipe", ["cis-monitoring"])
def test_rejected_traffic_options_are_refused_elsewhere(server: Server, recipe: str) -> None:
    result = CliRunner().invoke(
        main, ["recipes", "apply", recipe, "--log-group", "g", "--threshold", "5", "--dry-run"]
    )
    assert result.exit_code != 0
    assert "apply to rejected-traffic-rate only" in result.output
