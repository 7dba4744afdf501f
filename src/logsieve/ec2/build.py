"""Building the EC2 service from the parts the composition root has."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from logsieve.errors import Operation, ServiceError
from logsieve.storage.ec2 import Ec2Store

from .connect import Invoke, LogWriter
from .service import Ec2Service

__all__ = ["Functions", "build_ec2", "connection_log_writer"]

log = logging.getLogger("logsieve.ec2")


class Functions(Protocol):
    """The part of ``lambdas.LambdaService`` client connect handlers use."""

    def resolve(self, arn: str) -> Any: ...

    def invoke(self, spec: Any, event: bytes) -> Any: ...


def _invoker(functions: Functions) -> Invoke:
    def invoke(arn: str, event: bytes) -> bytes | None:
        spec = functions.resolve(arn)
        if spec is None:
            return None
        result = functions.invoke(spec, event)
        return bytes(result.payload) if result.ok else None

    return invoke


def connection_log_writer(logs: Mapping[str, Operation]) -> LogWriter:
    """Writes connection-log records through the Logs service's operations as Client VPN
    does: into an existing group (a group that is gone loses the records, which is what
    ``logsieve check`` looks for), creating the stream on first use."""

    def write(group: str, stream: str, events: list[tuple[int, str]]) -> None:
        params = {
            "logGroupName": group,
            "logStreamName": stream,
            "logEvents": [{"timestamp": ts, "message": message} for ts, message in events],
        }
        try:
            try:
                logs["PutLogEvents"](params)
            except ServiceError as error:
                if error.code != "ResourceNotFoundException":
                    raise
                logs["CreateLogStream"]({"logGroupName": group, "logStreamName": stream})
                logs["PutLogEvents"](params)
        except ServiceError as error:
            log.warning(
                "event=connection_log_lost group=%s stream=%s code=%s", group, stream, error.code
            )

    return write


def build_ec2(
    store: Ec2Store,
    region: str,
    account_id: str,
    functions: Functions | None = None,
    write_log: LogWriter | None = None,
) -> Ec2Service:
    """The EC2 service on ``store``; client connect handlers run as ``functions``, connection
    logs are written with ``write_log`` (``connection_log_writer`` over the Logs service)."""
    invoke = _invoker(functions) if functions is not None else None
    return Ec2Service(store, region, account_id, invoke=invoke, write_log=write_log)
