"""The ``vpn-connect-realtime`` client connect handler, packaged for real AWS.

Three files: the function's zip (the handler module alone: it needs only the standard library
and the boto3 every Lambda Python runtime has; fixed timestamps, so the same source gives the
same zip and Terraform's ``source_code_hash`` only changes with the code), a CloudFormation
template and the same in Terraform. Both deploy the function (named ``AWSClientVPN-...``:
Client VPN only invokes functions with that prefix, through its service-linked role, so no
``lambda:InvokeFunction`` permission is needed), its role (logs, and ``sns:Publish`` on the
topic), and the SNS topic with an email subscription. The endpoint itself is the user's: the
templates give the ``ClientConnectOptions`` lines to add to it, and the aws CLI command.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from importlib import resources
from typing import Any

from .cloudformation import template_text

__all__ = ["MODULE", "ZIP_NAME", "Package", "cloudformation", "handler_zip", "terraform"]

MODULE = "vpn_connect_realtime"
ZIP_NAME = "vpn-connect-realtime.zip"
HANDLER = f"{MODULE}.handler"
RUNTIME = "python3.12"
TIMEOUT = 10  # seconds; Client VPN gives the handler 30, a slow alert must not eat them
_FIXED_TIME = (2024, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Package:
    """What the user chooses: the function's name and the allow-list (empty: everyone)."""

    function_name: str = "AWSClientVPN-connect-alert"
    allow_list: tuple[str, ...] = ()

    @property
    def allow(self) -> str:
        return ",".join(self.allow_list)


def handler_source() -> str:
    return resources.files("logsieve.ec2.handlers").joinpath(f"{MODULE}.py").read_text()


def handler_zip() -> bytes:
    """The deployment package: ``vpn_connect_realtime.py`` at the root."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        entry = zipfile.ZipInfo(f"{MODULE}.py", date_time=_FIXED_TIME)
        entry.external_attr = 0o644 << 16
        bundle.writestr(entry, handler_source(), zipfile.ZIP_DEFLATED)
    return out.getvalue()


_ENDPOINT_LINES = """\
# The Client VPN endpoint calls the function once it names it. In CloudFormation, on your
# AWS::EC2::ClientVpnEndpoint:
#   ClientConnectOptions:
#     Enabled: true
#     LambdaFunctionArn: !GetAtt ConnectHandler.Arn
# or, for an existing endpoint (the ClientConnectOptionsCommand output):
#   aws ec2 modify-client-vpn-endpoint --client-vpn-endpoint-id cvpn-endpoint-... \\
#     --client-connect-options Enabled=true,LambdaFunctionArn=<ConnectHandlerArn output>
"""


def _role() -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                    }
                ],
            },
            "ManagedPolicyArns": [
                {
                    "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                    "AWSLambdaBasicExecutionRole"
                }
            ],
            "Policies": [
                {
                    "PolicyName": "publish-vpn-alerts",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "sns:Publish",
                                "Resource": {"Ref": "AlertTopic"},
                            }
                        ],
                    },
                }
            ],
        },
    }


def cloudformation(package: Package, yaml_format: bool = True) -> str:
    """The template (YAML by default, with the endpoint lines as a leading comment)."""
    document: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "vpn-connect-realtime: a Client VPN client connect handler that emails "
        "on every connection (logsieve recipes package)",
        "Parameters": {
            "FunctionName": {
                "Type": "String",
                "Default": package.function_name,
                "AllowedPattern": "^AWSClientVPN-.+",
                "Description": "Client VPN only calls functions whose name starts AWSClientVPN-",
            },
            "CodeBucket": {"Type": "String", "Description": f"S3 bucket holding {ZIP_NAME}"},
            "CodeKey": {"Type": "String", "Default": ZIP_NAME},
            "AlertEmail": {"Type": "String", "Description": "Who gets the alerts"},
            "AllowList": {
                "Type": "String",
                "Default": package.allow,
                "Description": "Comma-separated usernames or certificate common names allowed "
                "to connect; empty allows everyone",
            },
        },
        "Resources": {
            "AlertTopic": {
                "Type": "AWS::SNS::Topic",
                "Properties": {"DisplayName": "VPN connections"},
            },
            "AlertSubscription": {
                "Type": "AWS::SNS::Subscription",
                "Properties": {
                    "TopicArn": {"Ref": "AlertTopic"},
                    "Protocol": "email",
                    "Endpoint": {"Ref": "AlertEmail"},
                },
            },
            "ConnectHandlerRole": _role(),
            "ConnectHandler": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": {"Ref": "FunctionName"},
                    "Runtime": RUNTIME,
                    "Handler": HANDLER,
                    "Timeout": TIMEOUT,
                    "Role": {"Fn::GetAtt": ["ConnectHandlerRole", "Arn"]},
                    "Code": {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}},
                    "Environment": {
                        "Variables": {
                            "TOPIC_ARN": {"Ref": "AlertTopic"},
                            "ALLOW": {"Ref": "AllowList"},
                        }
                    },
                },
            },
        },
        "Outputs": {
            "ConnectHandlerArn": {"Value": {"Fn::GetAtt": ["ConnectHandler", "Arn"]}},
            "ClientConnectOptionsCommand": {
                "Description": "Names the handler on an existing endpoint",
                "Value": {
                    "Fn::Sub": "aws ec2 modify-client-vpn-endpoint "
                    "--client-vpn-endpoint-id <endpoint-id> --client-connect-options "
                    "Enabled=true,LambdaFunctionArn=${ConnectHandler.Arn}"
                },
            },
        },
    }
    text = template_text(document, yaml_format)
    return _ENDPOINT_LINES + text if yaml_format else text


def _hcl(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "$${") + '"'


def terraform(package: Package) -> str:
    """The same resources in Terraform (``filename`` relative to the module directory)."""
    return f"""\
# vpn-connect-realtime: a Client VPN client connect handler that emails on every connection
# (logsieve recipes package). Put {ZIP_NAME} next to this file.

variable "alert_email" {{
  type        = string
  description = "Who gets the alerts"
}}

variable "allow_list" {{
  type        = string
  default     = {_hcl(package.allow)}
  description = "Comma-separated usernames or certificate common names; empty allows everyone"
}}

variable "function_name" {{
  type    = string
  default = {_hcl(package.function_name)}
  validation {{
    condition     = startswith(var.function_name, "AWSClientVPN-")
    error_message = "Client VPN only calls functions whose name starts with AWSClientVPN-."
  }}
}}

resource "aws_sns_topic" "vpn_connections" {{
  name = "vpn-connections"
}}

resource "aws_sns_topic_subscription" "vpn_connections_email" {{
  topic_arn = aws_sns_topic.vpn_connections.arn
  protocol  = "email"
  endpoint  = var.alert_email
}}

resource "aws_iam_role" "vpn_connect" {{
  name_prefix = "vpn-connect-realtime-"
  assume_role_policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "sts:AssumeRole",
                   Principal = {{ Service = "lambda.amazonaws.com" }} }}]
  }})
}}

resource "aws_iam_role_policy_attachment" "vpn_connect_logs" {{
  role       = aws_iam_role.vpn_connect.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}}

resource "aws_iam_role_policy" "vpn_connect_publish" {{
  role = aws_iam_role.vpn_connect.id
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "sns:Publish",
                   Resource = aws_sns_topic.vpn_connections.arn }}]
  }})
}}

resource "aws_lambda_function" "vpn_connect" {{
  function_name    = var.function_name
  filename         = "{ZIP_NAME}"
  source_code_hash = filebase64sha256("{ZIP_NAME}")
  handler          = "{HANDLER}"
  runtime          = "{RUNTIME}"
  timeout          = {TIMEOUT}
  role             = aws_iam_role.vpn_connect.arn
  environment {{
    variables = {{
      TOPIC_ARN = aws_sns_topic.vpn_connections.arn
      ALLOW     = var.allow_list
    }}
  }}
}}

output "connect_handler_arn" {{
  value = aws_lambda_function.vpn_connect.arn
}}

# On your aws_ec2_client_vpn_endpoint:
#   client_connect_options {{
#     enabled             = true
#     lambda_function_arn = aws_lambda_function.vpn_connect.arn
#   }}
"""
