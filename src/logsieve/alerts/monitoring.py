"""Monitoring recipes: the metric filters, alarms, topic and subscription a user would create
with the aws CLI or boto3, as a list of API calls (``logsieve recipes apply`` makes them on the
server, or prints them as aws CLI commands for real AWS).

``cis-monitoring`` is the CIS AWS Foundations Benchmark v1.4.0 section 4 (4.1-4.14): each
pattern exactly as AWS Security Hub publishes it for the matching control (CloudWatch.1-14,
``awsdocs/aws-security-hub-user-guide`` ``doc_source/cloudwatch-controls.md``), metric value
1, and the benchmark's alarm (Sum over 300 s >= 1, one period) wired to one topic.
``rejected-traffic-rate`` counts VPC Flow Log REJECT records per minute and alarms above a
threshold.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CIS_CONTROLS", "MONITORING", "TOPIC_ARN", "Call", "MonitoringRecipe", "cis_monitoring",
    "rejected_traffic_rate",
]  # fmt: skip

#: Stands for the topic's ARN in the calls after CreateTopic (known once it has run).
TOPIC_ARN = "${TopicArn}"


@dataclass(frozen=True)
class Call:
    """One AWS API call: boto3 ``client(service).<method>(**params)``."""

    service: str  # logs | cloudwatch | sns
    method: str  # boto3's name: put_metric_filter...
    params: dict[str, Any] = field(default_factory=dict)

    def cli(self) -> str:
        """The same call as a POSIX shell line running the aws CLI; the topic's ARN is kept in
        ``$TOPIC_ARN`` by the CreateTopic line and used by the later ones."""
        command = self.method.replace("_", "-")
        body = json.dumps(self.params, separators=(",", ":")).replace("'", "'\\''")
        body = body.replace(TOPIC_ARN, "'\"$TOPIC_ARN\"'")
        line = f"aws {self.service} {command} --cli-input-json '{body}'"
        if self.method == "create_topic":
            return f"TOPIC_ARN=$({line} --query TopicArn --output text)"
        return line


# (benchmark number, alarm name suffix, pattern) -- patterns verbatim from Security Hub.
CIS_CONTROLS: tuple[tuple[str, str, str], ...] = (
    ("4.1", "UnauthorizedAPICalls",
     '{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}'),
    ("4.2", "ConsoleSigninWithoutMFA",
     '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
     '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }'),
    ("4.3", "RootAccountUsage",
     '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && '
     '$.eventType !="AwsServiceEvent"}'),
    ("4.4", "IAMPolicyChanges",
     "{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || "
     "($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || "
     "($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || "
     "($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || "
     "($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || "
     "($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || "
     "($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || "
     "($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy)}"),
    ("4.5", "CloudTrailChanges",
     "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || "
     "($.eventName=StartLogging) || ($.eventName=StopLogging)}"),
    ("4.6", "ConsoleAuthenticationFailure",
     '{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}'),
    ("4.7", "DisableOrDeleteCMK",
     "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || "
     "($.eventName=ScheduleKeyDeletion))}"),
    ("4.8", "S3BucketPolicyChanges",
     "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || "
     "($.eventName=PutBucketPolicy) || ($.eventName=PutBucketCors) || "
     "($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || "
     "($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || "
     "($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}"),
    ("4.9", "AWSConfigChanges",
     "{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || "
     "($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || "
     "($.eventName=PutConfigurationRecorder))}"),
    ("4.10", "SecurityGroupChanges",
     "{($.eventName=AuthorizeSecurityGroupIngress) || "
     "($.eventName=AuthorizeSecurityGroupEgress) || ($.eventName=RevokeSecurityGroupIngress) || "
     "($.eventName=RevokeSecurityGroupEgress) || ($.eventName=CreateSecurityGroup) || "
     "($.eventName=DeleteSecurityGroup)}"),
    ("4.11", "NetworkACLChanges",
     "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || "
     "($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || "
     "($.eventName=ReplaceNetworkAclEntry) || ($.eventName=ReplaceNetworkAclAssociation)}"),
    ("4.12", "NetworkGatewayChanges",
     "{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || "
     "($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || "
     "($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}"),
    ("4.13", "RouteTableChanges",
     "{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || "
     "($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || "
     "($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || "
     "($.eventName=DisassociateRouteTable)}"),
    ("4.14", "VPCChanges",
     "{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || "
     "($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || "
     "($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || "
     "($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || "
     "($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}"),
)  # fmt: skip

#: VPC Flow Logs' default (version 2) format, space-delimited, REJECT records only.
REJECT_PATTERN = (
    "[version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport, protocol, "
    'packets, bytes, start, end, action="REJECT", log_status]'
)


def _topic(topic: str, emails: list[str]) -> list[Call]:
    calls = [Call("sns", "create_topic", {"Name": topic})]
    calls += [
        Call("sns", "subscribe", {"TopicArn": TOPIC_ARN, "Protocol": "email", "Endpoint": e})
        for e in emails
    ]
    return calls


def _counted(
    log_group: str, name: str, pattern: str, namespace: str, dimensions: dict[str, str] | None
) -> Call:
    transformation: dict[str, Any] = {
        "metricName": name,
        "metricNamespace": namespace,
        "metricValue": "1",
    }
    if dimensions:
        transformation["dimensions"] = dimensions
    return Call(
        "logs",
        "put_metric_filter",
        {
            "logGroupName": log_group,
            "filterName": name,
            "filterPattern": pattern,
            "metricTransformations": [transformation],
        },
    )


def _alarm(name: str, metric: str, namespace: str, description: str, **rule: Any) -> Call:
    params = {
        "AlarmName": name,
        "AlarmDescription": description,
        "MetricName": metric,
        "Namespace": namespace,
        "Statistic": "Sum",
        "Period": 300,
        "EvaluationPeriods": 1,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
        "AlarmActions": [TOPIC_ARN],
    }
    params.update(rule)
    return Call("cloudwatch", "put_metric_alarm", params)


def cis_monitoring(
    log_group: str, emails: list[str], topic: str = "cis-alarms", namespace: str = "CISBenchmark"
) -> list[Call]:
    """The benchmark's 14 metric filters on the CloudTrail log group, one alarm each, and
    one topic (with its email subscriptions) every alarm notifies."""
    calls = _topic(topic, emails)
    for number, name, pattern in CIS_CONTROLS:
        metric = f"CIS-{number}-{name}"
        calls.append(_counted(log_group, metric, pattern, namespace, None))
        calls.append(
            _alarm(metric, metric, namespace, f"CIS AWS Foundations Benchmark {number}: {name}")
        )
    return calls


def rejected_traffic_rate(
    log_group: str,
    emails: list[str],
    topic: str = "rejected-traffic",
    namespace: str = "VPCFlowLogs",
    threshold: float = 100.0,
    period: int = 60,
) -> list[Call]:
    """REJECTed flows counted per minute (in total, and per source address for looking
    into it), an alarm when the total goes above ``threshold`` in a period, and its topic."""
    calls = _topic(topic, emails)
    calls.append(_counted(log_group, "RejectedFlows", REJECT_PATTERN, namespace, None))
    calls.append(
        _counted(
            log_group, "RejectedFlowsBySource", REJECT_PATTERN, namespace,
            {"SourceAddress": "$srcaddr"},
        )
    )  # fmt: skip
    calls.append(
        _alarm(
            "rejected-traffic-rate", "RejectedFlows", namespace,
            f"More than {threshold:g} rejected flows in {period} s",
            Period=period, Threshold=float(threshold),
            ComparisonOperator="GreaterThanThreshold",
        )
    )  # fmt: skip
    return calls


@dataclass(frozen=True)
class MonitoringRecipe:
    name: str
    summary: str
    build: Callable[..., list[Call]]


MONITORING: dict[str, MonitoringRecipe] = {
    recipe.name: recipe
    for recipe in (
        MonitoringRecipe(
            "cis-monitoring",
            "CloudTrail: the CIS AWS Foundations Benchmark's 14 metric filters and alarms "
            "(4.1-4.14), all notifying one SNS topic",
            cis_monitoring,
        ),
        MonitoringRecipe(
            "rejected-traffic-rate",
            "VPC Flow Logs: REJECTed flows per minute (total and per source address), an "
            "alarm above a threshold, its SNS topic and email subscription",
            rejected_traffic_rate,
        ),
    )
}
