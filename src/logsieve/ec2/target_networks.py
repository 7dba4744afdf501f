"""Client VPN target networks: the subnets an endpoint is associated with.

An endpoint accepts clients only once a subnet is associated: AWS answers ``associating``, the
association becomes ``associated`` a little later and the endpoint goes from
``pending-associate`` to ``available``; removing the last association takes it back and ends
every active connection. The transition is applied lazily (``settle``) when the state is read,
``ASSOCIATION_SECONDS`` after the call, so nothing runs in the background.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import Any

from logsieve.errors import ServiceError

from .resources import Filters, Resources, new_id

__all__ = ["ASSOCIATION_SECONDS", "TargetNetworks"]

ASSOCIATION_SECONDS = 1.0
KIND = "client-vpn-target-network"
_AVAILABLE = {"Code": "available"}
_PENDING = {
    "Code": "pending-associate",
    "Message": "Endpoint is pending association with a target network.",
}

TARGET_FILTERS: Filters = {
    "association-id": lambda d: [d["AssociationId"]],
    "target-network-id": lambda d: [d["TargetNetworkId"]],
    "vpc-id": lambda d: [d["VpcId"]],
}


def _error(code: str, message: str) -> ServiceError:
    return ServiceError(code, message)


class TargetNetworks:
    """Associate, disassociate and describe; ``end_connections(endpoint_id)`` is called when an
    endpoint loses its last target network (its clients are disconnected)."""

    def __init__(
        self,
        resources: Resources,
        end_connections: Callable[[str], None],
        delay: float = ASSOCIATION_SECONDS,
    ) -> None:
        self.resources = resources
        self.end_connections = end_connections
        self.delay = delay

    def _of(self, endpoint_id: str) -> list[dict[str, Any]]:
        return [
            row.data
            for row in self.resources.all(KIND)
            if row.data["ClientVpnEndpointId"] == endpoint_id
        ]

    def settle(self) -> None:
        """Complete the associations whose time has come; their endpoints become available."""
        now = self.resources.clock()
        store = self.resources.store
        for row in self.resources.all(KIND):
            data = row.data
            if data["Status"]["Code"] != "associating" or data["_ready"] > now:
                continue
            store.update(row.id, data={**data, "Status": {"Code": "associated"}})
            endpoint = store.get(data["ClientVpnEndpointId"])
            if endpoint is not None and endpoint.data["Status"]["Code"] == "pending-associate":
                store.update(endpoint.id, data={**endpoint.data, "Status": dict(_AVAILABLE)})

    def associate_client_vpn_target_network(self, params: Mapping[str, Any]) -> dict[str, Any]:
        endpoint = self.resources.require("client-vpn-endpoint", params["ClientVpnEndpointId"])
        existing = self._of(endpoint.id)
        token = params.get("ClientToken")
        for association in existing:
            if token and association.get("_ClientToken") == token:  # a retried call
                return {"AssociationId": association["AssociationId"],
                        "Status": association["Status"]}  # fmt: skip
        if not params.get("SubnetId"):
            raise _error("MissingParameter", "The request must contain the parameter SubnetId")
        subnet = self.resources.require("subnet", params["SubnetId"]).data
        vpc = endpoint.data.get("VpcId") or (existing[0]["VpcId"] if existing else None)
        if any(a["TargetNetworkId"] == subnet["SubnetId"] for a in existing):
            raise _error(
                "InvalidClientVpnDuplicateAssociationException",
                "The specified target network has already been associated with the Client VPN "
                "endpoint.",
            )
        if vpc and subnet["VpcId"] != vpc:
            raise _error(
                "InvalidClientVpnSubnetId.NotFound",
                "The specified subnet cannot be found in the VPN with which the Client VPN "
                "endpoint is associated.",
            )
        if any(a["_Zone"] == subnet["AvailabilityZone"] for a in existing):
            raise _error(
                "InvalidClientVpnSubnetId.DuplicateAz",
                "You have already associated a subnet from this Availability Zone with the "
                "Client VPN endpoint.",
            )
        clients = ipaddress.IPv4Network(endpoint.data["ClientCidrBlock"])
        if clients.overlaps(ipaddress.IPv4Network(subnet["CidrBlock"])):
            raise _error(
                "InvalidClientVpnSubnetId.OverlappingCidr",
                "The specified target network's CIDR range overlaps with the Client VPN "
                "endpoint's client CIDR range.",
            )
        association: dict[str, Any] = {
            "AssociationId": new_id("cvpn-assoc"),
            "VpcId": subnet["VpcId"],
            "TargetNetworkId": subnet["SubnetId"],
            "ClientVpnEndpointId": endpoint.id,
            "Status": {"Code": "associating"},
            "SecurityGroups": list(endpoint.data.get("SecurityGroupIds") or ()),
            "_Zone": subnet["AvailabilityZone"],
            "_ready": self.resources.clock() + self.delay,
        }
        if token:
            association["_ClientToken"] = token
        self.resources.create(KIND, association, {})
        self._show_networks(endpoint.id, vpc=subnet["VpcId"])
        return {"AssociationId": association["AssociationId"], "Status": association["Status"]}

    def disassociate_client_vpn_target_network(self, params: Mapping[str, Any]) -> dict[str, Any]:
        endpoint = self.resources.require("client-vpn-endpoint", params["ClientVpnEndpointId"])
        wanted = params.get("AssociationId")
        if not any(a["AssociationId"] == wanted for a in self._of(endpoint.id)):
            raise _error(
                "InvalidClientVpnAssociationIdNotFound",
                "The specified target network association cannot be found.",
            )
        self.resources.store.delete(wanted)
        if not self._of(endpoint.id):
            self.end_connections(endpoint.id)
            current = self.resources.require("client-vpn-endpoint", endpoint.id).data
            self.resources.store.update(endpoint.id, data={**current, "Status": dict(_PENDING)})
        self._show_networks(endpoint.id)
        return {"AssociationId": wanted, "Status": {"Code": "disassociating"}}

    def describe_client_vpn_target_networks(self, params: Mapping[str, Any]) -> dict[str, Any]:
        endpoint = self.resources.require("client-vpn-endpoint", params["ClientVpnEndpointId"])
        self.settle()
        items, token = self.resources.describe(
            KIND, params, TARGET_FILTERS, params.get("AssociationIds") or (),
            ids_must_exist=False,
            keep=lambda row: row.data["ClientVpnEndpointId"] == endpoint.id,
        )  # fmt: skip
        return {"ClientVpnTargetNetworks": items, "NextToken": token}

    def forget(self, endpoint_id: str) -> None:
        """Drop an endpoint's associations (the endpoint is being deleted)."""
        for association in self._of(endpoint_id):
            self.resources.store.delete(association["AssociationId"])

    def _show_networks(self, endpoint_id: str, vpc: str | None = None) -> None:
        """The endpoint's (deprecated) ``AssociatedTargetNetworks`` and, on the first
        association, its ``VpcId``."""
        row = self.resources.require("client-vpn-endpoint", endpoint_id)
        data = dict(row.data)
        vpcs = sorted({a["VpcId"] for a in self._of(endpoint_id)})
        data["AssociatedTargetNetworks"] = [
            {"NetworkId": network, "NetworkType": "vpc"} for network in vpcs
        ]
        if vpc and not data.get("VpcId"):
            data["VpcId"] = vpc
        self.resources.store.update(endpoint_id, data=data)
