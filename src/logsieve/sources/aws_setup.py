"""What the AWS side of a source needs, generated: CloudFormation (JSON) or Terraform (HCL).

``firehose``: a Firehose delivery stream with an HTTP endpoint (this server), gzip requests,
a backup bucket for what could not be delivered, and subscription filters feeding it.
``kinesis``: a Kinesis stream, subscription filters feeding it, and the read-only managed
policy the kinesis source's credentials need. ``pull_policy``: the read-only IAM policy a
``cloudwatch-logs`` source needs. Every role trusts only its service and may do only what
its delivery needs, on only the resources it delivers to.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Raw", "Setup", "cloudformation", "hcl_block", "hcl_value", "patterns_for", "pull_policy",
    "terraform",
]  # fmt: skip

VERSION = "2012-10-17"
_S3_ACTIONS = [
    "s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket",
    "s3:ListBucketMultipartUploads", "s3:PutObject",
]  # fmt: skip
KINESIS_READ = [
    "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
    "kinesis:GetShardIterator", "kinesis:ListShards",
]  # fmt: skip
PULL_READ = [
    "logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:FilterLogEvents",
    "logs:GetLogEvents", "logs:StartLiveTail",
]  # fmt: skip


@dataclass(frozen=True)
class Setup:
    kind: str  # "firehose" | "kinesis"
    name: str  # the delivery stream's or Kinesis stream's name
    log_groups: Sequence[str]
    patterns: dict[str, str] = field(default_factory=dict)  # log group -> filter pattern
    url: str | None = None  # firehose: this server's https URL (with the source's path)
    shards: int = 1


def patterns_for(groups: Sequence[str], rules: Sequence[Any]) -> tuple[dict[str, str], list[str]]:
    """The subscription filter pattern for each group from the local alert rules on it, and
    notes for groups where that is not possible (one filter has one pattern: several
    different rules' patterns, or a rule matching everything, mean every event must leave)."""
    found: dict[str, str] = {}
    notes: list[str] = []
    for group in groups:
        patterns = {
            rule.pattern for rule in rules
            if any(g == group or (g.endswith("*") and group.startswith(g[:-1]))
                   for g in rule.log_groups)
        }  # fmt: skip
        if len(patterns) == 1:
            found[group] = next(iter(patterns))
        elif len(patterns) > 1:
            found[group] = ""
            notes.append(
                f"{group}: {len(patterns)} local rules with different patterns; the filter "
                "sends every event (a subscription filter has one pattern)"
            )
        else:
            found[group] = ""
            notes.append(f"{group}: no local rule reads it; the filter sends every event")
    return found, notes


def _logical(group: str, index: int) -> str:
    return "Subscription" + str(index) + re.sub(r"[^A-Za-z0-9]", "", group.title())[:40]


def _trust(service: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"
    }  # fmt: skip
    if condition:
        statement["Condition"] = condition
    return {"Version": VERSION, "Statement": [statement]}


def _policy(actions: list[str], resources: list[Any]) -> dict[str, Any]:
    return {
        "Version": VERSION,
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}],
    }


# --- CloudFormation ----------------------------------------------------------------------------


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def cloudformation(setup: Setup) -> str:
    """A CloudFormation template (JSON) for ``setup``."""
    logs_condition = {
        "StringLike": {
            "aws:SourceArn": _sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:*")
        }
    }
    resources: dict[str, Any] = {}
    parameters: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    if setup.kind == "firehose":
        parameters["FirehoseAccessKey"] = {
            "Type": "String", "NoEcho": True, "MinLength": 8,
            "Description": "The access_key of the logsieve firehose source",
        }  # fmt: skip
        resources["BackupBucket"] = {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True, "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
                },
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]},
            },
        }  # fmt: skip
        bucket = {"Fn::GetAtt": ["BackupBucket", "Arn"]}
        resources["FirehoseRole"] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": _trust(
                    "firehose.amazonaws.com",
                    {"StringEquals": {"sts:ExternalId": {"Ref": "AWS::AccountId"}}},
                ),
                "Policies": [{
                    "PolicyName": "backup-bucket",
                    "PolicyDocument": _policy(
                        _S3_ACTIONS, [bucket, {"Fn::Join": ["", [bucket, "/*"]]}]
                    ),
                }],
            },
        }  # fmt: skip
        role = {"Fn::GetAtt": ["FirehoseRole", "Arn"]}
        resources["DeliveryStream"] = {
            "Type": "AWS::KinesisFirehose::DeliveryStream",
            "Properties": {
                "DeliveryStreamName": setup.name,
                "DeliveryStreamType": "DirectPut",
                "HttpEndpointDestinationConfiguration": {
                    "EndpointConfiguration": {
                        "Url": setup.url, "Name": "logsieve",
                        "AccessKey": {"Ref": "FirehoseAccessKey"},
                    },
                    "RequestConfiguration": {"ContentEncoding": "GZIP"},
                    "BufferingHints": {"IntervalInSeconds": 60, "SizeInMBs": 1},
                    "RetryOptions": {"DurationInSeconds": 300},
                    "RoleARN": role,
                    "S3BackupMode": "FailedDataOnly",
                    "S3Configuration": {
                        "BucketARN": bucket, "RoleARN": role, "CompressionFormat": "GZIP",
                    },
                },
            },
        }  # fmt: skip
        destination = {"Fn::GetAtt": ["DeliveryStream", "Arn"]}
        put_actions = ["firehose:PutRecord", "firehose:PutRecordBatch"]
        outputs["DeliveryStreamArn"] = {"Value": destination}
    else:
        resources["Stream"] = {
            "Type": "AWS::Kinesis::Stream",
            "Properties": {
                "Name": setup.name, "ShardCount": setup.shards,
                "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
            },
        }  # fmt: skip
        destination = {"Fn::GetAtt": ["Stream", "Arn"]}
        put_actions = ["kinesis:PutRecord", "kinesis:PutRecords"]
        resources["ReaderPolicy"] = {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "Description": "What the logsieve kinesis source reads with",
                "PolicyDocument": _policy(KINESIS_READ, [destination]),
            },
        }
        outputs["StreamArn"] = {"Value": destination}
        outputs["ReaderPolicyArn"] = {"Value": {"Ref": "ReaderPolicy"}}
    resources["LogsRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": _trust("logs.amazonaws.com", logs_condition),
            "Policies": [{"PolicyName": "deliver", "PolicyDocument": _policy(put_actions, [destination])}],  # noqa: E501
        },
    }  # fmt: skip
    for index, group in enumerate(setup.log_groups):
        resources[_logical(group, index)] = {
            "Type": "AWS::Logs::SubscriptionFilter",
            "Properties": {
                "FilterName": f"logsieve-{setup.kind}",
                "LogGroupName": group,
                "FilterPattern": setup.patterns.get(group, ""),
                "DestinationArn": destination,
                "RoleArn": {"Fn::GetAtt": ["LogsRole", "Arn"]},
            },
        }
    template: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"logsieve {setup.kind} source: AWS side (generated by logsieve aws-setup)",
    }
    if parameters:
        template["Parameters"] = parameters
    template["Resources"] = resources
    template["Outputs"] = outputs
    return json.dumps(template, indent=2) + "\n"


# --- Terraform ---------------------------------------------------------------------------------


class Raw(str):
    """An HCL expression written as it is (a reference), not quoted."""


def hcl_value(value: Any, indent: int = 0) -> str:
    """A Python value as an HCL expression; strings escape ``${``/``%{`` (never templates)."""
    pad = "  " * (indent + 1)
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value).replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, list):
        return "[" + ", ".join(hcl_value(v, indent) for v in value) + "]"
    if isinstance(value, dict):
        inner = "\n".join(
            f"{pad}{json.dumps(k)} = {hcl_value(v, indent + 1)}" for k, v in value.items()
        )
        return "{\n" + inner + "\n" + "  " * indent + "}"
    raise TypeError(type(value))


def hcl_block(header: str, body: dict[str, Any], blocks: Sequence[tuple[str, dict]] = (),
           indent: int = 0) -> str:  # fmt: skip
    """An HCL block: ``body`` as arguments, then ``blocks`` as nested blocks (a value that is a
    1-tuple inside a nested block's dict is a further nested block)."""
    pad = "  " * (indent + 1)
    lines = [f"{'  ' * indent}{header} {{"]
    lines += [f"{pad}{key} = {hcl_value(value, indent + 1)}" for key, value in body.items()]
    for name, inner in blocks:
        nested = [(k, v) for k, v in inner.items() if isinstance(v, tuple)]
        plain = {k: v for k, v in inner.items() if not isinstance(v, tuple)}
        lines.append(hcl_block(name, plain, [(k, v[0]) for k, v in nested], indent + 1))
    lines.append("  " * indent + "}")
    return "\n".join(lines)


def terraform(setup: Setup) -> str:
    """Terraform (HCL, AWS provider) for ``setup``."""
    parts: list[str] = []
    logs_trust = _trust("logs.amazonaws.com", {"StringLike": {"aws:SourceArn": Raw(
        '"arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:'
        '${data.aws_caller_identity.current.account_id}:*"')}})  # fmt: skip
    parts += [
        'data "aws_partition" "current" {}',
        'data "aws_region" "current" {}',
        'data "aws_caller_identity" "current" {}',
    ]
    if setup.kind == "firehose":
        parts.append(hcl_block('variable "firehose_access_key"', {
            "type": Raw("string"), "sensitive": True,
            "description": "The access_key of the logsieve firehose source",
        }))  # fmt: skip
        parts.append(
            hcl_block(
                'resource "aws_s3_bucket" "backup"', {"bucket_prefix": "logsieve-firehose-backup-"}
            )
        )
        parts.append(hcl_block('resource "aws_s3_bucket_public_access_block" "backup"', {
            "bucket": Raw("aws_s3_bucket.backup.id"), "block_public_acls": True,
            "block_public_policy": True, "ignore_public_acls": True,
            "restrict_public_buckets": True,
        }))  # fmt: skip
        parts.append(hcl_block('resource "aws_iam_role" "firehose"', {
            "name_prefix": "logsieve-firehose-",
            "assume_role_policy": Raw("jsonencode(" + hcl_value(_trust(
                "firehose.amazonaws.com",
                {"StringEquals": {"sts:ExternalId": Raw("data.aws_caller_identity.current.account_id")}},  # noqa: E501
            )) + ")"),
        }))  # fmt: skip
        parts.append(hcl_block('resource "aws_iam_role_policy" "firehose"', {
            "role": Raw("aws_iam_role.firehose.id"),
            "policy": Raw("jsonencode(" + hcl_value(_policy(_S3_ACTIONS, [
                Raw("aws_s3_bucket.backup.arn"), Raw('"${aws_s3_bucket.backup.arn}/*"')])) + ")"),
        }))  # fmt: skip
        parts.append(hcl_block('resource "aws_kinesis_firehose_delivery_stream" "logsieve"', {
            "name": setup.name, "destination": "http_endpoint",
        }, [("http_endpoint_configuration", {
            "url": setup.url, "name": "logsieve",
            "access_key": Raw("var.firehose_access_key"),
            "buffering_size": 1, "buffering_interval": 60, "retry_duration": 300,
            "role_arn": Raw("aws_iam_role.firehose.arn"), "s3_backup_mode": "FailedDataOnly",
            "request_configuration": ({"content_encoding": "GZIP"},),
            "s3_configuration": ({
                "role_arn": Raw("aws_iam_role.firehose.arn"),
                "bucket_arn": Raw("aws_s3_bucket.backup.arn"), "compression_format": "GZIP",
            },),
        })]))  # fmt: skip
        destination = Raw("aws_kinesis_firehose_delivery_stream.logsieve.arn")
        put_actions = ["firehose:PutRecord", "firehose:PutRecordBatch"]
    else:
        parts.append(hcl_block('resource "aws_kinesis_stream" "logsieve"', {
            "name": setup.name, "shard_count": setup.shards,
            "encryption_type": "KMS", "kms_key_id": "alias/aws/kinesis",
        }))  # fmt: skip
        destination = Raw("aws_kinesis_stream.logsieve.arn")
        put_actions = ["kinesis:PutRecord", "kinesis:PutRecords"]
        parts.append(hcl_block('resource "aws_iam_policy" "reader"', {
            "name_prefix": "logsieve-kinesis-reader-",
            "description": "What the logsieve kinesis source reads with",
            "policy": Raw("jsonencode(" + hcl_value(_policy(KINESIS_READ, [destination])) + ")"),
        }))  # fmt: skip
    parts.append(hcl_block('resource "aws_iam_role" "logs"', {
        "name_prefix": f"logsieve-cwl-to-{setup.kind}-",
        "assume_role_policy": Raw("jsonencode(" + hcl_value(logs_trust) + ")"),
    }))  # fmt: skip
    parts.append(hcl_block('resource "aws_iam_role_policy" "logs"', {
        "role": Raw("aws_iam_role.logs.id"),
        "policy": Raw("jsonencode(" + hcl_value(_policy(put_actions, [destination])) + ")"),
    }))  # fmt: skip
    for index, group in enumerate(setup.log_groups):
        header = f'resource "aws_cloudwatch_log_subscription_filter" "group_{index}"'
        parts.append(hcl_block(header, {
            "name": f"logsieve-{setup.kind}", "log_group_name": group,
            "filter_pattern": setup.patterns.get(group, ""),
            "destination_arn": destination, "role_arn": Raw("aws_iam_role.logs.arn"),
            "depends_on": Raw("[aws_iam_role_policy.logs]"),
        }))  # fmt: skip
    return "\n\n".join(parts) + "\n"


def pull_policy(log_groups: Sequence[str], region: str = "*", account: str = "*") -> str:
    """The read-only IAM policy a ``cloudwatch-logs`` source needs (names or ``prefix*``)."""
    base = f"arn:aws:logs:{region}:{account}:log-group:"
    groups = [base + g for g in log_groups]
    policy = {
        "Version": VERSION,
        "Statement": [
            {"Sid": "FindGroups", "Effect": "Allow", "Action": ["logs:DescribeLogGroups"],
             "Resource": f"arn:aws:logs:{region}:{account}:log-group:*"},
            {"Sid": "ReadGroups", "Effect": "Allow",
             "Action": [a for a in PULL_READ if a != "logs:DescribeLogGroups"],
             "Resource": [*groups, *(g + ":*" for g in groups if not g.endswith("*"))]},
        ],
    }  # fmt: skip
    return json.dumps(policy, indent=2) + "\n"
