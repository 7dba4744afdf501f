"""Simulated CloudTrail management events, as a trail delivers them to CloudWatch Logs.

One log stream, ``<account>_CloudTrail_<region>`` (``formats.cloudtrail.log_stream_name``); one
event per record, the record JSON alone, event timestamp = ``eventTime`` x 1000.

Who acts, and how:

* IAM users: ``alice`` (CLI with an access key), ``ops-admin`` (console with MFA; the risky
  changes: StopLogging, CreateUser + AttachUserPolicy AdministratorAccess, CreateAccessKey, SSH
  opened to 0.0.0.0/0, ScheduleKeyDeletion), ``carol`` (console, no MFA), ``svc-backup``
  (Boto3 with an access key);
* assumed roles: ``bob`` through IAM Identity Center (read-only; his writes are denied), the
  GitHub Actions deploy role (one session per workflow run), an EC2 instance role and a Lambda
  execution role (secrets, KMS, log streams);
* the root user, occasionally (MFA console sign-in, then remediation calls);
* AWS services assuming roles (``AWSService``, ``invokedBy``, ``sharedEventID``);
* console sign-ins: successes (with and without MFA), wrong passwords ("Failed
  authentication"), unknown user names (``HIDDEN_DUE_TO_SECURITY_REASONS``, "No username found
  in supplied account"), and now and then a burst of failures from one address.

Reads and writes in realistic proportions, access-denied errors in each service's own style
(``AccessDenied``, ``Client.UnauthorizedOperation``, ``AccessDeniedException``) and the
service-specific ones (TrailNotFoundException, ValidationError, NoSuchEntityException, ...).
Global services (IAM, sign-in, STS's global endpoint) record ``us-east-1``; the rest mostly the
home region, sometimes another (a multi-region trail).
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import orjson

from logsieve.formats.cloudtrail import HIDDEN_USER, log_stream_name

from .cloudtrail_api import API, Api, World, access_denied
from .fake import SimEvent, TimeText, doc_ip, hex_id, request_id_s3, uuid4

__all__ = ["cloudtrail"]

_BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36"
)
_BROWSER_WIN = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0"
_CLI_MAC = (
    "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/macos#23.3.0 md/arch#arm64 lang/python#3.11.8 "
    "md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe command/"
)
_CLI_CI = (
    "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1016-azure md/arch#x86_64 "
    "lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe "
    "md/distrib#ubuntu.22 md/prompt#off command/"
)
_BOTO3 = (
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.213-201.855.amzn2.x86_64 "
    "md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69"
)
_LAMBDA = (
    "Boto3/1.34.42 md/Botocore#1.34.42 ua/2.0 os/linux#5.10.209-218.812.amzn2.x86_64 "
    "md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 "
    "cfg/retry-mode#legacy Botocore/1.34.42"
)
_GLOBAL = frozenset({"iam", "signin"})
_VERSIONS = {"cloudtrail": "1.11", "logs": "1.11", "sts": "1.08"}
_OTHER_REGIONS = ("us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2")
_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

_READS = (
    "DescribeInstances", "DescribeSecurityGroups", "DescribeVpcs", "ListBuckets",
    "GetBucketPolicy", "ListUsers", "GetUser", "ListAttachedRolePolicies", "DescribeTrails",
    "GetTrailStatus", "LookupEvents", "DescribeLogGroups", "DescribeLogStreams",
    "GetCallerIdentity", "ListFunctions20150331", "DescribeStacks", "DescribeAlarms",
)  # fmt: skip


@dataclass
class _Principal:
    """Someone who makes calls: identity shape, where from, with what, allowed to do what."""

    name: str
    kind: str  # IAMUser, AssumedRole, Root
    ips: tuple[str, ...]
    agent: str  # console, cli, ci, boto3, lambda
    calls: list[tuple[float, str]]
    denied: frozenset[str] = frozenset()
    mfa: bool = False
    principal_id: str = ""
    role: str = ""  # AssumedRole: the role name
    role_path: str = "/"
    session_prefix: str = ""  # AssumedRole: session names (a counter is appended)
    long_term_key: str = ""  # IAMUser with an access key (CLI, SDK)
    session_calls: tuple[int, int] = (20, 200)
    # the current session
    _identity: dict[str, Any] | None = None
    _left: int = 0
    _run: int = 0
    _names: list[str] = field(default_factory=list)
    _cumulative: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._names = [name for _, name in self.calls]
        self._cumulative = list(accumulate(weight for weight, _ in self.calls))

    def pick_call(self, rng: random.Random) -> str:
        return self._names[bisect(self._cumulative, rng.random() * self._cumulative[-1])]


class _Trail:
    def __init__(self, rng: random.Random, account: str, region: str) -> None:
        self.rng = rng
        self.account = account
        self.region = region
        self.time = TimeText("%Y-%m-%dT%H:%M:%SZ")
        self.created = TimeText("%Y-%m-%dT%H:%M:%SZ")
        self.world = World(
            rng=rng,
            account=account,
            region=region,
            users=("alice", "ops-admin", "carol", "svc-backup", "report-runner"),
            roles=("GitHubActionsDeployRole", "web-instance-role", "order-processor-role"),
            buckets=(f"acme-logs-{account}", "acme-static-site", f"acme-backups-{account}"),
            log_groups=("/aws/lambda/order-processor", "/aws/vpc/flow-logs", "app/web"),
            security_groups=tuple(f"sg-{hex_id(rng)}" for _ in range(4)),
            functions=("order-processor", "thumbnail-maker", "nightly-report"),
            stacks=("reporting-service", "web-frontend", "network-base"),
            trail_arn=f"arn:aws:cloudtrail:{region}:{account}:trail/management-events",
            kms_key_arn=f"arn:aws:kms:{region}:{account}:key/{uuid4(rng)}",
        )
        self.people = self._principals()
        weights = {"alice": 15, "ops-admin": 6, "carol": 6, "svc-backup": 6, "bob": 12,
                   "gha": 20, "instance": 15, "lambda": 10}  # fmt: skip
        self.actors = [p for p in self.people if p.name in weights]
        self.actor_weights = list(accumulate(weights[p.name] for p in self.actors))
        self._tls_cache: dict[tuple[str, str], dict[str, str]] = {}
        self.login_ips = [doc_ip(rng) for _ in range(12)]
        self.attackers = [doc_ip(rng) for _ in range(6)]

    def _principals(self) -> list[_Principal]:
        rng = self.rng
        reads = [(3.0, name) for name in _READS]
        return [
            _Principal(
                "alice", "IAMUser", ("198.51.100.23",), "cli",
                [*reads, (2, "CreateLogGroup"), (2, "PutRetentionPolicy"),
                 (2, "AuthorizeSecurityGroupIngress"), (1, "RevokeSecurityGroupIngress"),
                 (1, "CreateUser"), (1, "AttachUserPolicy"), (1, "StopLogging")],
                denied=frozenset({"CreateUser", "AttachUserPolicy", "StopLogging"}),
                principal_id=_principal_id(rng, "AIDA"), long_term_key=_key(rng, "AKIA"),
            ),
            _Principal(
                "ops-admin", "IAMUser", ("203.0.113.77",), "console",
                [*reads, (3, "CreateUser"), (3, "AttachUserPolicy"), (3, "CreateAccessKey"),
                 (2, "DeleteAccessKey"), (2, "PutRolePolicy"), (1, "StopLogging"),
                 (1, "StartLogging"), (1, "UpdateTrail"),
                 (1, "AuthorizeSecurityGroupIngress!world"),
                 (2, "AuthorizeSecurityGroupIngress"), (1, "PutBucketPolicy"),
                 (0.5, "ScheduleKeyDeletion"), (1, "DeleteSubscriptionFilter"),
                 (1, "PutBucketPublicAccessBlock")],
                mfa=True, principal_id=_principal_id(rng, "AIDA"),
            ),
            _Principal(
                "carol", "IAMUser", ("192.0.2.61",), "console",
                [*reads, (3, "RunInstances"), (2, "TerminateInstances"), (1, "CreateUser"),
                 (1, "DeleteBucket")],
                denied=frozenset({"CreateUser", "DeleteBucket"}),
                principal_id=_principal_id(rng, "AIDA"),
            ),
            _Principal(
                "svc-backup", "IAMUser", ("203.0.113.201",), "boto3",
                [(5, "ListBuckets"), (3, "DescribeInstances"), (6, "CreateSnapshot"),
                 (1, "ListUsers")],
                denied=frozenset({"ListUsers"}),
                principal_id=_principal_id(rng, "AIDA"), long_term_key=_key(rng, "AKIA"),
            ),
            _Principal(
                "bob", "AssumedRole", ("192.0.2.44",), "console",
                [*reads, (1, "PutBucketPolicy"), (1, "TerminateInstances"),
                 (1, "UpdateFunctionCode20150331v2")],
                denied=frozenset({"PutBucketPolicy", "TerminateInstances",
                                  "UpdateFunctionCode20150331v2"}),
                principal_id=_principal_id(rng, "AROA"),
                role=f"AWSReservedSSO_ReadOnlyAccess_{hex_id(rng, 16)}",
                role_path="/aws-reserved/sso.amazonaws.com/", session_prefix="bob",
            ),
            _Principal(
                "gha", "AssumedRole", tuple(doc_ip(rng) for _ in range(8)), "ci",
                [(6, "DescribeStacks"), (4, "UpdateStack"), (2, "CreateChangeSet"),
                 (4, "UpdateFunctionCode20150331v2"), (3, "GetCallerIdentity"),
                 (2, "ListFunctions20150331"), (1, "PutRolePolicy")],
                denied=frozenset({"PutRolePolicy"}),
                principal_id=_principal_id(rng, "AROA"), role="GitHubActionsDeployRole",
                session_prefix="gha-run-", session_calls=(10, 60),
            ),
            _Principal(
                "instance", "AssumedRole", ("198.51.100.140",), "boto3",
                [(8, "GetParameter"), (8, "Decrypt"), (3, "CreateLogStream"),
                 (2, "DescribeInstances"), (1, "GetCallerIdentity")],
                principal_id=_principal_id(rng, "AROA"), role="web-instance-role",
                session_prefix=f"i-{hex_id(rng)}", session_calls=(200, 2000),
            ),
            _Principal(
                "lambda", "AssumedRole", tuple(doc_ip(rng) for _ in range(4)), "lambda",
                [(6, "DescribeTable"), (6, "Decrypt"), (3, "GetParameter"),
                 (2, "CreateLogStream")],
                principal_id=_principal_id(rng, "AROA"), role="order-processor-role",
                session_prefix="order-processor", session_calls=(100, 1000),
            ),
        ]  # fmt: skip

    # -- identities -------------------------------------------------------------------------
    def identity(self, p: _Principal, now: int) -> dict[str, Any]:
        """``userIdentity`` of ``p``'s current session (sessions rotate every so many calls)."""
        if p._identity is not None and p._left > 0:
            p._left -= 1
            return p._identity
        rng = self.rng
        p._left = rng.randint(*p.session_calls)
        created = self.created(now - rng.randint(5, 3000))
        account = self.account
        identity: dict[str, Any]
        if p.kind == "IAMUser":
            identity = {
                "type": "IAMUser",
                "principalId": p.principal_id,
                "arn": f"arn:aws:iam::{account}:user/{p.name}",
                "accountId": account,
                "accessKeyId": p.long_term_key or _key(rng, "ASIA"),
                "userName": p.name,
            }
            if not p.long_term_key:  # a console session's temporary credentials
                identity["sessionContext"] = {
                    "attributes": {
                        "creationDate": created,
                        "mfaAuthenticated": "true" if p.mfa else "false",
                    }
                }
        else:  # AssumedRole
            p._run += 1
            session = p.session_prefix
            if session.endswith("-"):
                session = f"{session}{8800 + p._run}"
            context: dict[str, Any] = {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": p.principal_id,
                    "arn": f"arn:aws:iam::{account}:role{p.role_path}{p.role}",
                    "accountId": account,
                    "userName": p.role,
                },
                "attributes": {"creationDate": created, "mfaAuthenticated": "false"},
            }
            if p.name == "instance":
                context["ec2RoleDelivery"] = "2.0"
            identity = {
                "type": "AssumedRole",
                "principalId": f"{p.principal_id}:{session}",
                "arn": f"arn:aws:sts::{account}:assumed-role/{p.role}/{session}",
                "accountId": account,
                "accessKeyId": _key(rng, "ASIA"),
                "sessionContext": context,
            }
        p._identity = identity
        return identity

    def user_agent(self, p: _Principal, api: Api) -> str:
        if p.agent == "console":
            return "AWS Internal"
        if p.agent in ("cli", "ci"):
            prefix = _CLI_MAC if p.agent == "cli" else _CLI_CI
            return f"{prefix}{api.iam_action.replace(':', '.')}"
        return _LAMBDA if p.agent == "lambda" else _BOTO3

    # -- records ----------------------------------------------------------------------------
    def api_call(
        self, p: _Principal, api: Api, now: int, *, identity: dict[str, Any] | None = None,
        source_ip: str | None = None, console: bool | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        rng, world = self.rng, self.world
        world.now = now
        region = self._region(api.source)
        ident = identity if identity is not None else self.identity(p, now)
        params = api.params(world)
        error: tuple[str, str] | None = None
        if api.event_name in p.denied and rng.random() < 0.9:
            error = access_denied(api, world, ident.get("arn", ""))
        else:
            for probability, make in api.errors:
                if rng.random() < probability:
                    error = make(world, params)
                    break
        record: dict[str, Any] = {
            "eventVersion": _VERSIONS.get(api.source, "1.10"),
            "userIdentity": ident,
            "eventTime": self.time(now),
            "eventSource": api.event_source,
            "eventName": api.event_name,
            "awsRegion": region,
            "sourceIPAddress": source_ip or p.ips[rng.randrange(len(p.ips))],
            "userAgent": self.user_agent(p, api),
        }
        if error is not None:
            record["errorCode"], record["errorMessage"] = error
        record["requestParameters"] = params
        record["responseElements"] = (
            api.response(world, params) if api.response and error is None else None
        )
        record["requestID"] = request_id_s3(rng) if api.source == "s3" else uuid4(rng)
        record["eventID"] = uuid4(rng)
        record["readOnly"] = api.read_only
        record["eventType"] = "AwsApiCall"
        record["managementEvent"] = True
        record["recipientAccountId"] = self.account
        record["eventCategory"] = "Management"
        record["tlsDetails"] = self._tls(api.source, region)
        if console if console is not None else p.agent == "console":
            record["sessionCredentialFromConsole"] = "true"
        return record

    def _tls(self, source: str, region: str) -> dict[str, str]:
        """``tlsDetails``, shared between records (serialized, never changed)."""
        key = (source, region)
        found = self._tls_cache.get(key)
        if found is None:
            found = self._tls_cache[key] = {
                "tlsVersion": "TLSv1.3",
                "cipherSuite": "TLS_AES_128_GCM_SHA256",
                "clientProvidedHostHeader": _host(source, region),
            }
        return found

    def _region(self, source: str) -> str:
        if source in _GLOBAL:
            return "us-east-1"
        if self.rng.random() < 0.1:
            return self.rng.choice(_OTHER_REGIONS)
        return self.region

    def login(
        self, now: int, identity: dict[str, Any], ip: str, *, success: bool, mfa: bool,
        error: str | None = None, agent: str = _BROWSER,
    ) -> dict[str, Any]:  # fmt: skip
        rng = self.rng
        record: dict[str, Any] = {
            "eventVersion": "1.05",
            "userIdentity": identity,
            "eventTime": self.time(now),
            "eventSource": "signin.amazonaws.com",
            "eventName": "ConsoleLogin",
            "awsRegion": "us-east-1",
            "sourceIPAddress": ip,
            "userAgent": agent,
        }
        if error is not None:
            record["errorMessage"] = error
        record["requestParameters"] = None
        record["responseElements"] = {"ConsoleLogin": "Success" if success else "Failure"}
        extra = {
            "LoginTo": "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true"
            f"&state=hashArgsFromTB_us-east-1_{hex_id(rng, 16)}",
            "MobileVersion": "No",
        }
        if mfa and success:
            user = identity.get("userName")
            extra["MFAIdentifier"] = (
                f"arn:aws:iam::{self.account}:mfa/{user}"
                if user
                else f"arn:aws:iam::{self.account}:mfa/root-account-mfa-device"
            )
        extra["MFAUsed"] = "Yes" if mfa and success else "No"
        record["additionalEventData"] = extra
        record["eventID"] = uuid4(rng)
        record["readOnly"] = False
        record["eventType"] = "AwsConsoleSignIn"
        record["managementEvent"] = True
        record["recipientAccountId"] = self.account
        record["eventCategory"] = "Management"
        return record

    def _login_identity(self, name: str | None, principal_id: str = "") -> dict[str, Any]:
        identity: dict[str, Any] = {"type": "IAMUser", "principalId": principal_id}
        if name is not None and principal_id:
            identity["arn"] = f"arn:aws:iam::{self.account}:user/{name}"
        identity.update(
            {"accountId": self.account, "accessKeyId": "", "userName": name or HIDDEN_USER}
        )
        return identity

    # -- scenarios (each returns the records it emits, in order) ----------------------------
    def scenario_api(self, now: int) -> list[dict[str, Any]]:
        rng = self.rng
        p = self.actors[bisect(self.actor_weights, rng.random() * self.actor_weights[-1])]
        return [self.api_call(p, API[p.pick_call(rng)], now)]

    def scenario_service(self, now: int) -> list[dict[str, Any]]:
        rng = self.rng
        service = rng.choice(("ec2.amazonaws.com", "lambda.amazonaws.com"))
        role = "web-instance-role" if service.startswith("ec2") else "order-processor-role"
        session = f"i-{hex_id(rng)}" if service.startswith("ec2") else "order-processor"
        expires = self.world.iam_date()
        return [
            {
                "eventVersion": "1.08",
                "userIdentity": {"type": "AWSService", "invokedBy": service},
                "eventTime": self.time(now),
                "eventSource": "sts.amazonaws.com",
                "eventName": "AssumeRole",
                "awsRegion": self.region,
                "sourceIPAddress": service,
                "userAgent": service,
                "requestParameters": {
                    "roleArn": f"arn:aws:iam::{self.account}:role/{role}",
                    "roleSessionName": session,
                },
                "responseElements": {
                    "credentials": {
                        "accessKeyId": _key(rng, "ASIA"),
                        "sessionToken": "<redacted>",
                        "expiration": expires,
                    }
                },
                "requestID": uuid4(rng),
                "eventID": uuid4(rng),
                "readOnly": True,
                "resources": [
                    {
                        "accountId": self.account,
                        "type": "AWS::IAM::Role",
                        "ARN": f"arn:aws:iam::{self.account}:role/{role}",
                    }
                ],
                "eventType": "AwsApiCall",
                "managementEvent": True,
                "recipientAccountId": self.account,
                "sharedEventID": uuid4(rng),
                "eventCategory": "Management",
            }
        ]

    def _console_user(self) -> _Principal:
        return self.rng.choice([p for p in self.people if p.kind == "IAMUser" and
                                p.name in ("alice", "ops-admin", "carol")])  # fmt: skip

    def scenario_login_ok(self, now: int) -> list[dict[str, Any]]:
        p = self._console_user()
        p._left = 0  # a new console session starts
        identity = self._login_identity(p.name, p.principal_id)
        return [self.login(now, identity, p.ips[0], success=True, mfa=p.mfa)]

    def scenario_wrong_password(self, now: int) -> list[dict[str, Any]]:
        p = self._console_user()
        identity = self._login_identity(p.name, p.principal_id)
        error = "Failed authentication"
        return [self.login(now, identity, p.ips[0], success=False, mfa=False, error=error)]

    def scenario_unknown_user(self, now: int) -> list[dict[str, Any]]:
        ip = self.rng.choice(self.login_ips)
        return [self._hidden_failure(now, ip)]

    def _hidden_failure(self, now: int, ip: str) -> dict[str, Any]:
        return self.login(
            now, self._login_identity(None), ip, success=False, mfa=False,
            error="No username found in supplied account", agent=_BROWSER_WIN,
        )  # fmt: skip

    def scenario_login_burst(self, now: int) -> list[dict[str, Any]]:
        rng = self.rng
        ip = rng.choice(self.attackers)
        records = []
        for _ in range(rng.randint(5, 20)):
            if rng.random() < 0.7:
                records.append(self._hidden_failure(now, ip))
            else:
                p = self._console_user()
                identity = self._login_identity(p.name, p.principal_id)
                records.append(
                    self.login(now, identity, ip, success=False, mfa=False,
                               error="Failed authentication", agent=_BROWSER_WIN)
                )  # fmt: skip
        return records

    def scenario_root(self, now: int) -> list[dict[str, Any]]:
        rng = self.rng
        account = self.account
        identity = {
            "type": "Root",
            "principalId": account,
            "arn": f"arn:aws:iam::{account}:root",
            "accountId": account,
            "accessKeyId": "",
        }
        ip = "192.0.2.10"
        root = _Principal("root", "Root", (ip,), "console", [])
        records = [self.login(now, identity, ip, success=True, mfa=True)]
        for name in rng.sample(
            (
                "ListUsers",
                "DeleteAccessKey",
                "StartLogging",
                "RevokeSecurityGroupIngress",
                "ListBuckets",
            ),
            rng.randint(1, 3),
        ):
            records.append(self.api_call(root, API[name], now, identity=identity, source_ip=ip))
        return records


def cloudtrail(
    seed: int | None = None,
    start_ms: int = 0,
    rate: float = 100.0,
    *,
    account_id: str = "123456789012",
    region: str = "us-east-1",
) -> Iterator[SimEvent]:
    """Endless CloudTrail events, ``rate`` per simulated second from ``start_ms``; the same
    arguments give the same events."""
    if rate <= 0:
        raise ValueError("rate must be positive")
    trail = _Trail(random.Random(seed), account_id, region)
    stream = log_stream_name(account_id, region)
    scenarios = (
        (92.0, trail.scenario_api),
        (5.0, trail.scenario_service),
        (1.5, trail.scenario_login_ok),
        (0.6, trail.scenario_wrong_password),
        (0.6, trail.scenario_unknown_user),
        (0.12, trail.scenario_login_burst),
        (0.15, trail.scenario_root),
    )
    weights = list(accumulate(w for w, _ in scenarios))
    total = weights[-1]
    actions = [a for _, a in scenarios]
    rng = trail.rng
    step_ms = 1000.0 / rate
    clock = float(start_ms)
    dumps = orjson.dumps
    while True:
        action = actions[bisect(weights, rng.random() * total)]
        for record in action(int(clock // 1000)):
            # Records of one scenario share its start second; each still takes its own slot.
            second = int(clock // 1000)
            record["eventTime"] = trail.time(second)
            yield SimEvent(stream, second * 1000, dumps(record).decode())
            clock += step_ms


def _principal_id(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choices(_KEY_ALPHABET, k=17))


def _key(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choices(_KEY_ALPHABET, k=16))


def _host(source: str, region: str) -> str:
    if source == "iam":
        return "iam.amazonaws.com"
    return f"{source}.{region}.amazonaws.com"
