"""Lambda-style handlers as subscription destinations.

The handler receives exactly what AWS sends, ``{"awslogs": {"data": base64(gzip(payload))}}``.
AWS invokes asynchronously and leaves retries to Lambda's async queue; here the invocation is
waited for, so a handler error or timeout is a failed delivery the dispatcher retries itself.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import orjson

from logsieve.errors import ServiceError
from logsieve.formats.awslogs import Payload

from .base import DeliveryError

if TYPE_CHECKING:
    from logsieve.lambdas import LambdaService

NOT_INVOKABLE = (
    "Could not execute the lambda function. Make sure you have given CloudWatch Logs "
    "permission to execute your function."
)


def lambda_event(data: bytes) -> bytes:
    """The invocation event for one gzip'd payload, as JSON bytes."""
    return b'{"awslogs":{"data":"' + base64.b64encode(data) + b'"}}'


class LambdaDestination:
    def __init__(self, arn: str, name: str, lambdas: LambdaService) -> None:
        self.arn = arn
        self.name = name
        self.lambdas = lambdas

    def cause(self, source_arn: str) -> str | None:
        """Why deliveries from ``source_arn`` cannot succeed now, in plain words, or None.

        AWS answers both a missing function and a missing permission with NOT_INVOKABLE; the
        operator is told which (server log, ``logsieve subscriptions``).
        """
        if self.lambdas.resolve(self.arn) is None:
            return f"function {self.name} does not exist"
        if not self.lambdas.allows_logs(self.arn, source_arn):
            return (
                f"function {self.name} does not allow logs.amazonaws.com to invoke it for "
                f"{source_arn}: add it with `aws lambda add-permission`"
            )
        return None

    def check(self, source_arn: str) -> None:
        if self.cause(source_arn) is not None:
            raise ServiceError("InvalidParameterException", NOT_INVOKABLE)

    def deliver(self, payload: Payload, data: bytes) -> None:
        spec = self.lambdas.resolve(self.arn)
        if spec is None:
            raise DeliveryError(f"function {self.arn} no longer exists", retryable=False)
        # As on AWS, a permission removed after subscribing stops deliveries.
        region = self.arn.split(":")[3]
        source = f"arn:aws:logs:{region}:{payload.owner}:log-group:{payload.log_group}:*"
        if not self.lambdas.allows_logs(self.arn, source):
            raise DeliveryError(self.cause(source) or NOT_INVOKABLE, retryable=False)
        result = self.lambdas.invoke(spec, lambda_event(data))
        if not result.ok:
            reason = _error(result.payload)
            raise DeliveryError(f"{spec.name} failed ({result.function_error}): {reason}")


def _error(payload: bytes) -> str:
    """``errorType: errorMessage`` from Lambda's error document, or the raw text."""
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return payload[:500].decode(errors="replace")
    if isinstance(document, dict):
        kind, message = document.get("errorType"), document.get("errorMessage")
        return f"{kind}: {message}" if kind else str(message)
    return str(document)[:500]
