"""SNS topic channel: publish to a topic of this server's own SNS API, with boto3.

Going through the public API (rather than calling the SNS service object) means the topic's
subscribers -- email, http, lambda -- get exactly what a handler's ``sns.publish`` would give
them, and this channel works unchanged against real AWS by pointing the endpoint there.
"""

from __future__ import annotations

import threading
import unicodedata
from typing import Any, Protocol

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from .message import Notification
from .outbox import DeliveryFailed
from .policy import DEFAULT_POLICY, DeliveryPolicy
from .render import truncate, truncate_bytes

__all__ = ["SnsTopicChannel", "sns_subject"]

# SNS: "Subjects must be UTF-8 text with no line breaks or control characters, and less than
# 100 characters long"; messages at most 256 KiB.
SUBJECT_LIMIT = 99
MESSAGE_LIMIT = 262_144
# Error codes a later attempt can get past; anything else (NotFound, InvalidParameter,
# AuthorizationError...) is the request's own fault.
_RETRYABLE_CODES = {
    "Throttling",
    "ThrottlingException",
    "Throttled",
    "RequestLimitExceeded",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "KMSThrottling",
}


class _Credential(Protocol):
    access_key_id: str
    secret_access_key: str


def sns_subject(title: str) -> str:
    """``title`` as a valid SNS Subject: one line, no control characters, < 100 characters."""
    cleaned = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in title)
    return truncate(" ".join(cleaned.split()), SUBJECT_LIMIT)


class SnsTopicChannel:
    """Publishes ``Subject`` = title and ``Message`` = text to one topic ARN."""

    def __init__(
        self,
        name: str,
        topic_arn: str,
        endpoint_url: str,
        region: str,
        credential: _Credential,
        timeout: float = 10.0,
        policy: DeliveryPolicy = DEFAULT_POLICY,
    ) -> None:
        self.name = name
        self.policy = policy
        self.topic_arn = topic_arn
        self.endpoint_url = endpoint_url
        self.region = region
        self._credential = credential
        self._timeout = timeout
        self._client: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SnsTopicChannel(name={self.name!r}, topic_arn={self.topic_arn!r})"

    def _sns(self) -> Any:
        # Made on first use (boto3 sessions are slow to build) and not per call.
        with self._lock:
            if self._client is None:
                session = boto3.session.Session()
                self._client = session.client(
                    "sns",
                    endpoint_url=self.endpoint_url,
                    region_name=self.region,
                    aws_access_key_id=self._credential.access_key_id,
                    aws_secret_access_key=self._credential.secret_access_key,
                    config=BotoConfig(
                        connect_timeout=self._timeout,
                        read_timeout=self._timeout,
                        retries={"total_max_attempts": 1, "mode": "standard"},  # the outbox retries
                    ),
                )
            return self._client

    def send(self, note: Notification) -> None:
        request: dict[str, Any] = {
            "TopicArn": self.topic_arn,
            "Message": truncate_bytes(note.text or note.title or " ", MESSAGE_LIMIT),
        }
        subject = sns_subject(note.title)
        if subject:
            request["Subject"] = subject
        try:
            self._sns().publish(**request)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            retryable = code in _RETRYABLE_CODES or status >= 500 or status == 429
            raise DeliveryFailed(
                f"SNS ({self.name}): {code}: {error.get('Message', '')}", retryable=retryable
            ) from None
        except BotoCoreError as exc:  # connection refused, timeouts, bad endpoint
            raise DeliveryFailed(f"SNS ({self.name}): {exc}") from None
