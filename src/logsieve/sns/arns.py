"""SNS resource names: topic ARNs, subscription ARNs, and the endpoints subscriptions point at.

``arn:aws:sns:<region>:<account>:<topic>`` for a topic and ``<topic arn>:<uuid>`` for one of its
subscriptions, as AWS builds them. Parsing errors are worded like AWS's (``Invalid parameter:
TopicArn``), since callers match on them.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from logsieve.errors import ServiceError

INVALID_PARAMETER = "InvalidParameterException"
NOT_FOUND = "NotFoundException"

TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
FIFO_TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,251}\.fifo")
_PARTITION = re.compile(r"aws(-[a-z]+)*")
_LAMBDA_ARN = re.compile(
    r"arn:aws(-[a-z]+)*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?"
)


def invalid(what: str) -> ServiceError:
    """``InvalidParameter`` with AWS's ``Invalid parameter: <what>`` wording."""
    return ServiceError(INVALID_PARAMETER, f"Invalid parameter: {what}")


@dataclass(frozen=True)
class TopicName:
    region: str
    account: str
    name: str

    @property
    def arn(self) -> str:
        return topic_arn(self.region, self.account, self.name)


def topic_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:sns:{region}:{account}:{name}"


def subscription_arn(topic: str) -> str:
    return f"{topic}:{uuid.uuid4()}"


def parse_topic_arn(arn: str | None, member: str = "TopicArn") -> TopicName:
    """Split a topic ARN, or raise ``InvalidParameter`` naming the member (AWS answers a
    malformed ARN with ``Invalid parameter: TopicArn``)."""
    parts = (arn or "").split(":")
    if (
        len(parts) != 6
        or parts[0] != "arn"
        or _PARTITION.fullmatch(parts[1]) is None
        or parts[2] != "sns"
        or not parts[3]
        or not parts[4]
        or not (TOPIC_NAME.fullmatch(parts[5]) or FIFO_TOPIC_NAME.fullmatch(parts[5]))
    ):
        raise invalid(member)
    return TopicName(parts[3], parts[4], parts[5])


def subscription_topic(arn: str) -> str | None:
    """The topic ARN a subscription ARN belongs to, or None when it is not one."""
    parts = arn.split(":")
    if len(parts) != 7 or parts[0] != "arn" or parts[2] != "sns":
        return None
    try:
        uuid.UUID(parts[6])
    except ValueError:
        return None
    return ":".join(parts[:6])


def is_lambda_arn(endpoint: str) -> bool:
    return _LAMBDA_ARN.fullmatch(endpoint) is not None
