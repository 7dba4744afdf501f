"""Simulated Client VPN connection attempts, and the client connect handler they call.

AWS's real-time hook on the connection path: when an endpoint's ``ClientConnectOptions`` name
a Lambda function (its name starts ``AWSClientVPN-``), Client VPN invokes it synchronously on
every attempt, after authentication, with a 30-second timeout, and connects the client only if
it answers ``{"allow": true, ...}``; no answer, an error or a malformed one denies. Request and
response fields as AWS's "Connection authorization" page documents them (schema ``v3``).

An attempt that is allowed becomes an active connection (DescribeClientVpnConnections); every
attempt, allowed or not, is written to the endpoint's connection log when logging is enabled,
a denied one as ``failed`` with the handler's reason, in AWS's record layout
(``formats.client_vpn``) and AWS's default stream name when none is configured.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from logsieve.errors import ServiceError
from logsieve.formats import client_vpn as records

from .connections import (
    ConnectionLog,
    Connections,
    LogWriter,
    connection_time,
    new_connection_id,
)

__all__ = ["HANDLER_TIMEOUT_SECONDS", "Attempt", "ConnectHandler", "Invoke", "LogWriter", "Outcome"]

log = logging.getLogger("logsieve.ec2.connect")

HANDLER_TIMEOUT_SECONDS = 30.0
SCHEMA_VERSION = "v3"
#: Runs a Lambda function on an event: its answer's bytes, or None when the function does not
#: exist or failed (raised, crashed, timed out on its own).
Invoke = Callable[[str, bytes], bytes | None]


@dataclass(frozen=True)
class Attempt:
    """What a client presents when it connects (after authentication)."""

    username: str = ""
    common_name: str = "client1"
    platform: str = "mac"
    platform_version: str = "14.4.1"
    public_ip: str = "198.51.100.7"
    port: int = 50096
    client_openvpn_version: str = "2.6.8"
    aws_client_version: str = "4.1.0"
    groups: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Attempt:
        """From the operator route's JSON (``common-name``... as the handler receives them)."""
        known = {name.replace("_", "-"): name for name in cls.__dataclass_fields__}
        values: dict[str, Any] = {}
        for key, value in data.items():
            name = known.get(key)
            if name is None:
                raise ServiceError("InvalidParameterValue", f"Unknown attempt field {key!r}.")
            values[name] = int(value) if name == "port" else str(value)
        return cls(**values)


@dataclass
class Outcome:
    """How an attempt ended: allowed or not, why, and the connection-log record it made."""

    allowed: bool
    connection_id: str
    reason: str
    record: dict[str, Any] = field(default_factory=dict)
    log_group: str | None = None
    log_stream: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "connectionId": self.connection_id,
            "reason": self.reason,
            "record": self.record,
            "logGroup": self.log_group,
            "logStream": self.log_stream,
        }


class ConnectHandler:
    """Makes simulated connection attempts on Client VPN endpoints."""

    def __init__(
        self,
        connections: Connections,
        log: ConnectionLog,
        invoke: Invoke | None = None,
        timeout: float = HANDLER_TIMEOUT_SECONDS,
    ) -> None:
        self.connections = connections
        self.log = log
        self.invoke = invoke
        self.timeout = timeout
        self._calls = ThreadPoolExecutor(16, thread_name_prefix="client-connect")

    def close(self) -> None:
        self._calls.shutdown(wait=False, cancel_futures=True)

    def request(self, endpoint_id: str, connection_id: str, attempt: Attempt) -> dict[str, Any]:
        """The JSON the handler receives (AWS's request schema)."""
        return {
            "connection-id": connection_id,
            "endpoint-id": endpoint_id,
            "common-name": attempt.common_name,
            "username": attempt.username,
            "platform": attempt.platform,
            "platform-version": attempt.platform_version,
            "public-ip": attempt.public_ip,
            "client-openvpn-version": attempt.client_openvpn_version,
            "aws-client-version": attempt.aws_client_version,
            "groups": attempt.groups,
            "schema-version": SCHEMA_VERSION,
        }

    def _decide(self, arn: str, event: dict[str, Any]) -> tuple[bool, str]:
        """(allowed, failure reason) from the handler's answer."""
        if self.invoke is None:
            return False, "client-connect-handler-service-error"
        future = self._calls.submit(self.invoke, arn, json.dumps(event).encode())
        try:
            answer = future.result(timeout=self.timeout)
        except FutureTimeout:
            return False, "client-connect-handler-timed-out"
        except Exception:
            log.exception("event=client_connect_handler_failed function=%s", arn)
            return False, "client-connect-handler-service-error"
        if answer is None:
            return False, "client-connect-handler-other-execution-error"
        try:
            decision = json.loads(answer)
        except ValueError:
            return False, "client-connect-handler-invalid-response"
        if not isinstance(decision, dict) or not isinstance(decision.get("allow"), bool):
            return False, "client-connect-handler-invalid-response"
        if decision["allow"]:
            return True, records.NA
        message = decision.get("error-msg-on-denied-connection")
        return False, str(message) if message else "client-connect-failed"

    def attempt(self, endpoint_id: str, attempt: Attempt) -> Outcome:
        """One connection attempt: the handler decides (when enabled), the connection is
        recorded when allowed, and the attempt is logged when logging is enabled."""
        resources = self.connections.resources
        endpoint = resources.require("client-vpn-endpoint", endpoint_id).data
        connection_id = new_connection_id()
        allowed, reason = True, records.NA
        handler = endpoint.get("ClientConnectOptions") or {}
        if handler.get("Enabled"):
            event = self.request(endpoint_id, connection_id, attempt)
            allowed, reason = self._decide(handler["LambdaFunctionArn"], event)
        now = resources.clock()
        client_ip = self._client_ip(endpoint) if allowed else records.NA
        record = {
            "connection-log-type": "connection-attempt",
            "connection-attempt-status": "successful" if allowed else "failed",
            "connection-reset-status": records.NA,
            "connection-attempt-failure-reason": reason,
            "connection-id": connection_id,
            "client-vpn-endpoint-id": endpoint_id,
            "transport-protocol": endpoint.get("TransportProtocol", "udp"),
            "connection-start-time": connection_time(now),
            "connection-last-update-time": connection_time(now),
            "client-ip": client_ip,
            "common-name": attempt.common_name,
            "device-type": attempt.platform,
            "device-ip": attempt.public_ip,
            "port": str(attempt.port),
            "ingress-bytes": "0",
            "egress-bytes": "0",
            "ingress-packets": "0",
            "egress-packets": "0",
            "connection-end-time": records.NA,
        }
        if attempt.username:
            record["username"] = attempt.username
        if allowed:
            fields = {"ConnectionId": connection_id, "Username": attempt.username or None,
                      "ClientIp": client_ip, "CommonName": attempt.common_name}  # fmt: skip
            self.connections.add(endpoint_id, fields, record)
        outcome = Outcome(allowed, connection_id, reason, record)
        outcome.log_group, outcome.log_stream = self.log(endpoint_id, record, now)
        return outcome

    def _client_ip(self, endpoint: Mapping[str, Any]) -> str:
        network = ipaddress.IPv4Network(endpoint["ClientCidrBlock"])
        active = sum(
            1
            for row in self.connections.resources.all("client-vpn-connection")
            if row.data["ClientVpnEndpointId"] == endpoint["ClientVpnEndpointId"]
        )
        return str(network.network_address + 2 + active % (network.num_addresses - 3))
