"""What every Kinesis operation needs: the store, identity, clock, stream lookup and errors.

Error wording follows what AWS answered as recorded by kinesalite's tests (the closest thing to
a transcript of real Kinesis responses); where no record exists the message is ours and says
plainly what is wrong.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from logsieve.errors import ServiceError
from logsieve.storage.streams import StreamRow, StreamStore

from .identifiers import shard_id

INVALID_ARGUMENT = "InvalidArgumentException"
NOT_FOUND = "ResourceNotFoundException"
IN_USE = "ResourceInUseException"
LIMIT_EXCEEDED = "LimitExceededException"
VALIDATION = "ValidationException"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def invalid(message: str) -> ServiceError:
    return ServiceError(INVALID_ARGUMENT, message)


def dry_run() -> ServiceError:
    return ServiceError(
        "DryRunOperationException", "Request would have succeeded, but DryRun flag is set."
    )


@dataclass
class KinesisContext:
    store: StreamStore
    region: str = "us-east-1"
    account_id: str = "123456789012"
    clock: Callable[[], int] = field(default=now_ms)
    shard_limit: int = 500  # AWS's default shard quota per account in the large regions

    # --- ARNs ----------------------------------------------------------------------------

    def stream_arn(self, name: str) -> str:
        return f"arn:aws:kinesis:{self.region}:{self.account_id}:stream/{name}"

    def split_arn(self, arn: str) -> tuple[str, str, str] | None:
        """(region, account, stream name) of a Kinesis stream ARN, or None."""
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or parts[2] != "kinesis":
            return None
        if not parts[5].startswith("stream/"):
            return None
        name = parts[5][len("stream/") :]
        return (parts[3], parts[4], name) if name else None

    # --- errors --------------------------------------------------------------------------

    def stream_not_found(self, name: str, account: str | None = None) -> ServiceError:
        return ServiceError(
            NOT_FOUND, f"Stream {name} under account {account or self.account_id} not found."
        )

    def shard_not_found(self, name: str, index: int) -> ServiceError:
        return ServiceError(
            NOT_FOUND,
            f"Shard {shard_id(index)} in stream {name} under account {self.account_id} "
            "does not exist",
        )

    # --- lookups -------------------------------------------------------------------------

    def stream_name(self, params: dict[str, Any]) -> str:
        """``StreamName`` or ``StreamARN`` (both may be given if they agree)."""
        name = params.get("StreamName")
        arn = params.get("StreamARN")
        if arn is not None:
            parsed = self.split_arn(arn)
            if parsed is None:
                raise invalid(f"StreamARN {arn} is not a Kinesis stream ARN.")
            region, account, arn_name = parsed
            if (region, account) != (self.region, self.account_id):  # not a stream of ours
                raise self.stream_not_found(arn_name, account)
            if name is not None and name != arn_name:
                raise invalid(f"StreamARN {arn} and StreamName {name} name different streams.")
            return arn_name
        if name is None:
            raise invalid("Either StreamName or StreamARN should be provided.")
        return name

    def stream(self, params: dict[str, Any]) -> StreamRow:
        name = self.stream_name(params)
        row = self.store.stream(name)
        if row is None:
            raise self.stream_not_found(name)
        return row
