"""The EC2 subset: one table of operations over VPCs, flow logs, Client VPN and tags.

Plain values in and out, ``ServiceError`` with EC2's codes; the ``ec2`` wire protocol
(``api/ec2query.py``) does the rest. ``DryRun=true`` is answered for every operation the way
EC2 answers a caller allowed to make it: ``DryRunOperation`` with HTTP 412.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from logsieve import tokens
from logsieve.errors import Operation, ServiceError
from logsieve.storage.ec2 import Ec2Store

from .client_vpn import ClientVpn
from .connect import Attempt, ConnectHandler, Invoke, Outcome
from .connections import ConnectionLog, Connections, LogWriter
from .flow_logs import FlowLogs
from .network import Network
from .resources import KINDS, Resources, kind_of
from .target_networks import TargetNetworks

__all__ = ["Ec2Service"]

_DRY_RUN = ServiceError(
    "DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412
)
_TAG_FILTERS = {
    "key": lambda t: [t["Key"]],
    "value": lambda t: [t["Value"]],
    "resource-id": lambda t: [t["ResourceId"]],
    "resource-type": lambda t: [t["ResourceType"]],
}


def _dry_run(operation: Operation) -> Operation:
    def run(params: dict[str, Any]) -> dict[str, Any] | None:
        if params.get("DryRun"):
            raise _DRY_RUN
        return operation(params)

    return run


class Ec2Service:
    """The EC2 operations logsieve serves, over one ``Ec2Store``."""

    def __init__(
        self,
        store: Ec2Store,
        region: str,
        account_id: str,
        clock: Callable[[], float] = time.time,
        invoke: Invoke | None = None,
        write_log: LogWriter | None = None,
    ) -> None:
        """``invoke`` runs client connect handlers (Lambda functions); ``write_log`` writes
        connection logs to CloudWatch Logs."""
        self.store = store
        self.region = region
        self.account_id = account_id
        self.resources = Resources(store, clock)
        self.network = Network(self.resources, region, account_id)
        self.flow_logs = FlowLogs(self.resources, region, account_id)
        self.client_vpn = ClientVpn(self.resources, region, account_id)
        self.connections = Connections(
            self.resources, ConnectionLog(self.resources, region, write_log)
        )
        self.connect_handler = ConnectHandler(self.connections, self.connections.log, invoke)
        self.target_networks = TargetNetworks(self.resources, self.connections.end_all)
        self.network.ensure_defaults()
        table: dict[str, Operation] = {
            "CreateVpc": self.network.create_vpc,
            "DescribeVpcs": self.network.describe_vpcs,
            "DeleteVpc": self.network.delete_vpc,
            "CreateSubnet": self.network.create_subnet,
            "DescribeSubnets": self.network.describe_subnets,
            "DeleteSubnet": self.network.delete_subnet,
            "CreateNetworkInterface": self.network.create_network_interface,
            "DescribeNetworkInterfaces": self.network.describe_network_interfaces,
            "DeleteNetworkInterface": self.network.delete_network_interface,
            "CreateFlowLogs": self.flow_logs.create_flow_logs,
            "DescribeFlowLogs": self.flow_logs.describe_flow_logs,
            "DeleteFlowLogs": self.flow_logs.delete_flow_logs,
            "CreateClientVpnEndpoint": self.client_vpn.create_client_vpn_endpoint,
            "DescribeClientVpnEndpoints": self.describe_client_vpn_endpoints,
            "ModifyClientVpnEndpoint": self.client_vpn.modify_client_vpn_endpoint,
            "DeleteClientVpnEndpoint": self.delete_client_vpn_endpoint,
            "AssociateClientVpnTargetNetwork": (
                self.target_networks.associate_client_vpn_target_network
            ),
            "DisassociateClientVpnTargetNetwork": (
                self.target_networks.disassociate_client_vpn_target_network
            ),
            "DescribeClientVpnTargetNetworks": (
                self.target_networks.describe_client_vpn_target_networks
            ),
            "DescribeClientVpnConnections": self.connections.describe_client_vpn_connections,
            "TerminateClientVpnConnections": self.connections.terminate_client_vpn_connections,
            "CreateTags": self.create_tags,
            "DeleteTags": self.delete_tags,
            "DescribeTags": self.describe_tags,
        }
        self.operations: dict[str, Operation] = {
            name: _dry_run(operation) for name, operation in table.items()
        }

    def connect(self, endpoint_id: str, attempt: Attempt) -> Outcome:
        """Simulate one client connection attempt on an endpoint (``simulate world`` and the
        operator route call this): the client connect handler, the connection, the log."""
        return self.connect_handler.attempt(endpoint_id, attempt)

    def disconnect(self, endpoint_id: str, connection_id: str) -> dict[str, Any]:
        """A simulated client leaves (or its link resets): the connection ends and its
        ``connection-reset`` record (returned) is logged."""
        return self.connections.disconnect(endpoint_id, connection_id)

    def close(self) -> None:
        self.connect_handler.close()

    # -- Client VPN endpoints and their target networks ----------------------------------

    def describe_client_vpn_endpoints(self, params: Mapping[str, Any]) -> dict[str, Any]:
        self.target_networks.settle()  # associations due by now make their endpoints available
        return self.client_vpn.describe_client_vpn_endpoints(params)

    def delete_client_vpn_endpoint(self, params: Mapping[str, Any]) -> dict[str, Any]:
        answer = self.client_vpn.delete_client_vpn_endpoint(params)
        self.target_networks.forget(params["ClientVpnEndpointId"])
        self.connections.forget(params["ClientVpnEndpointId"])
        return answer

    # -- tags ----------------------------------------------------------------------------

    def create_tags(self, params: Mapping[str, Any]) -> None:
        self.resources.add_tags(params["Resources"], params["Tags"])

    def delete_tags(self, params: Mapping[str, Any]) -> None:
        self.resources.remove_tags(params["Resources"], params.get("Tags"))

    def describe_tags(self, params: Mapping[str, Any]) -> dict[str, Any]:
        conditions = []
        for item in params.get("Filters") or ():
            getter = _TAG_FILTERS.get(item.get("Name", ""))
            if getter is None:
                raise ServiceError(
                    "InvalidParameterValue", f"The filter '{item.get('Name')}' is invalid"
                )
            conditions.append((getter, list(item.get("Values") or ())))
        out = []
        for row in self.resources.tag_descriptions():
            kind = kind_of(row.id) or KINDS[row.kind]
            for key, value in row.tags.items():
                tag = {"Key": key, "Value": value, "ResourceId": row.id, "ResourceType": kind.name}
                if all(any(v in wanted for v in get(tag)) for get, wanted in conditions):
                    out.append(tag)
        start = 0
        if params.get("NextToken"):
            state = tokens.decode(params["NextToken"], {"i": tokens.is_int})
            if state is None or not 0 <= state["i"] <= len(out):
                raise ServiceError(
                    "InvalidPaginationToken", f"The token '{params['NextToken']}' is invalid."
                )
            start = state["i"]
        limit = params.get("MaxResults") or 1000
        if not 5 <= limit <= 1000:
            raise ServiceError(
                "InvalidParameterValue",
                f"Value ( {limit} ) for parameter maxResults is invalid. "
                "Expecting a value between 5 and 1000.",
            )
        page = out[start : start + limit]
        more = start + limit < len(out)
        return {"Tags": page, "NextToken": tokens.encode({"i": start + limit}) if more else None}
