"""What every destination kind offers the dispatcher: a health check and a delivery."""

from __future__ import annotations

from typing import Protocol

from logsieve.formats.awslogs import Payload


class DeliveryError(Exception):
    """A delivery the destination did not confirm.

    ``retryable`` failures (a handler that raised or timed out, a throttled or busy stream) are
    retried with backoff; the others (the destination was deleted, permission was revoked)
    cannot succeed by waiting and go straight to the dead-letter store.
    """

    def __init__(self, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Destination(Protocol):
    """One subscription's target. Both methods block: the dispatcher runs them on threads."""

    arn: str

    def check(self, source_arn: str) -> None:
        """Raise ``ServiceError`` (InvalidParameterException) if deliveries cannot succeed.

        PutSubscriptionFilter calls it; Kinesis and Firehose destinations receive a
        CONTROL_MESSAGE here, as AWS test-delivers one.
        """
        ...

    def deliver(self, payload: Payload, data: bytes) -> None:
        """Deliver one payload (``data`` is its gzip encoding); raise ``DeliveryError``."""
        ...
