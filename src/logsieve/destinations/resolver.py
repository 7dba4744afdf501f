"""Destination ARNs to destination objects, for this server's region and account."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from logsieve.errors import ServiceError
from logsieve.logs.subscription_filters import parse_destination

from .base import Destination
from .firehose import FirehoseDestination, FirehoseSink
from .kinesis_stream import TEST_DELIVERY_FAILED, KinesisDestination
from .lambda_function import NOT_INVOKABLE, LambdaDestination

if TYPE_CHECKING:
    from logsieve.kinesis import KinesisService
    from logsieve.lambdas import LambdaService


class Destinations:
    def __init__(
        self,
        region: str,
        account: str,
        lambdas: LambdaService,
        kinesis: KinesisService,
        firehose: Mapping[str, FirehoseSink],
        standing: Mapping[str, Destination] | None = None,
    ) -> None:
        self.region = region
        self.account = account
        self.lambdas = lambdas
        self.kinesis = kinesis
        self.firehose = firehose
        self.standing = standing or {}  # destinations of config-declared consumers, by ARN

    def resolve(self, arn: str, distribution: str = "ByLogStream") -> Destination:
        """The destination ``arn`` names; ``ServiceError`` when no such destination exists."""
        if arn in self.standing:
            return self.standing[arn]
        parsed = parse_destination(arn)
        if parsed is None or (parsed.region, parsed.account) != (self.region, self.account):
            missing = NOT_INVOKABLE if parsed and parsed.kind == "lambda" else TEST_DELIVERY_FAILED
            raise ServiceError("InvalidParameterException", missing)
        if parsed.kind == "lambda":
            return LambdaDestination(arn, parsed.name, self.lambdas)
        if parsed.kind == "kinesis":
            return KinesisDestination(arn, parsed.name, self.kinesis, distribution)
        sink = self.firehose.get(parsed.name) if parsed.kind == "firehose" else None
        if sink is None:
            raise ServiceError("InvalidParameterException", TEST_DELIVERY_FAILED)
        return FirehoseDestination(arn, sink)

    def cause(self, arn: str, source_arn: str) -> str | None:
        """Why deliveries to ``arn`` from the log group ``source_arn`` cannot succeed now, in
        plain words for an operator, or None when nothing is known to be wrong.

        AWS's API messages stay vague (a missing function reads as a missing permission);
        this is what the server log and the subscription status say instead.
        """
        if arn in self.standing:
            return None
        parsed = parse_destination(arn)
        if parsed is None:
            return f"{arn} is not a destination ARN this server knows"
        if (parsed.region, parsed.account) != (self.region, self.account):
            return (
                f"{arn} is in region {parsed.region}, account {parsed.account}; this server "
                f"is region {self.region}, account {self.account}"
            )
        if parsed.kind == "lambda":
            return LambdaDestination(arn, parsed.name, self.lambdas).cause(source_arn)
        if parsed.kind == "kinesis" and not self.kinesis.exists(parsed.name):
            return f"Kinesis stream {parsed.name} does not exist"
        if parsed.kind == "firehose" and parsed.name not in self.firehose:
            return f"delivery stream {parsed.name} is not declared ([[firehose]] in the config)"
        return None
