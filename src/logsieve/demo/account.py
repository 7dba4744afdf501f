"""The demo's account, set up through the API exactly as the README tells a user on AWS.

Nothing here is a shortcut into the server: every step is a boto3 call a user would make
(or its aws CLI twin), in the README's order -- log groups, a flow log on the default VPC
(CreateFlowLogs), a Client VPN endpoint whose connection logging is switched on afterwards
(ModifyClientVpnEndpoint ConnectionLogOptions), a trail delivering to CloudWatch Logs
(CreateTrail + StartLogging), then the ``rejected-traffic-rate`` monitoring recipe's calls
(topic, email subscription, metric filters, alarm). The email subscription is confirmed the
way its owner would: by following the link in the confirmation email, read from the Maildir.
``logsieve simulate world`` then discovers all of it through the API and writes the logs.
"""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from logsieve.alerts.monitoring import TOPIC_ARN, rejected_traffic_rate
from logsieve.errors import ConfigError
from logsieve.formats.vpc_flow import DEFAULT_FORMAT
from logsieve.shipping import Target

from .plan import ACCOUNT_ID, ALARM_PERIOD, EMAIL_TO, GROUPS, REGION, TRAIL, WorldPlan

__all__ = ["ALARM", "Account", "set_up"]

ALARM = "rejected-traffic-rate"  # the recipe's alarm name
FLOW_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/flow-logs"
TRAIL_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/CloudTrail_CloudWatchLogs_Role"
CERTIFICATE = f"arn:aws:acm:{REGION}:{ACCOUNT_ID}:certificate/0f6b8e1e-demo-4d0c-9a1b-5e7c3a2d1f00"
_CONFIRM_SUBJECT = "AWS Notification - Subscription Confirmation"
_LINK_RE = re.compile(r"https?://\S+Action=ConfirmSubscription\S+")
_CONFIRM_TIMEOUT = 15.0


@dataclass(frozen=True)
class Account:
    """What the demo created: ids to show and to check against."""

    flow_log_id: str
    vpc_id: str
    flow_format: str
    endpoint_id: str
    trail_arn: str
    topic_arn: str
    alarm: str
    threshold: int


def clients(target: Target) -> Callable[[str], Any]:
    """``client(service)``: boto3 clients for the demo server, signed with its key pair."""
    import boto3

    made: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in made:
            made[service] = boto3.client(
                service, endpoint_url=target.endpoint_url, region_name=target.region,
                aws_access_key_id=target.access_key_id,
                aws_secret_access_key=target.secret_access_key,
            )  # fmt: skip
        return made[service]

    return client


def set_up(
    client: Callable[[str], Any], plan: WorldPlan, maildir: Path, say: Callable[[str], None]
) -> Account:
    """Configure the account, one ``say`` line per step. Raises ConfigError (one line) when
    the server refuses a call."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return _set_up(client, plan, maildir, say)
    except (BotoCoreError, ClientError) as exc:
        raise ConfigError(f"setting up the demo account failed: {exc}") from exc


def _set_up(
    client: Callable[[str], Any], plan: WorldPlan, maildir: Path, say: Callable[[str], None]
) -> Account:
    logs, ec2, trails = client("logs"), client("ec2"), client("cloudtrail")
    for group in GROUPS.values():
        logs.create_log_group(logGroupName=group)
    say(f"logs        CreateLogGroup {', '.join(GROUPS.values())}")

    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    flow = ec2.create_flow_logs(
        ResourceIds=[vpc["VpcId"]], ResourceType="VPC", TrafficType="ALL",
        LogGroupName=GROUPS["vpc-flow"], DeliverLogsPermissionArn=FLOW_ROLE,
        LogFormat=DEFAULT_FORMAT,
    )  # fmt: skip
    if flow.get("Unsuccessful"):
        raise ConfigError(f"CreateFlowLogs failed: {flow['Unsuccessful'][0]['Error']['Message']}")
    [flow_log_id] = flow["FlowLogIds"]
    say(
        f"ec2         CreateFlowLogs {flow_log_id}: all traffic of {vpc['VpcId']} -> "
        f"{GROUPS['vpc-flow']} (the default format, written out as LogFormat)"
    )

    endpoint_id = ec2.create_client_vpn_endpoint(
        ClientCidrBlock="10.100.0.0/22", ServerCertificateArn=CERTIFICATE,
        AuthenticationOptions=[{
            "Type": "certificate-authentication",
            "MutualAuthentication": {"ClientRootCertificateChainArn": CERTIFICATE},
        }],
        ConnectionLogOptions={"Enabled": False}, Description="logsieve demo",
    )["ClientVpnEndpointId"]  # fmt: skip
    ec2.modify_client_vpn_endpoint(
        ClientVpnEndpointId=endpoint_id,
        ConnectionLogOptions={"Enabled": True, "CloudwatchLogGroup": GROUPS["client-vpn"]},
    )
    say(
        f"ec2         CreateClientVpnEndpoint {endpoint_id}, then ModifyClientVpnEndpoint "
        f"--connection-log-options Enabled=true,CloudwatchLogGroup={GROUPS['client-vpn']}"
    )
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])[
        "Subnets"
    ][0]["SubnetId"]
    association = ec2.associate_client_vpn_target_network(
        ClientVpnEndpointId=endpoint_id, SubnetId=subnet
    )["AssociationId"]
    say(
        f"ec2         AssociateClientVpnTargetNetwork {subnet} ({association}): clients "
        "connect once the endpoint is available"
    )

    group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{GROUPS['cloudtrail']}:*"
    trail_arn = trails.create_trail(
        Name=TRAIL, S3BucketName="my-trail-bucket", IsMultiRegionTrail=True,
        CloudWatchLogsLogGroupArn=group_arn, CloudWatchLogsRoleArn=TRAIL_ROLE,
    )["TrailARN"]  # fmt: skip
    trails.start_logging(Name=TRAIL)
    say(f"cloudtrail  CreateTrail {TRAIL} -> {GROUPS['cloudtrail']}, StartLogging")

    topic_arn = _apply_recipe(client, plan)
    say(
        f"sns         CreateTopic rejected-traffic, Subscribe {EMAIL_TO} (email); "
        "waiting for the confirmation email"
    )
    _confirm_by_link(maildir, topic_arn)
    say(f"            {EMAIL_TO} followed the link in it: subscription confirmed")
    say(
        f"logs        PutMetricFilter RejectedFlows (and RejectedFlowsBySource) on "
        f"{GROUPS['vpc-flow']}: REJECT records counted per minute"
    )
    say(
        f"cloudwatch  PutMetricAlarm {ALARM}: Sum of RejectedFlows > {plan.threshold:,} "
        f"over {ALARM_PERIOD} s -> the topic, on ALARM and on OK"
    )
    return Account(
        flow_log_id, vpc["VpcId"], DEFAULT_FORMAT, endpoint_id, trail_arn, topic_arn, ALARM,
        plan.threshold,
    )  # fmt: skip


def _apply_recipe(client: Callable[[str], Any], plan: WorldPlan) -> str:
    """The ``rejected-traffic-rate`` recipe's calls (what ``logsieve recipes add
    rejected-traffic-rate`` makes), with a 10-second period and OK notifications too."""
    topic_arn = ""
    for call in rejected_traffic_rate(
        GROUPS["vpc-flow"], [EMAIL_TO], threshold=plan.threshold, period=ALARM_PERIOD
    ):
        params = json.loads(json.dumps(call.params).replace(TOPIC_ARN, topic_arn))
        if call.method == "put_metric_alarm":
            params["OKActions"] = params["AlarmActions"]
        answer = getattr(client(call.service), call.method)(**params)
        topic_arn = answer.get("TopicArn", topic_arn)
    return topic_arn


def _confirm_by_link(maildir: Path, topic_arn: str) -> None:
    """Find the subscription confirmation email and follow its link, as its reader would."""
    box = mailbox.Maildir(maildir, factory=None, create=False)
    deadline = time.monotonic() + _CONFIRM_TIMEOUT
    while time.monotonic() < deadline:
        for key in box.iterkeys():
            message: Any = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
            if message["Subject"] != _CONFIRM_SUBJECT:
                continue
            body = message.get_body(("plain",))
            text = body.get_content() if body is not None else ""
            link = _LINK_RE.search(text)
            if topic_arn in text and link:
                response = httpx.get(link.group(0), timeout=10)
                if response.status_code != 200:
                    raise ConfigError(f"confirming the subscription failed: {response.text}")
                return
        time.sleep(0.1)
    raise ConfigError(f"no subscription confirmation email within {_CONFIRM_TIMEOUT:g} s")
