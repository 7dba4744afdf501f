"""CloudTrail records of API calls made to this server (aws-compat.md section 7.3's fields).

What is recorded follows AWS: management events only. Data events, which CloudTrail does not
record unless a trail selects them (logsieve never generates them), are left out:
CloudWatch Logs PutLogEvents (and the log-event reads GetLogEvents / FilterLogEvents /
StartLiveTail), Lambda Invoke, Kinesis PutRecord(s) / GetRecords / GetShardIterator /
SubscribeToShard, SNS Publish / PublishBatch.

Secrets are redacted the way AWS does: Lambda environment variables and code (``ZipFile``) and
every binary member never appear; a Lambda environment shows as
``{"variables": "HIDDEN_DUE_TO_SECURITY_REASONS"}``... see :data:`HIDDEN`.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
import orjson

from logsieve.storage.trails import EventRow

from .calls import ApiCall

EVENT_VERSION = "1.11"
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"

DATA_EVENTS: dict[str, frozenset[str]] = {
    "logs": frozenset({"PutLogEvents", "GetLogEvents", "FilterLogEvents", "StartLiveTail"}),
    "lambda": frozenset({"Invoke", "InvokeAsync", "InvokeWithResponseStream"}),
    "kinesis": frozenset(
        {"PutRecord", "PutRecords", "GetRecords", "GetShardIterator", "SubscribeToShard"}
    ),
    "sns": frozenset({"Publish", "PublishBatch"}),
}
_NONE: frozenset[str] = frozenset()

#: CloudWatch is recorded as ``monitoring.amazonaws.com``; every other service by its name.
_SOURCES = {"monitoring": "monitoring.amazonaws.com"}

#: Lambda's API versions as CloudTrail names its events (``CreateFunction20150331``).
_LAMBDA_V2 = frozenset({
    "GetFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration", "AddPermission",
    "RemovePermission", "GetPolicy",
})  # fmt: skip

_READ_ONLY = re.compile(r"(Describe|Get|List|Lookup|Test)[A-Z]")

#: Parameters naming a resource, for LookupEvents' ResourceType / ResourceName.
_RESOURCES = {
    "logGroupName": "AWS::Logs::LogGroup",
    "StreamName": "AWS::Kinesis::Stream",
    "FunctionName": "AWS::Lambda::Function",
    "TopicArn": "AWS::SNS::Topic",
}
_TRAIL_PARAMS = ("Name", "TrailName", "ResourceId")  # ResourceId: AddTags, RemoveTags

#: Members never shown, whatever the service (their values are secrets or code).
_SECRET_MEMBERS = {"Environment": {"Variables": HIDDEN}}
_DROPPED = frozenset({"ZipFile"})


def is_recorded(service: str, operation: str) -> bool:
    """Whether a call is a management event (recorded) rather than a data event."""
    return operation not in DATA_EVENTS.get(service, _NONE)


def event_source(service: str) -> str:
    return _SOURCES.get(service, f"{service}.amazonaws.com")


def event_name(service: str, operation: str) -> str:
    if service == "lambda":
        return f"{operation}20150331{'v2' if operation in _LAMBDA_V2 else ''}"
    return operation


def read_only(operation: str) -> bool:
    return _READ_ONLY.match(operation) is not None


def _camel(key: str) -> str:
    """CloudTrail's member spelling: lower camel case (``TopicArn`` -> ``topicArn``)."""
    if key[:1].isupper():
        upper = len(key) - len(key.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        if 1 < upper < len(key):
            upper -= 1  # "SNSTopic" -> "snsTopic"
        return key[:upper].lower() + key[upper:]
    return key


def shown(value: Any) -> Any:
    """``value`` as a record shows it: lower camel keys, secrets hidden, binaries left out."""
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if key in _DROPPED or isinstance(item, (bytes, bytearray, memoryview)):
                continue
            if key in _SECRET_MEMBERS and isinstance(item, Mapping):
                item = {**item, **{k: v for k, v in _SECRET_MEMBERS[key].items() if k in item}}
            out[_camel(key)] = shown(item)
        return out
    if isinstance(value, msgspec.Struct):  # a list member the API's fast decoder made
        return shown(msgspec.structs.asdict(value))
    if isinstance(value, list):
        return [shown(item) for item in value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return None
    return value


def _resources(call: ApiCall, region: str, account_id: str) -> tuple[tuple[str, str], ...]:
    params = call.params or {}
    found = [
        (kind, params[key]) for key, kind in _RESOURCES.items() if isinstance(params.get(key), str)
    ]
    if call.service == "cloudtrail":
        for key in _TRAIL_PARAMS:
            name = params.get(key)
            if isinstance(name, str):
                arn = (
                    name
                    if name.startswith("arn:")
                    else (f"arn:aws:cloudtrail:{region}:{account_id}:trail/{name}")
                )
                found.append(("AWS::CloudTrail::Trail", arn))
    return tuple(found)


class Identities:
    """``userIdentity`` of a calling key: an IAM user named in the config (``user_name``), the
    function a key was issued to (its execution role, as an assumed-role session), or else the
    IAM user ``logsieve``. Not the root user: the README's "root used" rules and CIS 4.3 would
    then fire on every call a user makes with the generated key."""

    def __init__(
        self,
        account_id: str,
        user_name: Callable[[str], str | None],
        function_of: Callable[[str], str | None] = lambda key: None,
    ) -> None:
        self.account_id = account_id
        self.user_name = user_name
        self.function_of = function_of

    def __call__(self, access_key_id: str) -> dict[str, Any]:
        function_arn = self.function_of(access_key_id)
        if function_arn:
            function = function_arn.rsplit(":", 1)[-1]
            role = f"{function}-role"
            return {
                "type": "AssumedRole",
                "principalId": f"{_principal('AROA', role)}:{function}",
                "arn": f"arn:aws:sts::{self.account_id}:assumed-role/{role}/{function}",
                "accountId": self.account_id,
                "accessKeyId": access_key_id,
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": _principal("AROA", role),
                        "arn": f"arn:aws:iam::{self.account_id}:role/{role}",
                        "accountId": self.account_id,
                        "userName": role,
                    }
                },
                "invokedBy": "lambda.amazonaws.com",
            }
        name = self.user_name(access_key_id) or DEFAULT_USER
        return {
            "type": "IAMUser",
            "principalId": _principal("AIDA", name),
            "arn": f"arn:aws:iam::{self.account_id}:user/{name}",
            "accountId": self.account_id,
            "accessKeyId": access_key_id,
            "userName": name,
        }


#: The IAM user of a configured key without ``user_name``.
DEFAULT_USER = "logsieve"


def _principal(prefix: str, name: str) -> str:
    """A stable IAM-style unique id (``AIDA`` + 17 characters) for a principal name."""
    digest = hashlib.sha256(name.encode()).hexdigest().upper()
    return prefix + digest[:17]


def _event_time(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def build(
    call: ApiCall, identity: dict[str, Any], account_id: str
) -> tuple[dict[str, Any], EventRow]:
    """The CloudTrail record of ``call`` and its event-history row."""
    is_read_only = read_only(call.operation)
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": identity,
        "eventTime": _event_time(call.time),
        "eventSource": event_source(call.service),
        "eventName": event_name(call.service, call.operation),
        "awsRegion": call.region,
        "sourceIPAddress": call.source_ip,
        "userAgent": call.user_agent,
    }
    if call.error_code:
        record["errorCode"] = call.error_code
        record["errorMessage"] = call.error_message or ""
    record["requestParameters"] = shown(call.params) if call.params else None
    record["responseElements"] = (
        shown(call.result) if call.result and not is_read_only and not call.error_code else None
    )
    event_id = str(uuid.uuid4())
    record.update(
        requestID=call.request_id,
        eventID=event_id,
        readOnly=is_read_only,
        eventType="AwsApiCall",
        managementEvent=True,
        recipientAccountId=account_id,
        eventCategory="Management",
    )
    resources = _resources(call, call.region, account_id)
    if resources:
        record["resources"] = [
            {"ARN" if value.startswith("arn:") else "resourceName": value, "type": kind}
            for kind, value in resources
        ]
    text = orjson.dumps(record).decode("utf-8")
    row = EventRow(
        event_id,
        int(call.time) * 1000,
        record["eventName"],
        record["eventSource"],
        identity.get("userName")
        or identity.get("sessionContext", {}).get("sessionIssuer", {}).get("userName"),
        call.access_key_id,
        is_read_only,
        resources,
        text,
    )
    return record, row
