"""``logsieve recipes package vpn-connect-realtime``: the handler zip, ready for AWS's Python
runtime (run here from the unzipped files with only boto3, publishing to a topic on the real
server), and the CloudFormation (cfn-lint) and Terraform (python-hcl2) that deploy it."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import hcl2
import pytest
import yaml
from click.testing import CliRunner

from logsieve.cli import main
from tests.server import ACCESS_KEY, SECRET_KEY, client
from tests.sources.test_aws_setup import plain

from . import test_realtime_recipe

# Its server (SNS sending email to a local SMTP receiver) and that receiver.
server, smtp = test_realtime_recipe.server, test_realtime_recipe.smtp

# The request AWS's "Connection authorization" page documents (schema v3).
REQUEST = {
    "connection-id": "cvpn-connection-04e7e1b2f0daf9460",
    "endpoint-id": "cvpn-endpoint-0123456789abcdef0",
    "common-name": "client1",
    "username": "alice",
    "platform": "mac",
    "platform-version": "14.4.1",
    "public-ip": "203.0.113.7",
    "client-openvpn-version": "2.6.8",
    "aws-client-version": "4.1.0",
    "groups": "",
    "schema-version": "v3",
}


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("package")
    done = CliRunner().invoke(
        main, ["recipes", "package", "vpn-connect-realtime", "--allow-list", "alice, bob",
               "--output", str(out)],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "aws cloudformation deploy" in done.output
    return out


def test_the_zip_holds_only_the_handler_and_it_needs_only_boto3(package: Path) -> None:
    with zipfile.ZipFile(package / "vpn-connect-realtime.zip") as bundle:
        assert bundle.namelist() == ["vpn_connect_realtime.py"]
        source = bundle.read("vpn_connect_realtime.py").decode()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"boto3"}


def invoke(unzipped: Path, event: dict, env: dict[str, str]) -> dict:
    """The handler as Lambda's runtime calls it: the module imported from the task root."""
    script = ("import json, sys, vpn_connect_realtime as h\n"
              "print(json.dumps(h.handler(json.loads(sys.stdin.read()), None)))")  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=unzipped, input=json.dumps(event), env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_unzipped_handler_alerts_through_sns_and_applies_the_allow_list(
    package: Path,
    server,
    smtp,
    tmp_path: Path,
) -> None:
    sns = client(server, "sns", retries=0)
    topic = sns.create_topic(Name=f"vpn-{uuid.uuid4().hex[:6]}")["TopicArn"]
    address = f"sec-{uuid.uuid4().hex[:6]}@example.com"
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=address)
    with zipfile.ZipFile(package / "vpn-connect-realtime.zip") as bundle:
        bundle.extractall(tmp_path)
    # What Lambda's environment gives the function, plus the endpoint of this server.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID=ACCESS_KEY,
               AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_ENDPOINT_URL=server.url,
               TOPIC_ARN=topic, ALLOW="alice, bob")  # fmt: skip

    answer = invoke(tmp_path, REQUEST, env)
    assert answer == {"allow": True, "error-msg-on-denied-connection": "",
                      "posture-compliance-statuses": [], "schema-version": "v3"}  # fmt: skip
    [mail] = smtp.wait_messages(address)
    assert mail["Subject"] == "VPN: alice connected from 203.0.113.7"

    denied = invoke(tmp_path, {**REQUEST, "username": "mallory", "common-name": "x"}, env)
    assert denied["allow"] is False
    assert denied["error-msg-on-denied-connection"] == (
        "mallory is not allowed to connect to this VPN."
    )


def test_the_cloudformation_template_passes_cfn_lint_and_wires_the_handler(
    package: Path,
) -> None:
    from cfnlint.api import lint_all

    text = (package / "vpn-connect-realtime.cfn.yaml").read_text()
    assert [m for m in lint_all(text) if str(m.rule.id)[0] in "EW"] == []
    document = yaml.safe_load(text)
    parameters, resources = document["Parameters"], document["Resources"]
    assert parameters["FunctionName"]["Default"].startswith("AWSClientVPN-")
    assert parameters["FunctionName"]["AllowedPattern"] == "^AWSClientVPN-.+"
    assert parameters["AllowList"]["Default"] == "alice,bob"
    kinds = {name: body["Type"] for name, body in resources.items()}
    assert sorted(kinds.values()) == [
        "AWS::IAM::Role", "AWS::Lambda::Function", "AWS::SNS::Subscription", "AWS::SNS::Topic"
    ]  # fmt: skip
    function = resources["ConnectHandler"]["Properties"]
    assert function["Handler"] == "vpn_connect_realtime.handler"
    assert function["Runtime"] == "python3.12" and function["Timeout"] <= 30
    assert set(function["Environment"]["Variables"]) == {"TOPIC_ARN", "ALLOW"}
    role = json.dumps(resources["ConnectHandlerRole"]["Properties"])
    assert "sns:Publish" in role and "AWSLambdaBasicExecutionRole" in role
    assert "ClientConnectOptions" in text and "LambdaFunctionArn" in text
    assert "modify-client-vpn-endpoint" in json.dumps(document["Outputs"])


def test_the_terraform_parses_and_declares_the_same_resources(package: Path) -> None:
    text = (package / "vpn-connect-realtime.tf").read_text()
    parsed = plain(hcl2.loads(text))
    resources = {
        (kind, name): body
        for block in parsed["resource"] for kind, named in block.items()
        for name, body in named.items()
    }  # fmt: skip
    kinds = sorted(kind for kind, _ in resources)
    assert kinds == [
        "aws_iam_role", "aws_iam_role_policy", "aws_iam_role_policy_attachment",
        "aws_lambda_function", "aws_sns_topic", "aws_sns_topic_subscription",
    ]  # fmt: skip
    [function] = [b for (k, _), b in resources.items() if k == "aws_lambda_function"]
    assert function["function_name"] == "${var.function_name}"
    assert function["filename"] == "vpn-connect-realtime.zip"
    assert function["handler"] == "vpn_connect_realtime.handler"
    assert function["runtime"] == "python3.12"
    variables = {name: body for block in parsed["variable"] for name, body in block.items()}
    assert {"alert_email", "allow_list", "function_name"} <= set(variables)
    assert variables["function_name"]["default"].startswith("AWSClientVPN-")
    assert variables["allow_list"]["default"] == "alice,bob"
    assert "client_connect_options" in text and "lambda_function_arn" in text
