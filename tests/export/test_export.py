"""``logsieve export``: a real server filled through boto3, exported as CloudFormation (checked
with cfn-lint) and Terraform (parsed with python-hcl2), every resource with its properties."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from click.testing import CliRunner

from logsieve.cli import main
from tests.lambdas.helpers import ECHO, ROLE, make_zip
from tests.server import ACCESS_KEY, SECRET_KEY, Server, client
from tests.sources.test_aws_setup import plain

GROUP = "/aws/vpc/flow-logs"
MATH = [
    {"Id": "rate", "Expression": "100 * errors / requests", "Label": "Error %",
     "ReturnData": True},
    {"Id": "errors", "ReturnData": False, "MetricStat": {
        "Metric": {"Namespace": "App", "MetricName": "Errors"}, "Period": 300, "Stat": "Sum"}},
    {"Id": "requests", "ReturnData": False, "MetricStat": {
        "Metric": {"Namespace": "App", "MetricName": "Requests",
                   "Dimensions": [{"Name": "Api", "Value": "orders"}]},
        "Period": 300, "Stat": "Sum", "Unit": "Count"}},
]  # fmt: skip
PATTERN = '[version, account, eni, source, destination, srcport, destport, protocol, packets, bytes, start, end, action="REJECT", status]'  # noqa: E501


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Its own server (so the export holds exactly what is made here), filled through boto3."""
    running = Server(tmp_path_factory.mktemp("export-data")).start()
    try:
        logs, cw, sns, lam = (client(running, s) for s in ("logs", "cloudwatch", "sns", "lambda"))
        logs.create_log_group(logGroupName=GROUP)
        logs.put_retention_policy(logGroupName=GROUP, retentionInDays=30)
        logs.create_log_group(logGroupName="app")
        logs.put_metric_filter(
            logGroupName=GROUP, filterName="rejects", filterPattern=PATTERN,
            metricTransformations=[{
                "metricName": "Rejects", "metricNamespace": "VPC", "metricValue": "1",
                "dimensions": {"Port": "$destport"},
            }],
        )  # fmt: skip
        logs.put_metric_filter(
            logGroupName="app", filterName="bytes", filterPattern="[..., bytes, status]",
            metricTransformations=[{
                "metricName": "Bytes", "metricNamespace": "App", "metricValue": "$bytes",
                "defaultValue": 0.0, "unit": "Bytes",
            }],
        )  # fmt: skip
        topic = sns.create_topic(Name="oncall")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="oncall@example.com")
        cw.put_metric_alarm(
            AlarmName="rejects-high", Namespace="VPC", MetricName="Rejects", Statistic="Sum",
            Dimensions=[{"Name": "Port", "Value": "22"}], Period=60, EvaluationPeriods=3,
            DatapointsToAlarm=2, Threshold=100.0, ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching", AlarmActions=[topic], OKActions=[topic],
            AlarmDescription="REJECTed flows to port 22",
        )  # fmt: skip
        function = lam.create_function(
            FunctionName="flow-handler", Runtime="python3.12", Role=ROLE, Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": ECHO})},
        )["FunctionArn"]  # fmt: skip
        lam.add_permission(
            FunctionName="flow-handler", StatementId="logs", Action="lambda:InvokeFunction",
            Principal="logs.amazonaws.com",
        )  # fmt: skip
        # A topic no alarm notifies: its function never runs (a run creates its log group).
        functions = sns.create_topic(Name="functions")["TopicArn"]
        sns.subscribe(TopicArn=functions, Protocol="lambda", Endpoint=function)
        cw.put_metric_alarm(
            AlarmName="error-rate", EvaluationPeriods=1, Threshold=5.0,
            ComparisonOperator="GreaterThanOrEqualToThreshold", AlarmActions=[function],
            Metrics=MATH,
        )  # fmt: skip
        logs.put_subscription_filter(
            logGroupName=GROUP, filterName="to-handler", filterPattern=PATTERN,
            destinationArn=function,
        )  # fmt: skip
        yield {"server": running, "topic": topic, "function": function}
    finally:
        running.stop()


def export(server: Server, *args: str, tmp_path: Path) -> str:
    result = CliRunner().invoke(
        main, ["export", *args, "--endpoint-url", server.url, "--data-dir", str(tmp_path)],
        env={"LOGSIEVE_ACCESS_KEY_ID": ACCESS_KEY, "LOGSIEVE_SECRET_ACCESS_KEY": SECRET_KEY,
             "LOGSIEVE_CONFIG": ""},
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.output


def unmarked(value: Any) -> Any:
    """python-hcl2 (7.x) marks each block ``__is_block__``: drop the marks to compare."""
    if isinstance(value, list):
        return [unmarked(v) for v in value]
    if isinstance(value, dict):
        return {k: unmarked(v) for k, v in value.items() if k != "__is_block__"}
    return value


def by_type(resources: dict[str, Any]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    found: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for logical, resource in resources.items():
        found.setdefault(resource["Type"], []).append((logical, resource))
    return found


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_cloudformation(filled: dict[str, Any], fmt: str, tmp_path: Path) -> None:
    from cfnlint.api import lint_all

    text = export(filled["server"], "cloudformation", "--format", fmt, tmp_path=tmp_path)
    assert [m for m in lint_all(text) if str(m.rule.id)[0] in "EW"] == []
    resources = (json.loads(text) if fmt == "json" else yaml.safe_load(text))["Resources"]
    types = by_type(resources)
    assert sorted((k, r["Properties"]) for k, r in types["AWS::Logs::LogGroup"]) == [
        ("LogGroupApp", {"LogGroupName": "app"}),
        ("LogGroupAwsVpcFlowLogs", {"LogGroupName": GROUP, "RetentionInDays": 30}),
    ]
    assert sorted((k, r["Properties"]) for k, r in types["AWS::Logs::MetricFilter"]) == [
        ("MetricFilterAppBytes", {
            "FilterName": "bytes", "LogGroupName": {"Ref": "LogGroupApp"},
            "FilterPattern": "[..., bytes, status]",
            "MetricTransformations": [{
                "MetricName": "Bytes", "MetricNamespace": "App", "MetricValue": "$bytes",
                "DefaultValue": 0.0, "Unit": "Bytes",
            }],
        }),
        ("MetricFilterAwsVpcFlowLogsRejects", {
            "FilterName": "rejects", "LogGroupName": {"Ref": "LogGroupAwsVpcFlowLogs"},
            "FilterPattern": PATTERN,
            "MetricTransformations": [{
                "MetricName": "Rejects", "MetricNamespace": "VPC", "MetricValue": "1",
                "Dimensions": [{"Key": "Port", "Value": "$destport"}],
            }],
        }),
    ]  # fmt: skip
    assert [(k, r["Properties"]) for k, r in types["AWS::SNS::Topic"]] == [
        ("TopicFunctions", {"TopicName": "functions"}),
        ("TopicOncall", {"TopicName": "oncall"}),
    ]
    assert sorted((k, r["Properties"]) for k, r in types["AWS::SNS::Subscription"]) == [
        ("SubscriptionFunctionsLambdaArnAwsLambdaUsEast1123456789012FunctionFlowHandler", {
            "TopicArn": {"Ref": "TopicFunctions"}, "Protocol": "lambda",
            "Endpoint": filled["function"]}),
        ("SubscriptionOncallEmailOncallExampleCom", {
            "TopicArn": {"Ref": "TopicOncall"}, "Protocol": "email",
            "Endpoint": "oncall@example.com"}),
    ]  # fmt: skip
    alarms = dict(types["AWS::CloudWatch::Alarm"])
    assert alarms["AlarmErrorRate"]["Properties"] == {
        "AlarmName": "error-rate", "ActionsEnabled": True, "EvaluationPeriods": 1,
        "Threshold": 5.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "AlarmActions": [filled["function"]],
        "Metrics": MATH,
    }  # fmt: skip
    assert alarms["AlarmRejectsHigh"]["Properties"] == {
        "AlarmName": "rejects-high", "AlarmDescription": "REJECTed flows to port 22",
        "ActionsEnabled": True, "Namespace": "VPC", "MetricName": "Rejects", "Statistic": "Sum",
        "Period": 60, "EvaluationPeriods": 3, "DatapointsToAlarm": 2, "Threshold": 100.0,
        "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
        "AlarmActions": [{"Ref": "TopicOncall"}], "OKActions": [{"Ref": "TopicOncall"}],
        "Dimensions": [{"Name": "Port", "Value": "22"}],
    }  # fmt: skip
    permissions = dict(types["AWS::Lambda::Permission"])
    assert permissions.pop("PermissionErrorRateFlowHandler")["Properties"] == {
        "Action": "lambda:InvokeFunction", "FunctionName": filled["function"],
        "Principal": "lambda.alarms.cloudwatch.amazonaws.com",
        "SourceArn": {"Fn::GetAtt": ["AlarmErrorRate", "Arn"]},
        "SourceAccount": {"Ref": "AWS::AccountId"},
    }  # fmt: skip
    assert permissions.pop("PermissionFunctionsFlowHandler")["Properties"] == {
        "Action": "lambda:InvokeFunction", "FunctionName": filled["function"],
        "Principal": "sns.amazonaws.com", "SourceArn": {"Ref": "TopicFunctions"},
    }  # fmt: skip
    [(permission, perm)] = permissions.items()
    assert perm["Properties"] == {
        "Action": "lambda:InvokeFunction", "FunctionName": filled["function"],
        "Principal": "logs.amazonaws.com",
        "SourceArn": {"Fn::GetAtt": ["LogGroupAwsVpcFlowLogs", "Arn"]},
        "SourceAccount": {"Ref": "AWS::AccountId"},
    }  # fmt: skip
    [(_, sf)] = types["AWS::Logs::SubscriptionFilter"]
    assert sf == {
        "Type": "AWS::Logs::SubscriptionFilter",
        "Properties": {
            "FilterName": "to-handler", "LogGroupName": {"Ref": "LogGroupAwsVpcFlowLogs"},
            "FilterPattern": PATTERN, "DestinationArn": filled["function"],
            "Distribution": "ByLogStream",
        },
        "DependsOn": [permission],
    }  # fmt: skip
    assert sum(map(len, types.values())) == 14


def test_terraform(filled: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "main.tf"
    export(filled["server"], "terraform", "--output", str(out), tmp_path=tmp_path)
    parsed = unmarked(plain(hcl2.loads(out.read_text())))
    resources = {
        (kind, name): body
        for block in parsed["resource"] for kind, named in block.items()
        for name, body in named.items()
    }  # fmt: skip
    group = "${aws_cloudwatch_log_group.aws_vpc_flow_logs.name}"
    assert resources[("aws_cloudwatch_log_group", "aws_vpc_flow_logs")] == {
        "name": GROUP, "retention_in_days": 30
    }  # fmt: skip
    assert resources[("aws_cloudwatch_log_group", "app")] == {"name": "app"}
    mf = resources[("aws_cloudwatch_log_metric_filter", "aws_vpc_flow_logs_rejects")]
    assert mf["name"] == "rejects" and mf["log_group_name"] == group
    assert mf["pattern"] == PATTERN.replace('"', '\\"')  # python-hcl2 keeps the escapes
    assert mf["metric_transformation"] == [{
        "name": "Rejects", "namespace": "VPC", "value": "1", "dimensions": {"Port": "$destport"},
    }]  # fmt: skip
    assert resources[("aws_cloudwatch_log_metric_filter", "app_bytes")] == {
        "name": "bytes", "log_group_name": "${aws_cloudwatch_log_group.app.name}",
        "pattern": "[..., bytes, status]",
        "metric_transformation": [{"name": "Bytes", "namespace": "App", "value": "$bytes",
                                   "default_value": "0.0", "unit": "Bytes"}],
    }  # fmt: skip
    assert resources[("aws_sns_topic", "oncall")] == {"name": "oncall"}
    assert resources[("aws_sns_topic_subscription", "oncall_email_oncall_example_com")] == {
        "topic_arn": "${aws_sns_topic.oncall.arn}", "protocol": "email",
        "endpoint": "oncall@example.com",
    }  # fmt: skip
    assert resources[("aws_lambda_permission", "topic_functions_flow_handler")] == {
        "action": "lambda:InvokeFunction", "function_name": filled["function"],
        "principal": "sns.amazonaws.com", "source_arn": "${aws_sns_topic.functions.arn}",
    }  # fmt: skip
    assert resources[("aws_sns_topic", "functions")] == {"name": "functions"}
    alarm = resources[("aws_cloudwatch_metric_alarm", "rejects_high")]
    assert alarm == {
        "alarm_name": "rejects-high", "alarm_description": "REJECTed flows to port 22",
        "actions_enabled": True, "namespace": "VPC", "metric_name": "Rejects",
        "statistic": "Sum", "period": 60, "evaluation_periods": 3, "datapoints_to_alarm": 2,
        "threshold": 100.0, "comparison_operator": "GreaterThanThreshold",
        "treat_missing_data": "notBreaching", "alarm_actions": ["${aws_sns_topic.oncall.arn}"],
        "ok_actions": ["${aws_sns_topic.oncall.arn}"], "dimensions": {"Port": "22"},
    }  # fmt: skip
    math = resources[("aws_cloudwatch_metric_alarm", "error_rate")]
    assert math == {
        "alarm_name": "error-rate", "actions_enabled": True, "evaluation_periods": 1,
        "threshold": 5.0, "comparison_operator": "GreaterThanOrEqualToThreshold",
        "alarm_actions": [filled["function"]],
        "metric_query": [
            {"id": "rate", "expression": "100 * errors / requests", "label": "Error %",
             "return_data": True},
            {"id": "errors", "return_data": False, "metric": [
                {"metric_name": "Errors", "namespace": "App", "period": 300, "stat": "Sum"}]},
            {"id": "requests", "return_data": False, "metric": [
                {"metric_name": "Requests", "namespace": "App", "period": 300, "stat": "Sum",
                 "unit": "Count", "dimensions": {"Api": "orders"}}]},
        ],
    }  # fmt: skip
    assert resources[("aws_lambda_permission", "alarm_error_rate_flow_handler")] == {
        "action": "lambda:InvokeFunction", "function_name": filled["function"],
        "principal": "lambda.alarms.cloudwatch.amazonaws.com",
        "source_arn": "${aws_cloudwatch_metric_alarm.error_rate.arn}",
    }  # fmt: skip
    name = "aws_vpc_flow_logs_to_handler"
    assert resources[("aws_lambda_permission", name)] == {
        "action": "lambda:InvokeFunction", "function_name": filled["function"],
        "principal": "logs.amazonaws.com",
        "source_arn": "${aws_cloudwatch_log_group.aws_vpc_flow_logs.arn}:*",
    }  # fmt: skip
    assert resources[("aws_cloudwatch_log_subscription_filter", name)] == {
        "name": "to-handler", "log_group_name": group,
        "filter_pattern": PATTERN.replace('"', '\\"'), "destination_arn": filled["function"],
        "distribution": "ByLogStream", "depends_on": [f"${{aws_lambda_permission.{name}}}"],
    }  # fmt: skip
    assert len(resources) == 14


def test_unreachable_server_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["export", "terraform", "--endpoint-url", "http://127.0.0.1:9", "--data-dir",
               str(tmp_path)],
        env={"LOGSIEVE_ACCESS_KEY_ID": ACCESS_KEY, "LOGSIEVE_SECRET_ACCESS_KEY": SECRET_KEY,
             "LOGSIEVE_CONFIG": ""},
    )  # fmt: skip
    assert result.exit_code == 1
    assert "cannot reach the server" in result.output and "Traceback" not in result.output


def test_empty_server_says_so(tmp_path: Path) -> None:
    running = Server(tmp_path / "empty").start()
    try:
        result = CliRunner().invoke(
            main, ["export", "cloudformation", "--endpoint-url", running.url,
                   "--data-dir", str(tmp_path)],
            env={"LOGSIEVE_ACCESS_KEY_ID": ACCESS_KEY, "LOGSIEVE_SECRET_ACCESS_KEY": SECRET_KEY,
                 "LOGSIEVE_CONFIG": ""},
        )  # fmt: skip
    finally:
        running.stop()
    assert result.exit_code == 1
    assert "nothing to export" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("style", "asked", "given"),
    [
        ("cfn", [("LogGroup", "a-b"), ("LogGroup", "a_b"), ("LogGroup", "a-b")],
         ["LogGroupAB", "LogGroupAB2", "LogGroupAB"]),
        ("tf", [("log_group", "/Aws/VPC"), ("topic", "aws-vpc"), ("log_group", "aws.vpc"),
                ("log_group", "2024/logs"), ("log_group", "///")],
         ["aws_vpc", "aws_vpc", "aws_vpc_2", "log_group_2024_logs", "log_group"]),
    ],
)  # fmt: skip
def test_names_are_readable_stable_and_unique(
    style: str, asked: list[tuple[str, str]], given: list[str]
) -> None:
    from logsieve.export.inventory import Names

    name = Names(style)
    assert [name(kind, text) for kind, text in asked] == given
