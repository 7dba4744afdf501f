"""``logsieve aws-setup``: the CloudFormation passes cfn-lint, the Terraform parses as HCL, and
both hold exactly the least-privilege pieces a source needs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import hcl2
import pytest
from click.testing import CliRunner

from logsieve.cli import main

FLOW_PATTERN = '[version, account, eni, source, destination, srcport, destport="22", protocol, packets, bytes, start, end, action="REJECT", status]'  # noqa: E501


def plain(value: Any) -> Any:
    """python-hcl2 (7.x) keeps the quotes of labels and strings: drop them to compare."""
    if isinstance(value, str):
        return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    return value


def run(*args: str, ok: bool = True) -> str:
    result = CliRunner().invoke(main, ["aws-setup", *args], env={"LOGSIEVE_CONFIG": ""})
    if ok:
        assert result.exit_code == 0, result.output
    return result.output


def cfn_lint(template: str, tmp_path: Path) -> list[Any]:
    from cfnlint.api import lint_all

    return [m for m in lint_all(template) if str(m.rule.id)[0] in "EW"]


@pytest.mark.parametrize("kind", ["firehose", "kinesis"])
def test_cloudformation_passes_cfn_lint(kind: str, tmp_path: Path) -> None:
    extra = ["--url", "https://alerts.example.com/firehose/prod"] if kind == "firehose" else []
    text = run(kind, "--log-group", "/aws/clientvpn", "--log-group", "/aws/vpc/flow", *extra)
    assert cfn_lint(text, tmp_path) == []
    template = json.loads(text)
    resources = template["Resources"]
    filters = [r for r in resources.values() if r["Type"] == "AWS::Logs::SubscriptionFilter"]
    assert sorted(f["Properties"]["LogGroupName"] for f in filters) == [
        "/aws/clientvpn", "/aws/vpc/flow"
    ]  # fmt: skip
    logs_role = resources["LogsRole"]["Properties"]
    trust = logs_role["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "logs.amazonaws.com"} and "Condition" in trust
    [statement] = logs_role["Policies"][0]["PolicyDocument"]["Statement"]
    assert all(not a.endswith("*") for a in statement["Action"])
    assert "*" not in json.dumps(statement["Resource"])
    if kind == "firehose":
        config = resources["DeliveryStream"]["Properties"]["HttpEndpointDestinationConfiguration"]
        assert config["EndpointConfiguration"]["Url"] == "https://alerts.example.com/firehose/prod"
        assert config["RequestConfiguration"] == {"ContentEncoding": "GZIP"}
        assert template["Parameters"]["FirehoseAccessKey"]["NoEcho"] is True
        assert statement["Action"] == ["firehose:PutRecord", "firehose:PutRecordBatch"]
    else:
        reader = resources["ReaderPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
        assert all(a.startswith("kinesis:Get") or a.startswith("kinesis:Describe")
                   or a == "kinesis:ListShards" for a in reader["Action"])  # fmt: skip


@pytest.mark.parametrize("kind", ["firehose", "kinesis"])
def test_terraform_parses_as_hcl(kind: str) -> None:
    extra = ["--url", "https://alerts.example.com/firehose/prod"] if kind == "firehose" else []
    text = run(kind, "--log-group", "/aws/clientvpn", "--terraform", *extra)
    parsed = plain(hcl2.loads(text))
    resources = {
        (kind_, name): body
        for block in parsed["resource"] for kind_, named in block.items()
        for name, body in named.items()
    }  # fmt: skip
    [subscription] = [b for (k, _), b in resources.items()
                      if k == "aws_cloudwatch_log_subscription_filter"]  # fmt: skip
    assert subscription["log_group_name"] == "/aws/clientvpn"
    if kind == "firehose":
        stream = resources[("aws_kinesis_firehose_delivery_stream", "logsieve")]
        http = stream["http_endpoint_configuration"][0]
        assert http["url"] == "https://alerts.example.com/firehose/prod"
        assert http["request_configuration"][0]["content_encoding"] == "GZIP"
        assert any("firehose_access_key" in v for v in parsed["variable"][0])
    else:
        assert ("aws_kinesis_stream", "logsieve") in resources
        assert ("aws_iam_policy", "reader") in resources


def test_rules_patterns_filter_at_the_source(tmp_path: Path) -> None:
    config = tmp_path / "logsieve.toml"
    config.write_text(
        '[[channels]]\nname = "hook"\ntype = "webhook"\nurl = "https://example.com/h"\n'
        '[[alerts]]\nname = "ssh"\nlog_groups = ["/aws/vpc/flow"]\nchannels = ["hook"]\n'
        f"pattern = '{FLOW_PATTERN}'\n"
    )
    text = run("kinesis", "--log-group", "/aws/vpc/flow", "--log-group", "/other",
               "--rules-patterns", "--config", str(config))  # fmt: skip
    template = json.loads(text[text.index("{") :])
    patterns = {
        r["Properties"]["LogGroupName"]: r["Properties"]["FilterPattern"]
        for r in template["Resources"].values() if r["Type"] == "AWS::Logs::SubscriptionFilter"
    }  # fmt: skip
    assert patterns == {"/aws/vpc/flow": FLOW_PATTERN, "/other": ""}


def test_the_pull_policy_is_read_only() -> None:
    text = run("pull-policy", "--log-group", "/aws/clientvpn",
               "--log-group", "/aws/vpc/flow-*", "--region", "ap-northeast-1")  # fmt: skip
    policy = json.loads(text)
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert actions == {
        "logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:FilterLogEvents",
        "logs:GetLogEvents", "logs:StartLiveTail",
    }  # fmt: skip
    read = policy["Statement"][1]["Resource"]
    assert "arn:aws:logs:ap-northeast-1:*:log-group:/aws/vpc/flow-*" in read
    assert "arn:aws:logs:ap-northeast-1:*:log-group:/aws/clientvpn:*" in read


def test_firehose_needs_an_https_url() -> None:
    output = run("firehose", "--log-group", "/g", "--url", "http://x/firehose", ok=False)
    assert "https://" in output
