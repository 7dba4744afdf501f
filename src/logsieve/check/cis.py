"""The CIS AWS Foundations Benchmark (v3.0.0, section 4) monitoring controls, and a semantic
comparison of filter patterns: two patterns are the same control when they parse to the same
tree, up to spacing, quoting, parentheses and the order of ``&&`` / ``||`` operands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from logsieve.patterns import PatternError
from logsieve.patterns import ast as tree
from logsieve.patterns.parser import parse


@dataclass(frozen=True)
class Control:
    id: str  # the benchmark's number
    title: str
    pattern: str
    metric: str  # the metric name the remediation creates


def _any(field: str, names: str) -> str:
    return " || ".join(f"($.{field} = {name})" for name in names.split())


CONTROLS: tuple[Control, ...] = (
    Control("4.1", "unauthorized API calls",
            '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
            "UnauthorizedAPICalls"),
    Control("4.2", "console sign-in without MFA",
            '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }',
            "ConsoleSigninWithoutMFA"),
    Control("4.3", "usage of the root account",
            '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && '
            '$.eventType != "AwsServiceEvent" }', "RootAccountUsage"),
    Control("4.4", "IAM policy changes", "{ " + _any("eventName",
            "DeleteGroupPolicy DeleteRolePolicy DeleteUserPolicy PutGroupPolicy PutRolePolicy "
            "PutUserPolicy CreatePolicy DeletePolicy CreatePolicyVersion DeletePolicyVersion "
            "AttachRolePolicy DetachRolePolicy AttachUserPolicy DetachUserPolicy "
            "AttachGroupPolicy DetachGroupPolicy") + " }", "IAMPolicyChanges"),
    Control("4.5", "CloudTrail configuration changes", "{ " + _any("eventName",
            "CreateTrail UpdateTrail DeleteTrail StartLogging StopLogging") + " }",
            "CloudTrailChanges"),
    Control("4.6", "console authentication failures",
            '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
            "ConsoleSigninFailures"),
    Control("4.7", "disabling or scheduled deletion of customer managed keys",
            "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || "
            "($.eventName = ScheduleKeyDeletion)) }", "DisableOrDeleteCMK"),
    Control("4.8", "S3 bucket policy changes", "{ ($.eventSource = s3.amazonaws.com) && ("
            + _any("eventName", "PutBucketAcl PutBucketPolicy PutBucketCors PutBucketLifecycle "
                   "PutBucketReplication DeleteBucketPolicy DeleteBucketCors "
                   "DeleteBucketLifecycle DeleteBucketReplication") + ") }",
            "S3BucketPolicyChanges"),
    Control("4.9", "AWS Config configuration changes",
            "{ ($.eventSource = config.amazonaws.com) && (" + _any("eventName",
            "StopConfigurationRecorder DeleteDeliveryChannel PutDeliveryChannel "
            "PutConfigurationRecorder") + ") }", "AWSConfigChanges"),
    Control("4.10", "security group changes", "{ " + _any("eventName",
            "AuthorizeSecurityGroupIngress AuthorizeSecurityGroupEgress "
            "RevokeSecurityGroupIngress RevokeSecurityGroupEgress CreateSecurityGroup "
            "DeleteSecurityGroup") + " }", "SecurityGroupChanges"),
    Control("4.11", "network ACL changes", "{ " + _any("eventName",
            "CreateNetworkAcl CreateNetworkAclEntry DeleteNetworkAcl DeleteNetworkAclEntry "
            "ReplaceNetworkAclEntry ReplaceNetworkAclAssociation") + " }", "NACLChanges"),
    Control("4.12", "network gateway changes", "{ " + _any("eventName",
            "CreateCustomerGateway DeleteCustomerGateway AttachInternetGateway "
            "CreateInternetGateway DeleteInternetGateway DetachInternetGateway") + " }",
            "NetworkGatewayChanges"),
    Control("4.13", "route table changes", "{ ($.eventSource = ec2.amazonaws.com) && ("
            + _any("eventName", "CreateRoute CreateRouteTable ReplaceRoute "
                   "ReplaceRouteTableAssociation DeleteRouteTable DeleteRoute "
                   "DisassociateRouteTable") + ") }", "RouteTableChanges"),
    Control("4.14", "VPC changes", "{ " + _any("eventName",
            "CreateVpc DeleteVpc ModifyVpcAttribute AcceptVpcPeeringConnection "
            "CreateVpcPeeringConnection DeleteVpcPeeringConnection RejectVpcPeeringConnection "
            "AttachClassicLinkVpc DetachClassicLinkVpc DisableVpcClassicLink "
            "EnableVpcClassicLink") + " }", "VPCChanges"),
    Control("4.15", "AWS Organizations changes",
            "{ ($.eventSource = organizations.amazonaws.com) && (" + _any("eventName",
            "AcceptHandshake AttachPolicy CreateAccount CreateOrganizationalUnit CreatePolicy "
            "DeclineHandshake DeleteOrganization DeleteOrganizationalUnit DeletePolicy "
            "DetachPolicy DisablePolicyType EnablePolicyType InviteAccountToOrganization "
            "LeaveOrganization MoveAccount RemoveAccountFromOrganization UpdatePolicy "
            "UpdateOrganizationalUnit") + ") }", "OrganizationsChanges"),
)  # fmt: skip


def _canonical(node: Any) -> Any:
    """A comparable form of a pattern tree: positions and source text dropped, nested
    ``&&``/``||`` flattened, their operands unordered."""
    if isinstance(node, tree.And | tree.Or):
        kind = type(node)
        items: list[Any] = []
        for item in node.items:
            if isinstance(item, kind):
                items.extend(_canonical(item)[1])
            else:
                items.append(_canonical(item))
        return (kind.__name__, frozenset(items))
    if isinstance(node, tree.Comparison):
        value = node.value
        shown = (
            value.number
            if value.number is not None
            else (("regex", value.regex.source) if value.regex else value.text)
        )
        return ("cmp", _canonical(node.target), node.op, shown)
    if isinstance(node, tree.Check):
        return ("check", _canonical(node.target), node.test)
    if isinstance(node, tree.Selector):
        return node.steps
    if isinstance(node, tree.JsonPattern):
        return ("json", _canonical(node.expr))
    if isinstance(node, tree.TextPattern):
        return ("text", tuple((t.text, t.mode) for t in node.terms))
    if isinstance(node, tree.RegexPattern):
        return ("regex", node.regex.source)
    if isinstance(node, tree.SpacePattern):
        return ("space", tuple(
            (p.ellipsis, p.name, None if p.condition is None else _canonical(p.condition))
            for p in node.positions
        ))  # fmt: skip
    return node


def same_pattern(a: str, b: str) -> bool:
    """Whether two filter patterns select the same events by construction."""
    try:
        return _canonical(parse(a)) == _canonical(parse(b))
    except PatternError:
        return False
