"""VPCs, subnets and network interfaces: what flow logs attach to.

Enough of EC2's networking for flow logs and Client VPN to name real resources: create,
describe (filters, paging), delete with AWS's dependency and not-found errors. A new data
directory gets a default VPC (``172.31.0.0/16``) with a default subnet per zone and an
interface in each, as a new AWS account has, so ``simulate world`` has interfaces to report.
"""

from __future__ import annotations

import contextlib
import ipaddress
import secrets
from collections.abc import Mapping
from typing import Any

from logsieve.errors import ServiceError
from logsieve.storage.ec2 import ResourceRow

from .resources import Filters, Resources, invalid, new_id, tags_from_specifications

__all__ = ["DEFAULT_VPC_CIDR", "Network"]

DEFAULT_VPC_CIDR = "172.31.0.0/16"
_DEFAULT_ZONES = ("a", "b", "c")
_MARKER = "account-defaults"  # a row saying the default VPC was made once (deleting it sticks)


def _cidr(text: str | None, low: int, high: int, code: str) -> ipaddress.IPv4Network:
    try:
        network = ipaddress.IPv4Network(text or "", strict=True)
    except ValueError:
        raise invalid(f"Value ({text}) for parameter cidrBlock is invalid. "
                      "This is not a valid CIDR block.") from None  # fmt: skip
    if not low <= network.prefixlen <= high:
        raise ServiceError(code, f"The CIDR '{text}' is invalid.")
    return network


def _missing(parameter: str) -> ServiceError:
    return ServiceError("MissingParameter", f"The request must contain the parameter {parameter}")


VPC_FILTERS: Filters = {
    "vpc-id": lambda d: [d["VpcId"]],
    "cidr": lambda d: [d["CidrBlock"]],
    "cidr-block-association.cidr-block": lambda d: [
        a["CidrBlock"] for a in d.get("CidrBlockAssociationSet", ())
    ],
    "state": lambda d: [d["State"]],
    "is-default": lambda d: [d["IsDefault"]],
    "owner-id": lambda d: [d["OwnerId"]],
    "dhcp-options-id": lambda d: [d["DhcpOptionsId"]],
}
SUBNET_FILTERS: Filters = {
    "subnet-id": lambda d: [d["SubnetId"]],
    "vpc-id": lambda d: [d["VpcId"]],
    "cidr-block": lambda d: [d["CidrBlock"]],
    "cidr": lambda d: [d["CidrBlock"]],
    "availability-zone": lambda d: [d["AvailabilityZone"]],
    "default-for-az": lambda d: [d["DefaultForAz"]],
    "state": lambda d: [d["State"]],
    "owner-id": lambda d: [d["OwnerId"]],
}
INTERFACE_FILTERS: Filters = {
    "network-interface-id": lambda d: [d["NetworkInterfaceId"]],
    "subnet-id": lambda d: [d["SubnetId"]],
    "vpc-id": lambda d: [d["VpcId"]],
    "status": lambda d: [d["Status"]],
    "availability-zone": lambda d: [d["AvailabilityZone"]],
    "description": lambda d: [d.get("Description", "")],
    "interface-type": lambda d: [d["InterfaceType"]],
    "private-ip-address": lambda d: [d["PrivateIpAddress"]],
    "addresses.private-ip-address": lambda d: [
        a["PrivateIpAddress"] for a in d.get("PrivateIpAddresses", ())
    ],
    "owner-id": lambda d: [d["OwnerId"]],
}


class Network:
    """The networking operations over the shared resource store."""

    def __init__(self, resources: Resources, region: str, account_id: str) -> None:
        self.resources = resources
        self.region = region
        self.account_id = account_id

    # -- the default VPC -----------------------------------------------------------------

    def ensure_defaults(self) -> None:
        """Create the default VPC, its subnets and one interface in each, once per data
        directory or namespace (a deleted default VPC stays deleted, as on AWS).

        Nodes of one deployment may start at once: the marker is claimed first, insert-if-
        absent, holding the whole plan (ids included); whoever finds it unfinished (lost the
        race, or the claimer died half-way) creates what is missing of that same plan, so
        there is one default VPC whoever wins. A marker without a plan is a finished one."""
        store = self.resources.store
        marker = store.get(_MARKER)
        if marker is None:
            try:
                marker = store.create(ResourceRow(_MARKER, _MARKER, {"plan": self._plan()}))
            except ValueError:  # another node claimed it first: adopt its plan
                marker = store.get(_MARKER)
        plan = marker.data.get("plan") if marker is not None else None
        if not plan:
            return
        for kind, data in plan:
            with contextlib.suppress(ValueError):  # made already by another node
                self.resources.create(kind, data, {})
        store.update(_MARKER, data={})

    def _plan(self) -> list[tuple[str, dict[str, Any]]]:
        """The default VPC's resources, in creation order: (kind, data)."""
        vpc = self._vpc(DEFAULT_VPC_CIDR, is_default=True)
        plan: list[tuple[str, dict[str, Any]]] = [("vpc", vpc)]
        for n, zone in enumerate(_DEFAULT_ZONES):
            cidr = f"172.31.{16 * n}.0/20"
            subnet = self._subnet(vpc, cidr, f"{self.region}{zone}", default=True)
            interface = self._interface(subnet, None, f"default interface {n + 1}")
            plan += [("subnet", subnet), ("network-interface", interface)]
        return plan

    # -- VPCs ----------------------------------------------------------------------------

    def _vpc(self, cidr: str, is_default: bool = False, tenancy: str = "default") -> dict[str, Any]:
        vpc_id = new_id("vpc")
        return {
            "VpcId": vpc_id,
            "OwnerId": self.account_id,
            "InstanceTenancy": tenancy,
            "CidrBlockAssociationSet": [
                {
                    "AssociationId": new_id("vpc-cidr-assoc"),
                    "CidrBlock": cidr,
                    "CidrBlockState": {"State": "associated"},
                }
            ],
            "IsDefault": is_default,
            "State": "available",
            "CidrBlock": cidr,
            "DhcpOptionsId": "dopt-" + secrets.token_hex(9)[:17],
        }

    def create_vpc(self, params: Mapping[str, Any]) -> dict[str, Any]:
        if "CidrBlock" not in params:
            raise ServiceError(
                "MissingParameter", "The request must contain the parameter CidrBlock"
            )
        cidr = str(_cidr(params["CidrBlock"], 16, 28, "InvalidVpc.Range"))
        tags = tags_from_specifications(params, "vpc")
        vpc = self._vpc(cidr, tenancy=params.get("InstanceTenancy") or "default")
        row = self.resources.create("vpc", vpc, tags)  # answered pending, then available
        return {"Vpc": self.resources.view(row) | {"State": "pending"}}

    def describe_vpcs(self, params: Mapping[str, Any]) -> dict[str, Any]:
        items, token = self.resources.describe(
            "vpc", params, VPC_FILTERS, params.get("VpcIds") or ()
        )
        return {"Vpcs": items, "NextToken": token}

    def delete_vpc(self, params: Mapping[str, Any]) -> None:
        vpc = self.resources.require("vpc", params["VpcId"])
        for kind in ("subnet", "network-interface"):
            if any(row.data["VpcId"] == vpc.id for row in self.resources.all(kind)):
                raise ServiceError(
                    "DependencyViolation",
                    f"The vpc '{vpc.id}' has dependencies and cannot be deleted.",
                )
        self.resources.store.delete(vpc.id)

    # -- subnets -------------------------------------------------------------------------

    def _subnet(
        self, vpc: Mapping[str, Any], cidr: str, zone: str, default: bool = False
    ) -> dict[str, Any]:
        subnet_id = new_id("subnet")
        size = ipaddress.IPv4Network(cidr).num_addresses
        return {
            "SubnetId": subnet_id,
            "SubnetArn": f"arn:aws:ec2:{self.region}:{self.account_id}:subnet/{subnet_id}",
            "State": "available",
            "VpcId": vpc["VpcId"],
            "CidrBlock": cidr,
            "AvailabilityZone": zone,
            "AvailableIpAddressCount": size - 5,  # AWS reserves five per subnet
            "DefaultForAz": default,
            "MapPublicIpOnLaunch": default,
            "AssignIpv6AddressOnCreation": False,
            "Ipv6CidrBlockAssociationSet": [],
            "OwnerId": self.account_id,
        }

    def create_subnet(self, params: Mapping[str, Any]) -> dict[str, Any]:
        vpc = self.resources.require("vpc", params["VpcId"])
        if "CidrBlock" not in params:
            raise ServiceError(
                "MissingParameter", "The request must contain the parameter CidrBlock"
            )
        network = _cidr(params["CidrBlock"], 16, 28, "InvalidSubnet.Range")
        if not network.subnet_of(ipaddress.IPv4Network(vpc.data["CidrBlock"])):
            raise ServiceError("InvalidSubnet.Range", f"The CIDR '{network}' is invalid.")
        for row in self.resources.all("subnet"):
            if row.data["VpcId"] == vpc.id and network.overlaps(
                ipaddress.IPv4Network(row.data["CidrBlock"])
            ):
                raise ServiceError(
                    "InvalidSubnet.Conflict", f"The CIDR '{network}' conflicts with another subnet"
                )
        zone = params.get("AvailabilityZone") or f"{self.region}a"
        if not zone.startswith(self.region):
            raise invalid(
                f"Value ({zone}) for parameter availabilityZone is invalid. "
                f"Subnets can currently only be created in the following availability zones: "
                f"{', '.join(self.region + z for z in _DEFAULT_ZONES)}.",
                "InvalidParameterValue",
            )
        tags = tags_from_specifications(params, "subnet")
        row = self.resources.create("subnet", self._subnet(vpc.data, str(network), zone), tags)
        return {"Subnet": self.resources.view(row)}

    def describe_subnets(self, params: Mapping[str, Any]) -> dict[str, Any]:
        items, token = self.resources.describe(
            "subnet", params, SUBNET_FILTERS, params.get("SubnetIds") or ()
        )
        return {"Subnets": items, "NextToken": token}

    def delete_subnet(self, params: Mapping[str, Any]) -> None:
        subnet = self.resources.require("subnet", params["SubnetId"])
        if any(
            row.data["SubnetId"] == subnet.id for row in self.resources.all("network-interface")
        ):
            raise ServiceError(
                "DependencyViolation",
                f"The subnet '{subnet.id}' has dependencies and cannot be deleted.",
            )
        self.resources.store.delete(subnet.id)

    # -- network interfaces --------------------------------------------------------------

    def _free_address(self, subnet: Mapping[str, Any]) -> str:
        network = ipaddress.IPv4Network(subnet["CidrBlock"])
        taken = {
            row.data["PrivateIpAddress"]
            for row in self.resources.all("network-interface")
            if row.data["SubnetId"] == subnet["SubnetId"]
        }
        for offset in range(4, network.num_addresses - 1):  # .0-.3 and the last are AWS's
            address = str(network.network_address + offset)
            if address not in taken:
                return address
        raise ServiceError(
            "InsufficientFreeAddressesInSubnet",
            f"Insufficient free IP addresses in subnet '{subnet['SubnetId']}'",
        )

    def _interface(
        self, subnet: Mapping[str, Any], address: str | None, description: str
    ) -> dict[str, Any]:
        address = address or self._free_address(subnet)
        mac = "02:" + ":".join(secrets.token_hex(1) for _ in range(5))
        return {
            "NetworkInterfaceId": new_id("eni"),
            "SubnetId": subnet["SubnetId"],
            "VpcId": subnet["VpcId"],
            "AvailabilityZone": subnet["AvailabilityZone"],
            "Description": description,
            "Groups": [],
            "InterfaceType": "interface",
            "Ipv6Addresses": [],
            "MacAddress": mac,
            "OwnerId": self.account_id,
            "PrivateDnsName": f"ip-{address.replace('.', '-')}.ec2.internal",
            "PrivateIpAddress": address,
            "PrivateIpAddresses": [
                {
                    "Primary": True,
                    "PrivateIpAddress": address,
                    "PrivateDnsName": f"ip-{address.replace('.', '-')}.ec2.internal",
                }
            ],
            "RequesterManaged": False,
            "SourceDestCheck": True,
            "Status": "available",
        }

    def create_network_interface(self, params: Mapping[str, Any]) -> dict[str, Any]:
        subnet = self.resources.require("subnet", params["SubnetId"])
        address = params.get("PrivateIpAddress")
        if address is not None:
            try:
                inside = ipaddress.IPv4Address(address) in ipaddress.IPv4Network(
                    subnet.data["CidrBlock"]
                )
            except ValueError:
                inside = False
            if not inside:
                raise invalid(
                    f"Address {address} does not fall within the subnet's address range",
                    "InvalidParameterValue",
                )
            if any(
                row.data["PrivateIpAddress"] == address
                for row in self.resources.all("network-interface")
                if row.data["SubnetId"] == subnet.id
            ):
                raise ServiceError(
                    "InvalidIPAddress.InUse", "The specified address is already in use."
                )
        tags = tags_from_specifications(params, "network-interface")
        interface = self._interface(subnet.data, address, params.get("Description", ""))
        row = self.resources.create("network-interface", interface, tags)
        out: dict[str, Any] = {"NetworkInterface": self.resources.view(row)}
        if params.get("ClientToken"):
            out["ClientToken"] = params["ClientToken"]
        return out

    def describe_network_interfaces(self, params: Mapping[str, Any]) -> dict[str, Any]:
        items, token = self.resources.describe(
            "network-interface", params, INTERFACE_FILTERS,
            params.get("NetworkInterfaceIds") or (),
        )  # fmt: skip
        return {"NetworkInterfaces": items, "NextToken": token}

    def delete_network_interface(self, params: Mapping[str, Any]) -> None:
        interface = self.resources.require("network-interface", params["NetworkInterfaceId"])
        self.resources.store.delete(interface.id)
