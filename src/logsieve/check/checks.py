"""The checks, one function each: read the account, return a ``Result``.

Every read goes through ``Account.read``: a refusal stops the run (exit 2, naming the
permission), an API the endpoint does not offer skips the checks that need it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .account import Account
from .cis import CONTROLS, Control, same_pattern
from .model import Call, Failing, Result, Severity, Unavailable

_GROUP_ARN = re.compile(r"arn:aws[a-z-]*:logs:[^:]*:\d*:log-group:(?P<name>[^:]+)(:\*)?")
RETENTION_DAYS = 365


def group_of(arn: str | None) -> str | None:
    found = _GROUP_ARN.fullmatch(arn or "")
    return found["name"] if found else None


@dataclass
class Facts:
    """What several checks read, read once per region."""

    account: Account
    _cache: dict[str, Any]

    def get(self, key: str, read: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = read()
        return self._cache[key]

    def trails(self) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            found = self.account.read("cloudtrail", "describe_trails", "trailList")
            for trail in found:
                trail["_status"] = self.account.read(
                    "cloudtrail", "get_trail_status", Name=trail["TrailARN"]
                )
            return found

        return self.get("trails", read)

    def groups(self) -> dict[str, dict[str, Any]]:
        return self.get("groups", lambda: {
            g["logGroupName"]: g
            for g in self.account.read("logs", "describe_log_groups", "logGroups")
        })  # fmt: skip

    def trail_groups(self) -> list[str]:
        """Groups that multi-region, logging trails deliver to (and that exist)."""
        return [
            name for t in self.trails()
            if t.get("IsMultiRegionTrail") and t["_status"].get("IsLogging")
            and (name := group_of(t.get("CloudWatchLogsLogGroupArn"))) in self.groups()
        ]  # fmt: skip

    def flow_logs(self) -> list[dict[str, Any]]:
        return self.get(
            "flow_logs", lambda: self.account.read("ec2", "describe_flow_logs", "FlowLogs")
        )

    def vpn_endpoints(self) -> list[dict[str, Any]]:
        return self.get("vpn", lambda: self.account.read(
            "ec2", "describe_client_vpn_endpoints", "ClientVpnEndpoints"
        ))  # fmt: skip


def _result(check: Check, facts: Facts, failing: list[Failing]) -> Result:
    return Result(
        check.id, check.title, check.severity, check.why, "fail" if failing else "pass",
        facts.account.region, tuple(failing),
    )  # fmt: skip


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    severity: Severity
    why: str
    run: Callable[[Check, Facts], Result]


# -- CloudTrail ------------------------------------------------------------------------------


def _multi_region_trail(check: Check, facts: Facts) -> Result:
    if facts.trail_groups():
        return _result(check, facts, [])
    region = facts.account.region
    return _result(check, facts, [Failing(
        f"account {facts.account.account_id or '(this account)'} in {region}",
        "no multi-region trail is logging to an existing CloudWatch Logs group",
        cli=(
            "aws logs create-log-group --log-group-name cloudtrail\n"
            "aws cloudtrail create-trail --name management --s3-bucket-name <bucket> "
            "--is-multi-region-trail --cloud-watch-logs-log-group-arn "
            f"arn:aws:logs:{region}:{facts.account.shown_id}:log-group:cloudtrail:* "
            "--cloud-watch-logs-role-arn "
            f"arn:aws:iam::{facts.account.shown_id}:role/CloudTrail_CloudWatchLogs_Role\n"
            "aws cloudtrail start-logging --name management"
        ),
        terraform=(
            'resource "aws_cloudwatch_log_group" "cloudtrail" {\n  name = "cloudtrail"\n'
            "  retention_in_days = 365\n}\n"
            'resource "aws_cloudtrail" "management" {\n  name = "management"\n'
            "  s3_bucket_name = aws_s3_bucket.trail.id\n  is_multi_region_trail = true\n"
            '  cloud_watch_logs_group_arn = "${aws_cloudwatch_log_group.cloudtrail.arn}:*"\n'
            "  cloud_watch_logs_role_arn = aws_iam_role.cloudtrail_to_logs.arn\n}"
        ),
    )])  # fmt: skip


def _stopped_trails(check: Check, facts: Facts) -> Result:
    failing = []
    for trail in facts.trails():
        if (
            trail["_status"].get("IsLogging")
            or trail.get("HomeRegion", facts.account.region) != facts.account.region
        ):
            continue
        arn = trail["TrailARN"]
        cli = f"aws cloudtrail start-logging --name {arn}"
        failing.append(Failing(
            arn, "logging is stopped",
            (Call("cloudtrail", "start_logging", {"Name": arn}, cli),), cli,
            f'resource "aws_cloudtrail" "{trail["Name"]}" {{\n  enable_logging = true\n}}',
        ))  # fmt: skip
    return _result(check, facts, failing)


def _trail_delivery(check: Check, facts: Facts) -> Result:
    failing = []
    for trail in facts.trails():
        group = group_of(trail.get("CloudWatchLogsLogGroupArn"))
        if group is None or not trail["_status"].get("IsLogging"):
            continue
        error = trail["_status"].get("LatestCloudWatchLogsDeliveryError")
        if group not in facts.groups():
            error = f"log group {group} does not exist"
        if error:
            failing.append(Failing(
                trail["TrailARN"], f"delivery to CloudWatch Logs fails: {error}",
                cli=f"aws logs create-log-group --log-group-name {group}",
                terraform=f'resource "aws_cloudwatch_log_group" "trail" {{\n  name = "{group}"\n}}',
            ))  # fmt: skip
    return _result(check, facts, failing)


# -- VPC flow logs and Client VPN --------------------------------------------------------------


def _vpc_flow_logs(check: Check, facts: Facts) -> Result:
    vpcs = facts.account.read("ec2", "describe_vpcs", "Vpcs")
    good: set[str] = set()
    for flow in facts.flow_logs():
        if flow.get("LogDestinationType", "cloud-watch-logs") != "cloud-watch-logs":
            continue
        if (
            flow.get("DeliverLogsStatus") == "FAILED"
            or flow.get("LogGroupName") not in facts.groups()
        ):
            continue
        good.add(flow.get("ResourceId", ""))
    failing = []
    for vpc in vpcs:
        vpc_id = vpc["VpcId"]
        if vpc_id in good:
            continue
        group = f"/vpc/flow-logs/{vpc_id}"
        failing.append(Failing(
            vpc_id, "no flow log delivering to CloudWatch Logs",
            cli=(
                f"aws logs create-log-group --log-group-name {group}\n"
                f"aws ec2 create-flow-logs --resource-type VPC --resource-ids {vpc_id} "
                f"--traffic-type ALL --log-destination-type cloud-watch-logs --log-group-name "
                f"{group} --deliver-logs-permission-arn "
                f"arn:aws:iam::{facts.account.shown_id}:role/flow-logs"
            ),
            terraform=(
                f'resource "aws_flow_log" "{vpc_id}" {{\n  vpc_id = "{vpc_id}"\n'
                '  traffic_type = "ALL"\n  log_destination_type = "cloud-watch-logs"\n'
                f'  log_destination = aws_cloudwatch_log_group.flow.arn\n'
                "  iam_role_arn = aws_iam_role.flow_logs.arn\n}"
            ),
        ))  # fmt: skip
    return _result(check, facts, failing)


def _vpn_connection_logging(check: Check, facts: Facts) -> Result:
    failing = []
    for endpoint in facts.vpn_endpoints():
        endpoint_id = endpoint["ClientVpnEndpointId"]
        options = endpoint.get("ConnectionLogOptions") or {}
        group = options.get("CloudwatchLogGroup")
        if options.get("Enabled") and group in facts.groups():
            continue
        detail = (
            "connection logging is disabled"
            if not options.get("Enabled")
            else f"connection logging goes to log group {group}, which does not exist"
        )
        target = group or f"/aws/clientvpn/{endpoint_id}"
        failing.append(Failing(
            endpoint_id, detail,
            cli=(
                f"aws logs create-log-group --log-group-name {target}\n"
                f"aws ec2 modify-client-vpn-endpoint --client-vpn-endpoint-id {endpoint_id} "
                f"--connection-log-options Enabled=true,CloudwatchLogGroup={target}"
            ),
            terraform=(
                'resource "aws_ec2_client_vpn_endpoint" "vpn" {\n  connection_log_options {\n'
                f'    enabled = true\n    cloudwatch_log_group = "{target}"\n  }}\n}}'
            ),
        ))  # fmt: skip
    return _result(check, facts, failing)


# -- log groups ---------------------------------------------------------------------------------


def source_groups(facts: Facts) -> list[str]:
    """The groups the three log sources deliver to (those that exist)."""
    names: list[str] = [
        g for t in facts.trails() if (g := group_of(t.get("CloudWatchLogsLogGroupArn")))
    ]
    for part in (lambda: [f.get("LogGroupName") for f in facts.flow_logs()],
                 lambda: [(e.get("ConnectionLogOptions") or {}).get("CloudwatchLogGroup")
                          for e in facts.vpn_endpoints()]):  # fmt: skip
        with contextlib.suppress(Unavailable):
            names += [n for n in part() if n]
    return [n for n in dict.fromkeys(names) if n in facts.groups()]


def _retention(check: Check, facts: Facts) -> Result:
    failing = []
    for name in source_groups(facts):
        if facts.groups()[name].get("retentionInDays"):
            continue
        cli = (
            f"aws logs put-retention-policy --log-group-name {name} "
            f"--retention-in-days {RETENTION_DAYS}"
        )
        failing.append(Failing(
            name, "no retention policy: kept (and billed) forever",
            (Call("logs", "put_retention_policy",
                  {"logGroupName": name, "retentionInDays": RETENTION_DAYS}, cli),),
            cli,
            f'resource "aws_cloudwatch_log_group" "source" {{\n  name = "{name}"\n'
            f"  retention_in_days = {RETENTION_DAYS}\n}}",
        ))  # fmt: skip
    return _result(check, facts, failing)


_DESTINATIONS: dict[str, tuple[str, str, tuple[str, ...], Callable[[str], dict[str, Any]]]] = {
    "lambda": ("lambda", "get_function", ("ResourceNotFoundException",),
               lambda arn: {"FunctionName": arn}),
    "kinesis": ("kinesis", "describe_stream_summary", ("ResourceNotFoundException",),
                lambda arn: {"StreamARN": arn}),
    "firehose": ("firehose", "describe_delivery_stream", ("ResourceNotFoundException",),
                 lambda arn: {"DeliveryStreamName": arn.rsplit("/", 1)[-1]}),
}  # fmt: skip


def _subscription_destinations(check: Check, facts: Facts) -> Result:
    failing = []
    for name in source_groups(facts):
        filters = facts.account.read(
            "logs", "describe_subscription_filters", "subscriptionFilters", logGroupName=name
        )
        for sub in filters:
            arn = sub.get("destinationArn", "")
            service = arn.split(":")[2] if arn.count(":") >= 5 else ""
            if service not in _DESTINATIONS:
                continue
            client, operation, missing, params = _DESTINATIONS[service]
            try:
                present = facts.account.exists(client, operation, missing, **params(arn))
            except Unavailable:
                continue
            if present:
                continue
            filter_name = sub["filterName"]
            cli = (
                f"aws logs delete-subscription-filter --log-group-name {name} "
                f"--filter-name {filter_name}"
            )
            failing.append(Failing(
                f"{name} / {filter_name}", f"destination {arn} does not exist",
                cli=cli + "   # or create the destination again",
                terraform=f"# recreate the destination {arn}, or remove "
                f'aws_cloudwatch_log_subscription_filter "{filter_name}"',
            ))  # fmt: skip
    return _result(check, facts, failing)


# -- CIS monitoring -------------------------------------------------------------------------------


def _cis(control: Control) -> Callable[[Check, Facts], Result]:
    def run(check: Check, facts: Facts) -> Result:
        groups = facts.trail_groups()
        problem = "no multi-region trail delivers to CloudWatch Logs" if not groups else ""
        for group in groups:
            problem = _cis_in_group(facts, group, control)
            if not problem:
                return _result(check, facts, [])
        group = groups[0] if groups else "<trail-log-group>"
        topic = f"arn:aws:sns:{facts.account.region}:{facts.account.shown_id}:security-alerts"
        filter_cli = (
            f"aws logs put-metric-filter --log-group-name {group} --filter-name "
            f"CIS-{control.id}-{control.metric} --metric-transformations "
            f"metricName={control.metric},metricNamespace=CISBenchmark,metricValue=1 "
            f"--filter-pattern '{control.pattern}'"
        )
        calls = ()
        if groups:
            calls = (Call("logs", "put_metric_filter", {
                "logGroupName": group, "filterName": f"CIS-{control.id}-{control.metric}",
                "filterPattern": control.pattern,
                "metricTransformations": [{"metricName": control.metric,
                                           "metricNamespace": "CISBenchmark", "metricValue": "1"}],
            }, filter_cli),)  # fmt: skip
        return _result(check, facts, [Failing(
            group, problem, calls,
            filter_cli + "\n"
            f"aws cloudwatch put-metric-alarm --alarm-name CIS-{control.id}-{control.metric} "
            f"--metric-name {control.metric} --namespace CISBenchmark --statistic Sum "
            "--period 300 --evaluation-periods 1 --threshold 1 "
            f"--comparison-operator GreaterThanOrEqualToThreshold --alarm-actions {topic}",
            f'resource "aws_cloudwatch_log_metric_filter" "cis_{control.id.replace(".", "_")}" {{\n'
            f'  name = "CIS-{control.id}-{control.metric}"\n  log_group_name = "{group}"\n'
            f"  pattern = {_hcl(control.pattern)}\n  metric_transformation {{\n"
            f'    name = "{control.metric}"\n    namespace = "CISBenchmark"\n    value = "1"\n'
            "  }\n}",
        )])  # fmt: skip

    return run


def _hcl(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _cis_in_group(facts: Facts, group: str, control: Control) -> str:
    """ "" when the group has the control's filter, alarm and confirmed topic; else what lacks."""
    filters = facts.get(f"filters:{group}", lambda: facts.account.read(
        "logs", "describe_metric_filters", "metricFilters", logGroupName=group
    ))  # fmt: skip
    matching = [f for f in filters if same_pattern(f.get("filterPattern", ""), control.pattern)]
    if not matching:
        return f"no metric filter on {group} with the benchmark's pattern"
    for metric_filter in matching:
        for metric in metric_filter.get("metricTransformations", []):
            alarms = facts.account.read(
                "cloudwatch", "describe_alarms_for_metric", "MetricAlarms",
                MetricName=metric["metricName"], Namespace=metric["metricNamespace"],
            )  # fmt: skip
            for alarm in alarms:
                for action in alarm.get("AlarmActions", []):
                    if ":sns:" in action and _confirmed(facts, action):
                        return ""
            if alarms:
                return (
                    f"the alarm on {metric['metricName']} has no SNS topic with a confirmed "
                    "subscription"
                )
    return f"no alarm on the metric of filter {matching[0]['filterName']}"


def _confirmed(facts: Facts, topic: str) -> bool:
    try:
        subs = facts.account.read(
            "sns", "list_subscriptions_by_topic", "Subscriptions", TopicArn=topic
        )
    except Exception:  # a topic that is gone has no confirmed subscription
        return False
    return any(s.get("SubscriptionArn", "").startswith("arn:") for s in subs)


CHECKS: tuple[Check, ...] = (
    Check("LS-TRAIL-1", "a multi-region trail delivers to CloudWatch Logs", "high",
          "without it no API call in the account can raise an alert", _multi_region_trail),
    Check("LS-TRAIL-2", "trails are logging", "high",
          "a stopped trail records nothing: the classic first step of an intruder",
          _stopped_trails),
    Check("LS-TRAIL-3", "trail delivery to CloudWatch Logs works", "high",
          "a trail delivering into a missing group looks configured but sends nothing",
          _trail_delivery),
    Check("LS-VPC-1", "every VPC publishes flow logs to CloudWatch Logs", "medium",
          "flow logs are the only record of who talked to what inside the network",
          _vpc_flow_logs),
    Check("LS-VPN-1", "Client VPN endpoints log connections", "high",
          "audits (SOC 2, ISO 27001, PCI) ask who connected when", _vpn_connection_logging),
    Check("LS-LOGS-1", "log groups of these sources have a retention policy", "low",
          "without one the logs are kept and billed forever", _retention),
    Check("LS-LOGS-2", "subscription filters deliver to a destination that exists", "medium",
          "a filter whose destination is gone drops every event it matches",
          _subscription_destinations),
    *(
        Check(f"CIS-{c.id}", f"CIS {c.id}: alarm on {c.title}", "medium",
              f"the CIS AWS Foundations Benchmark requires an alarm on {c.title}", _cis(c))
        for c in CONTROLS
    ),
)  # fmt: skip


def run_checks(account: Account, only: Iterator[str] | None = None) -> list[Result]:
    """Every check (or those named) in one region; ``CannotRun`` propagates."""
    facts = Facts(account, {})
    results = []
    wanted = set(only) if only else None
    for check in CHECKS:
        if wanted is not None and check.id not in wanted:
            continue
        try:
            results.append(check.run(check, facts))
        except Unavailable as missing:
            results.append(Result(
                check.id, check.title, check.severity, check.why, "skipped", account.region,
                note=str(missing),
            ))  # fmt: skip
    return results
