"""Where function logs go: the ``/aws/lambda/<name>`` log group of this server's own CloudWatch
Logs service, as on AWS (so subscriptions, filters and ``aws logs tail`` work on them too).

The group and stream are created on first use. A sink never raises into the runtime: a failure
to store log lines is logged and the invocation goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from logsieve.errors import Operation, ServiceError

log = logging.getLogger(__name__)

MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD = 26  # bytes CloudWatch Logs counts per event
MAX_MESSAGE_BYTES = 262_144 - EVENT_OVERHEAD  # Lambda cuts longer log lines at 256 KB
MAX_SPAN_MS = 24 * 3_600_000 - 1


class LogsSink:
    """``FunctionRuntime``'s log sink, writing through the Logs service's operations."""

    def __init__(self, operations: dict[str, Operation]) -> None:
        self._put_events = operations["PutLogEvents"]
        self._create_group = operations["CreateLogGroup"]
        self._create_stream = operations["CreateLogStream"]

    def __call__(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        try:
            for batch in _batches(events):
                self._put(group, stream, batch)
        except Exception:
            log.exception("event=lambda_logs_lost group=%s stream=%s", group, stream)

    def _put(self, group: str, stream: str, batch: list[dict[str, Any]]) -> None:
        params = {"logGroupName": group, "logStreamName": stream, "logEvents": batch}
        try:
            self._put_events(params)
        except ServiceError as error:
            if error.code != "ResourceNotFoundException":
                raise
            self._ensure(group, stream)
            self._put_events(params)

    def _ensure(self, group: str, stream: str) -> None:
        for create, params in (
            (self._create_group, {"logGroupName": group}),
            (self._create_stream, {"logGroupName": group, "logStreamName": stream}),
        ):
            try:
                create(params)
            except ServiceError as error:
                if error.code != "ResourceAlreadyExistsException":
                    raise


def _batches(events: list[tuple[int, str]]) -> Iterator[list[dict[str, Any]]]:
    """PutLogEvents batches: chronological, within CloudWatch's count, size and 24 h limits."""
    batch: list[dict[str, Any]] = []
    size = 0
    for timestamp, message in sorted(events, key=lambda e: e[0]):
        if not message:
            continue  # CloudWatch Logs refuses empty messages
        encoded = message.encode("utf-8", "replace")
        if len(encoded) > MAX_MESSAGE_BYTES:
            message = encoded[:MAX_MESSAGE_BYTES].decode("utf-8", "ignore")
            encoded = message.encode("utf-8")
        cost = len(encoded) + EVENT_OVERHEAD
        if batch and (
            len(batch) >= MAX_BATCH_EVENTS
            or size + cost > MAX_BATCH_BYTES
            or timestamp - batch[0]["timestamp"] > MAX_SPAN_MS
        ):
            yield batch
            batch, size = [], 0
        batch.append({"timestamp": timestamp, "message": message})
        size += cost
    if batch:
        yield batch
