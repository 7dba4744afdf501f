"""What topic and subscription settings may be: attribute names and values, protocols and
endpoints, with AWS's ``Invalid parameter: ...`` wording (a ``prefix`` of ``Attributes Reason: ``
when the value came in CreateTopic/Subscribe's ``Attributes`` map, as AWS words it)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from email.utils import parseaddr
from urllib.parse import urlsplit

from . import arns
from .arns import invalid
from .filter import compile_policy
from .messages import is_one_line

PROTOCOLS = ("email", "email-json", "http", "https", "lambda")  # what logsieve delivers to
AWS_ONLY_PROTOCOLS = ("sqs", "sms", "application", "firehose")  # AWS has them, we do not
CONFIRMED_BY_OWNER = ("email", "email-json", "http", "https")  # need the endpoint's confirmation

TOPIC_ATTRIBUTES = frozenset(
    {
        "DeliveryPolicy", "DisplayName", "Policy", "TracingConfig", "KmsMasterKeyId",
        "SignatureVersion", "ContentBasedDeduplication", "ArchivePolicy", "FifoThroughputScope",
        *(
            f"{protocol}{suffix}"
            for protocol in ("Application", "Firehose", "HTTP", "Lambda", "SQS")
            for suffix in ("SuccessFeedbackRoleArn", "SuccessFeedbackSampleRate",
                           "FailureFeedbackRoleArn")
        ),
    }
)  # fmt: skip
CREATE_ONLY = frozenset({"FifoTopic"})
SUBSCRIPTION_ATTRIBUTES = frozenset(
    {
        "DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery",
        "RedrivePolicy", "SubscriptionRoleArn", "ReplayPolicy",
    }
)  # fmt: skip


def flag(value: str, name: str, prefix: str) -> str:
    """A ``true``/``false`` attribute, lower-cased."""
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise invalid(f"{prefix}{name}: Invalid value [{value}]. Must be true or false.")
    return lowered


def check_topic_attribute(name: str, value: str, prefix: str) -> None:
    if name in ("Policy", "DeliveryPolicy", "ArchivePolicy") and value:
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise invalid(f"{prefix}{name}: failed to parse JSON.")
    elif name == "SignatureVersion" and value not in ("1", "2"):
        raise invalid(f"{prefix}SignatureVersion")
    elif name == "TracingConfig" and value not in ("PassThrough", "Active"):
        raise invalid(f"{prefix}TracingConfig")
    elif name in ("FifoTopic", "ContentBasedDeduplication"):
        flag(value, name, prefix)
    elif name == "DisplayName" and (len(value) > 100 or not is_one_line(value)):
        raise invalid(f"{prefix}DisplayName")  # a line break would also be a header injection


def check_subscription_attribute(
    name: str, value: str, attributes: Mapping[str, str], prefix: str
) -> str:
    """The value to store for a subscription attribute, or ``InvalidParameter``."""
    if name not in SUBSCRIPTION_ATTRIBUTES:
        raise invalid(f"{prefix}AttributeName")
    if name == "RawMessageDelivery":
        return flag(value, name, prefix)
    if name == "FilterPolicyScope":
        if value not in ("MessageAttributes", "MessageBody"):
            raise invalid(
                f"{prefix}FilterPolicyScope: Invalid value [{value}]. Please use either "
                "MessageBody or MessageAttributes"
            )
        policy = attributes.get("FilterPolicy")
        if policy:
            compile_policy(policy, value, prefix)
    elif name == "FilterPolicy":
        compile_policy(value, attributes.get("FilterPolicyScope", "MessageAttributes"), prefix)
    elif name in ("DeliveryPolicy", "RedrivePolicy") and value:
        try:
            json.loads(value)
        except ValueError:
            raise invalid(f"{prefix}{name}: failed to parse JSON.") from None
    return value


def check_endpoint(protocol: str, endpoint: str) -> None:
    if protocol in AWS_ONLY_PROTOCOLS:
        raise invalid(
            f"logsieve does not deliver to protocol {protocol}; use one of " + ", ".join(PROTOCOLS)
        )
    if protocol not in PROTOCOLS:
        raise invalid(f"Amazon SNS does not support this protocol string: {protocol}")
    if protocol in ("email", "email-json"):
        _, address = parseaddr(endpoint)
        local, _, domain = address.rpartition("@")
        if (
            not local
            or "." not in domain
            or address != endpoint.strip()
            or " " in address
            or not is_one_line(endpoint)  # a line break would be a header injection
        ):
            raise invalid("Email address")
    elif protocol in ("http", "https"):
        if not endpoint.lower().startswith(f"{protocol}://"):
            raise invalid("Endpoint must match the specified protocol")
        try:
            parts = urlsplit(endpoint)
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError:
            raise invalid("Endpoint") from None
        if not parts.hostname or not is_one_line(endpoint):
            raise invalid("Endpoint")
    elif protocol == "lambda" and not arns.is_lambda_arn(endpoint):
        raise invalid("Lambda endpoint ARN")
