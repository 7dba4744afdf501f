"""Client VPN connections: their traffic, their end, and the connection log they write.

A connection made by an allowed attempt (``connect.ConnectHandler``) carries traffic while it
is active: each connection gets its own steady rates (drawn from its id, so they survive a
restart), and DescribeClientVpnConnections shows the counters grown since it was established.
A connection ends when the client disconnects or its link resets (the operator route
``disconnect``, which ``simulate world`` calls), when TerminateClientVpnConnections ends it, or
when its endpoint loses its last target network. Each end is written to the endpoint's
connection log, when logging is enabled, as AWS writes it: a ``connection-reset`` record with the
final counters, ``connection-end-time`` and ``connection-duration-seconds``.
"""

from __future__ import annotations

import datetime as _dt
import random
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from logsieve.errors import ServiceError
from logsieve.formats import client_vpn as records
from logsieve.storage.ec2 import ResourceRow

from .resources import Filters, Resources, invalid

__all__ = ["ConnectionLog", "Connections", "LogWriter", "connection_time", "new_connection_id"]

KIND = "client-vpn-connection"
_RECENT_SECONDS = 3600  # terminated connections stay listed for 60 minutes
#: Appends (timestamp ms, message) events to a log group's stream, creating the stream.
LogWriter = Callable[[str, str, list[tuple[int, str]]], None]

CONNECTION_FILTERS: Filters = {
    "connection-id": lambda d: [d["ConnectionId"]],
    "username": lambda d: [d.get("Username", "")],
}


def connection_time(seconds: float) -> str:
    """Connection times, in Describe and in the log: ``2020-11-13 11:37:27`` (UTC)."""
    return _dt.datetime.fromtimestamp(seconds, _dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def new_connection_id() -> str:
    return "cvpn-connection-" + secrets.token_hex(9)[:17]


def _rates(connection_id: str) -> tuple[float, float, int]:
    """(ingress bytes/s, egress bytes/s, bytes per packet) of one connection: a browsing
    laptop moves a few KB/s each way, a video call a few hundred."""
    rng = random.Random(connection_id)
    ingress = rng.choice((2_000, 8_000, 40_000, 250_000)) * rng.uniform(0.5, 1.5)
    return ingress, ingress * rng.uniform(0.2, 0.8), rng.randint(300, 1200)


def counters(connection_id: str, seconds: float) -> dict[str, int]:
    """The traffic counters of a connection ``seconds`` after it was established."""
    ingress, egress, size = _rates(connection_id)
    seconds = max(0.0, seconds)
    bytes_in, bytes_out = int(ingress * seconds), int(egress * seconds)
    return {
        "ingress-bytes": bytes_in,
        "egress-bytes": bytes_out,
        "ingress-packets": -(-bytes_in // size),
        "egress-packets": -(-bytes_out // size),
    }


class ConnectionLog:
    """Writes records to an endpoint's connection log when its logging is enabled: into the
    configured group and stream, or AWS's default stream (made once per endpoint, kept)."""

    def __init__(self, resources: Resources, region: str, write: LogWriter | None) -> None:
        self.resources = resources
        self.region = region
        self.write = write

    def __call__(
        self, endpoint_id: str, record: Mapping[str, Any], now: float
    ) -> tuple[str | None, str | None]:
        """Log ``record``; (group, stream) it went to, or (None, None) when not logging."""
        row = self.resources.store.get(endpoint_id)
        options = (row.data.get("ConnectionLogOptions") if row else None) or {}
        if not options.get("Enabled") or self.write is None or row is None:
            return None, None
        group = options["CloudwatchLogGroup"]
        stream = options.get("CloudwatchLogStream") or self._default_stream(row, now)
        self.write(group, stream, [(int(now * 1000), records.to_message(record))])
        return group, stream

    def _default_stream(self, row: ResourceRow, now: float) -> str:
        stream = row.data.get("_LogStream")
        if not stream:
            day = _dt.datetime.fromtimestamp(now, _dt.UTC)
            stream = records.log_stream_name(row.id, self.region, day)
            self.resources.store.update(row.id, data={**row.data, "_LogStream": stream})
        return str(stream)


class Connections:
    """DescribeClientVpnConnections, TerminateClientVpnConnections and the connection
    lifecycle behind them."""

    def __init__(self, resources: Resources, log: ConnectionLog) -> None:
        self.resources = resources
        self.log = log

    def add(self, endpoint_id: str, fields: Mapping[str, Any], record: Mapping[str, Any]) -> None:
        """Record a connection that was allowed, with the connect record it was logged with
        (the end record repeats its fields)."""
        now = self.resources.clock()
        connection = {
            "ClientVpnEndpointId": endpoint_id,
            "Timestamp": connection_time(now),
            "ConnectionEstablishedTime": connection_time(now),
            "IngressBytes": "0",
            "EgressBytes": "0",
            "IngressPackets": "0",
            "EgressPackets": "0",
            "Status": {"Code": "active"},
            "ConnectionEndTime": "-",
            **fields,
            "_started": now,
            "_record": dict(record),
        }
        self.resources.create(KIND, connection, {})

    def _shown(self, row: ResourceRow) -> dict[str, Any]:
        """A connection as Describe shows it: an active one with its counters as of now."""
        out = self.resources.view(row)
        if row.data["Status"]["Code"] == "active":
            now = self.resources.clock()
            grown = counters(row.id, now - row.data.get("_started", now))
            out.update(
                IngressBytes=str(grown["ingress-bytes"]),
                EgressBytes=str(grown["egress-bytes"]),
                IngressPackets=str(grown["ingress-packets"]),
                EgressPackets=str(grown["egress-packets"]),
                Timestamp=connection_time(now),
            )
        return out

    def describe_client_vpn_connections(self, params: Mapping[str, Any]) -> dict[str, Any]:
        endpoint = self.resources.require("client-vpn-endpoint", params["ClientVpnEndpointId"])
        cutoff = self.resources.clock() - _RECENT_SECONDS

        def listed(row: ResourceRow) -> bool:
            data = row.data
            return data["ClientVpnEndpointId"] == endpoint.id and (
                data["Status"]["Code"] == "active" or data.get("_ended", 0) >= cutoff
            )

        shown, token = self.resources.describe(
            KIND, params, CONNECTION_FILTERS, keep=listed, show=self._shown
        )
        return {"Connections": shown, "NextToken": token}

    def _active(self, endpoint_id: str) -> list[ResourceRow]:
        return [
            row
            for row in self.resources.all(KIND)
            if row.data["ClientVpnEndpointId"] == endpoint_id
            and row.data["Status"]["Code"] == "active"
        ]

    def end(self, row: ResourceRow) -> dict[str, Any]:
        """End an active connection: final counters stored, the ``connection-reset`` record
        logged and returned."""
        now = self.resources.clock()
        data = row.data
        started = data.get("_started", now)
        final = counters(row.id, now - started)
        self.resources.store.update(
            row.id,
            data={
                **data,
                "Status": {"Code": "terminated"},
                "_ended": now,
                "ConnectionEndTime": connection_time(now),
                "Timestamp": connection_time(now),
                "IngressBytes": str(final["ingress-bytes"]),
                "EgressBytes": str(final["egress-bytes"]),
                "IngressPackets": str(final["ingress-packets"]),
                "EgressPackets": str(final["egress-packets"]),
            },
        )
        record = {
            **data.get("_record", {}),
            "connection-log-type": "connection-reset",
            "connection-attempt-status": records.NA,
            "connection-reset-status": records.NA,
            "connection-attempt-failure-reason": records.NA,
            "connection-last-update-time": connection_time(now),
            **{key: str(value) for key, value in final.items()},
            "connection-end-time": connection_time(now),
            "connection-duration-seconds": str(int(now) - int(started)),
        }
        self.log(data["ClientVpnEndpointId"], record, now)
        return record

    def disconnect(self, endpoint_id: str, connection_id: str) -> dict[str, Any]:
        """The client left (or its link reset): the end record."""
        self.resources.require("client-vpn-endpoint", endpoint_id)
        for row in self._active(endpoint_id):
            if row.id == connection_id:
                return self.end(row)
        raise _not_active(connection_id)

    def end_all(self, endpoint_id: str) -> None:
        """Every client of the endpoint is disconnected (its last target network is gone)."""
        for row in self._active(endpoint_id):
            self.end(row)

    def forget(self, endpoint_id: str) -> None:
        """Drop an endpoint's connections (the endpoint is being deleted)."""
        for row in self.resources.all(KIND):
            if row.data["ClientVpnEndpointId"] == endpoint_id:
                self.resources.store.delete(row.id)

    def terminate_client_vpn_connections(self, params: Mapping[str, Any]) -> dict[str, Any]:
        endpoint = self.resources.require("client-vpn-endpoint", params["ClientVpnEndpointId"])
        connection_id, username = params.get("ConnectionId"), params.get("Username")
        if not connection_id and not username:
            raise invalid("Either ConnectionId or Username must be specified.")
        statuses = []
        for row in self._active(endpoint.id):
            if connection_id and row.id != connection_id:
                continue
            if username and row.data.get("Username") != username:
                continue
            self.end(row)
            statuses.append(
                {
                    "ConnectionId": row.id,
                    "PreviousStatus": {"Code": "active"},
                    "CurrentStatus": {"Code": "terminating"},
                }
            )
        if connection_id and not statuses:
            raise _not_active(connection_id)
        out: dict[str, Any] = {"ClientVpnEndpointId": endpoint.id, "ConnectionStatuses": statuses}
        if username:
            out["Username"] = username
        return out


def _not_active(connection_id: str) -> ServiceError:
    return ServiceError(
        "InvalidClientVpnConnection.IdNotFound",
        f"Connection {connection_id} does not exist or is not active.",
    )
