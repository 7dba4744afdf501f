"""Kinesis-compatible streams as subscription destinations (one record per payload)."""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import TYPE_CHECKING

from logsieve.errors import ServiceError
from logsieve.formats.awslogs import Payload, control_message, encode

from .base import DeliveryError

if TYPE_CHECKING:
    from logsieve.kinesis import KinesisService

TEST_DELIVERY_FAILED = (
    "Could not deliver test message to specified destination. Check if the destination is valid."
)
_NOT_RETRYABLE = frozenset({"ResourceNotFoundException", "AccessDeniedException"})


def partition_key(payload: Payload, distribution: str) -> str:
    """``ByLogStream``: one key per log stream (one shard, in order); ``Random``: spread.

    AWS's own key string is undocumented; a digest of group and stream keeps it opaque and
    within Kinesis's 256-character limit.
    """
    if distribution == "Random":
        return str(uuid.uuid4())
    source = f"{payload.log_group}:{payload.log_stream}".encode()
    return hashlib.sha256(source).hexdigest()


class KinesisDestination:
    def __init__(self, arn: str, stream: str, kinesis: KinesisService, distribution: str) -> None:
        self.arn = arn
        self.stream = stream
        self.kinesis = kinesis
        self.distribution = distribution

    def check(self, source_arn: str) -> None:
        payload = control_message("Kinesis stream", int(time.time() * 1000))
        try:
            self.kinesis.put_internal(self.stream, encode(payload), str(uuid.uuid4()))
        except ServiceError as exc:
            raise ServiceError("InvalidParameterException", TEST_DELIVERY_FAILED) from exc

    def deliver(self, payload: Payload, data: bytes) -> None:
        try:
            self.kinesis.put_internal(self.stream, data, partition_key(payload, self.distribution))
        except ServiceError as exc:
            raise DeliveryError(
                f"Kinesis {exc.code}: {exc.message}", retryable=exc.code not in _NOT_RETRYABLE
            ) from exc
