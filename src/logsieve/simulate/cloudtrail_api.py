"""The AWS API calls the CloudTrail simulator records: request/response shapes and errors.

Each entry knows its event source, whether it is read-only, how to build realistic
``requestParameters`` and ``responseElements`` (in each service's own style: EC2's ``items``
wrappers, IAM's odd ``createDate``, S3's ``Host``), and which service-specific errors it can
fail with besides access denied. The shapes follow the samples (shared/samples) and
aws-compat.md 7.3; they are plausible, not exhaustive.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .fake import hex_id, uuid4

__all__ = ["API", "Api", "World", "access_denied"]

Params = dict[str, Any] | None


@dataclass
class World:
    """The account's resources the calls refer to; ``now`` is the simulated second."""

    rng: random.Random
    account: str
    region: str
    users: tuple[str, ...]
    roles: tuple[str, ...]
    buckets: tuple[str, ...]
    log_groups: tuple[str, ...]
    security_groups: tuple[str, ...]
    functions: tuple[str, ...]
    stacks: tuple[str, ...]
    trail_arn: str
    kms_key_arn: str
    now: int = 0

    def pick(self, values: tuple[str, ...]) -> str:
        return values[self.rng.randrange(len(values))]

    def iam_date(self) -> str:
        """IAM's response date style: ``Mar 10, 2025, 2:17:55 AM``."""
        t = time.gmtime(self.now)
        hour = t.tm_hour % 12 or 12
        return (
            f"{time.strftime('%b', t)} {t.tm_mday}, {t.tm_year}, "
            f"{hour}:{t.tm_min:02d}:{t.tm_sec:02d} {'AM' if t.tm_hour < 12 else 'PM'}"
        )

    def key_id(self, prefix: str = "AKIA") -> str:
        return prefix + "".join(self.rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", k=16))


ErrorMaker = Callable[[World, Params], tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Api:
    source: str  # service host prefix: "ec2" for ec2.amazonaws.com
    name: str  # catalogue key; the eventName unless it has a "!variant" suffix
    read_only: bool
    params: Callable[[World], Params]
    response: Callable[[World, Params], Params] | None = None
    errors: tuple[tuple[float, ErrorMaker], ...] = ()  # (probability, maker)
    event_name: str = field(init=False)
    event_source: str = field(init=False)
    iam_action: str = field(init=False)  # named by access-denied messages: lambda:UpdateFunction

    def __post_init__(self) -> None:
        # Computed once: the generator reads these for every record.
        event_name = self.name.split("!", 1)[0]
        prefix = {"monitoring": "cloudwatch"}.get(self.source, self.source)
        action = event_name
        for version in ("20150331v2", "20150331"):
            action = action.removesuffix(version)
        object.__setattr__(self, "event_name", event_name)
        object.__setattr__(self, "event_source", f"{self.source}.amazonaws.com")
        object.__setattr__(self, "iam_action", f"{prefix}:{action}")


def access_denied(api: Api, world: World, arn: str) -> tuple[str, str]:
    """The access-denied error each service family writes for ``arn`` calling ``api``."""
    action = api.iam_action
    if api.source == "s3":
        return "AccessDenied", "Access Denied"
    detail = (
        f"User: {arn} is not authorized to perform: {action} on resource: "
        f"arn:aws:{api.source}:{world.region}:{world.account}:* because no identity-based "
        f"policy allows the {action} action"
    )
    if api.source == "ec2":
        encoded = "".join(world.rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop-_", k=48))
        return (
            "Client.UnauthorizedOperation",
            f"You are not authorized to perform this operation. {detail}. Encoded "
            f"authorization failure message: {encoded}",
        )
    if api.source in ("logs", "kms", "lambda", "ssm", "dynamodb"):
        return "AccessDeniedException", detail
    return "AccessDenied", detail


# -- shapes ----------------------------------------------------------------------------------


def _ec2_response(world: World, _params: Params) -> Params:
    return {"requestId": uuid4(world.rng), "_return": True}


def _ingress(world: World, open_to_world: bool) -> dict[str, Any]:
    port = 22 if open_to_world else world.rng.choice((443, 5432, 8080))
    cidr = "0.0.0.0/0" if open_to_world else "10.0.0.0/16"
    return {
        "groupId": world.pick(world.security_groups),
        "ipPermissions": {
            "items": [
                {
                    "ipProtocol": "tcp",
                    "fromPort": port,
                    "toPort": port,
                    "groups": {},
                    "ipRanges": {"items": [{"cidrIp": cidr}]},
                    "ipv6Ranges": {},
                    "prefixListIds": {},
                }
            ]
        },
    }


def _ingress_response(world: World, params: Params) -> Params:
    assert params is not None
    item = params["ipPermissions"]["items"][0]
    return {
        "requestId": uuid4(world.rng),
        "_return": True,
        "securityGroupRuleSet": {
            "items": [
                {
                    "groupOwnerId": world.account,
                    "groupId": params["groupId"],
                    "securityGroupRuleId": f"sgr-{hex_id(world.rng)}",
                    "isEgress": False,
                    "ipProtocol": "tcp",
                    "fromPort": item["fromPort"],
                    "toPort": item["toPort"],
                    "cidrIpv4": item["ipRanges"]["items"][0]["cidrIp"],
                }
            ]
        },
    }


def _user_response(world: World, params: Params) -> Params:
    assert params is not None
    name = params["userName"]
    return {
        "user": {
            "path": "/",
            "userName": name,
            "userId": "AIDA" + "".join(world.rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", k=17)),
            "arn": f"arn:aws:iam::{world.account}:user/{name}",
            "createDate": world.iam_date(),
        }
    }


def _access_key_response(world: World, params: Params) -> Params:
    assert params is not None
    return {
        "accessKey": {
            "userName": params["userName"],
            "accessKeyId": world.key_id(),
            "status": "Active",
            "createDate": world.iam_date(),
        }
    }


def _run_instances_response(world: World, _params: Params) -> Params:
    return {
        "requestId": uuid4(world.rng),
        "reservationId": f"r-{hex_id(world.rng)}",
        "ownerId": world.account,
        "instancesSet": {"items": [{"instanceId": f"i-{hex_id(world.rng)}"}]},
    }


def _stack_response(world: World, params: Params) -> Params:
    assert params is not None
    return {
        "stackId": f"arn:aws:cloudformation:{world.region}:{world.account}:stack/"
        f"{params['stackName']}/{uuid4(world.rng)}"
    }


def _function_response(world: World, params: Params) -> Params:
    assert params is not None
    name = params["functionName"]
    return {
        "functionName": name,
        "functionArn": f"arn:aws:lambda:{world.region}:{world.account}:function:{name}",
        "runtime": "python3.12",
        "handler": "app.handler",
        "codeSize": world.rng.randint(4_000, 9_000_000),
        "lastModified": time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime(world.now)),
        "revisionId": uuid4(world.rng),
        "state": "Active",
    }


def _error(code: str, message: str) -> ErrorMaker:
    return lambda world, params: (code, message.format(account=world.account, p=params or {}))


_THROTTLED = (0.004, _error("ThrottlingException", "Rate exceeded"))


def _bucket(world: World) -> dict[str, Any]:
    bucket = world.pick(world.buckets)
    return {"bucketName": bucket, "Host": f"{bucket}.s3.{world.region}.amazonaws.com"}


# -- the catalogue ---------------------------------------------------------------------------

_CATALOGUE: tuple[Api, ...] = (
    # EC2
    Api("ec2", "DescribeInstances", True, lambda w: {"instancesSet": {}, "filterSet": {}},
        errors=(_THROTTLED,)),
    Api("ec2", "DescribeSecurityGroups", True, lambda w: {
        "securityGroupSet": {}, "securityGroupIdSet": {"items": [
            {"groupId": w.pick(w.security_groups)}]}, "filterSet": {}}),
    Api("ec2", "DescribeVpcs", True, lambda w: {"vpcSet": {}, "filterSet": {}}),
    Api("ec2", "AuthorizeSecurityGroupIngress", False, lambda w: _ingress(w, False),
        _ingress_response, errors=((0.08, _error(
            "Client.InvalidPermission.Duplicate",
            'the specified rule "peer: 10.0.0.0/16, TCP, ALLOW" already exists')),)),
    Api("ec2", "AuthorizeSecurityGroupIngress!world", False, lambda w: _ingress(w, True),
        _ingress_response),
    Api("ec2", "RevokeSecurityGroupIngress", False, lambda w: _ingress(w, False), _ec2_response),
    Api("ec2", "RunInstances", False, lambda w: {
        "instancesSet": {"items": [{"imageId": f"ami-{hex_id(w.rng)}", "minCount": 1,
                                    "maxCount": 1}]},
        "instanceType": w.rng.choice(("t3.micro", "t3.large", "m7g.xlarge"))},
        _run_instances_response),
    Api("ec2", "TerminateInstances", False, lambda w: {
        "instancesSet": {"items": [{"instanceId": f"i-{hex_id(w.rng)}"}]}}, _ec2_response),
    Api("ec2", "CreateSnapshot", False, lambda w: {
        "volumeId": f"vol-{hex_id(w.rng)}", "description": "nightly backup"}, _ec2_response),
    # S3 (bucket-level calls are management events)
    Api("s3", "ListBuckets", True, lambda w: {"Host": f"s3.{w.region}.amazonaws.com"}),
    Api("s3", "GetBucketPolicy", True, lambda w: {**_bucket(w), "policy": ""}, errors=((
        0.1, _error("NoSuchBucketPolicy", "The bucket policy does not exist")),)),
    Api("s3", "PutBucketPolicy", False, lambda w: {**_bucket(w), "policy": ""}),
    Api("s3", "PutBucketPublicAccessBlock", False, lambda w: {**_bucket(w),
        "publicAccessBlock": ""}),
    Api("s3", "DeleteBucket", False, _bucket),
    # IAM (global: recorded in us-east-1)
    Api("iam", "ListUsers", True, lambda w: None),
    Api("iam", "GetUser", True, lambda w: {"userName": w.pick(w.users)}, errors=((
        0.05, _error("NoSuchEntityException",
                     "The user with name {p[userName]} cannot be found.")),)),
    Api("iam", "ListAttachedRolePolicies", True, lambda w: {"roleName": w.pick(w.roles)}),
    Api("iam", "CreateUser", False, lambda w: {"userName": w.rng.choice((
        "svc-backup-sync", "report-runner", "temp-contractor", "break-glass"))}, _user_response,
        errors=((0.1, _error("EntityAlreadyExistsException",
                             "User with name {p[userName]} already exists.")),)),
    Api("iam", "AttachUserPolicy", False, lambda w: {"userName": w.pick(w.users),
        "policyArn": w.rng.choice(("arn:aws:iam::aws:policy/AdministratorAccess",
                                   "arn:aws:iam::aws:policy/ReadOnlyAccess"))}),
    Api("iam", "CreateAccessKey", False, lambda w: {"userName": w.pick(w.users)},
        _access_key_response),
    Api("iam", "DeleteAccessKey", False, lambda w: {"userName": w.pick(w.users),
                                                    "accessKeyId": w.key_id()}),
    Api("iam", "PutRolePolicy", False, lambda w: {"roleName": w.pick(w.roles),
        "policyName": "inline-access", "policyDocument": '{"Version":"2012-10-17"}'}),
    # CloudTrail
    Api("cloudtrail", "DescribeTrails", True, lambda w: {"trailNameList": [],
                                                         "includeShadowTrails": True}),
    Api("cloudtrail", "GetTrailStatus", True, lambda w: {"name": w.trail_arn}, errors=((
        0.05, _error("TrailNotFoundException",
                     "Unknown trail: old-trail for the user: {account}")),)),
    Api("cloudtrail", "LookupEvents", True, lambda w: {"maxResults": 50}, errors=(_THROTTLED,)),
    Api("cloudtrail", "StopLogging", False, lambda w: {"name": w.trail_arn}),
    Api("cloudtrail", "StartLogging", False, lambda w: {"name": w.trail_arn}),
    Api("cloudtrail", "UpdateTrail", False, lambda w: {"name": w.trail_arn,
                                                       "isMultiRegionTrail": True}),
    # CloudWatch Logs
    Api("logs", "DescribeLogGroups", True, lambda w: {"limit": 50}),
    Api("logs", "DescribeLogStreams", True, lambda w: {"logGroupName": w.pick(w.log_groups),
        "orderBy": "LastEventTime", "descending": True}),
    Api("logs", "CreateLogGroup", False, lambda w: {"logGroupName": w.pick(w.log_groups)},
        errors=((0.3, _error("ResourceAlreadyExistsException",
                             "The specified log group already exists")),)),
    Api("logs", "CreateLogStream", False, lambda w: {"logGroupName": w.pick(w.log_groups),
        "logStreamName": time.strftime("%Y/%m/%d/", time.gmtime(w.now)) + hex_id(w.rng, 32)}),
    Api("logs", "PutRetentionPolicy", False, lambda w: {"logGroupName": w.pick(w.log_groups),
        "retentionInDays": w.rng.choice((7, 30, 90, 365))}),
    Api("logs", "DeleteSubscriptionFilter", False, lambda w: {
        "logGroupName": w.pick(w.log_groups), "filterName": "security-events-to-lambda"}),
    # STS, KMS, SSM, Lambda, CloudFormation, DynamoDB, CloudWatch
    Api("sts", "GetCallerIdentity", True, lambda w: None),
    Api("kms", "Decrypt", True, lambda w: {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
    Api("kms", "ScheduleKeyDeletion", False, lambda w: {"keyId": w.kms_key_arn,
                                                        "pendingWindowInDays": 7}),
    Api("ssm", "GetParameter", True, lambda w: {"name": w.rng.choice((
        "/app/prod/db-password", "/app/prod/api-key", "/app/prod/feature-flags")),
        "withDecryption": True}),
    Api("lambda", "ListFunctions20150331", True, lambda w: None),
    Api("lambda", "UpdateFunctionCode20150331v2", False, lambda w: {
        "functionName": w.pick(w.functions), "publish": False, "dryRun": False},
        _function_response),
    Api("cloudformation", "DescribeStacks", True, lambda w: {"stackName": w.pick(w.stacks)}),
    Api("cloudformation", "UpdateStack", False, lambda w: {"stackName": w.pick(w.stacks),
        "capabilities": ["CAPABILITY_IAM"]}, _stack_response, errors=((
        0.15, _error("ValidationError", "No updates are to be performed.")),)),
    Api("cloudformation", "CreateChangeSet", False, lambda w: {
        "stackName": w.pick(w.stacks), "changeSetName": f"deploy-{hex_id(w.rng, 8)}"}),
    Api("dynamodb", "DescribeTable", True, lambda w: {"tableName": "orders"}),
    Api("monitoring", "DescribeAlarms", True, lambda w: {"maxRecords": 100}),
)  # fmt: skip

API: dict[str, Api] = {api.name: api for api in _CATALOGUE}
"""Every call by its name; ``AuthorizeSecurityGroupIngress!world`` is the variant that opens a
port to 0.0.0.0/0 (recorded with the plain event name)."""
