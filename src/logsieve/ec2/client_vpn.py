"""Client VPN endpoints, with AWS's ids, states and checks.

An endpoint is configuration (authentication, connection logging, the client connect
handler...). Its target networks are in ``target_networks``, its connections (made by
``connect.ConnectHandler`` from simulated attempts) in ``connections``.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
from collections.abc import Mapping
from typing import Any

from logsieve.errors import ServiceError

from .resources import Filters, Resources, invalid, new_id, tags_from_specifications

__all__ = ["HANDLER_PREFIX", "ClientVpn", "endpoint_time"]

HANDLER_PREFIX = "AWSClientVPN-"
_PORTS = (443, 1194)
_TIMEOUTS = (8, 10, 12, 24)
_PROTOCOLS = ("udp", "tcp")
_AUTH_TYPES = (
    "certificate-authentication",
    "directory-service-authentication",
    "federated-authentication",
)

ENDPOINT_FILTERS: Filters = {
    "endpoint-id": lambda d: [d["ClientVpnEndpointId"]],
    "transport-protocol": lambda d: [d["TransportProtocol"]],
}


def endpoint_time(seconds: float) -> str:
    """Client VPN's timestamps: ``2020-11-13T11:37:27`` (UTC, no zone, as strings)."""
    return _dt.datetime.fromtimestamp(seconds, _dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _authentication(options: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The request's AuthenticationOptions as Describe shows them (different member names)."""
    if not options or len(options) > 2:
        raise invalid("You must specify one or two authentication options.")
    out = []
    for option in options:
        kind = option.get("Type")
        if kind not in _AUTH_TYPES:
            raise invalid(f"Invalid authentication type: {kind}")
        shown: dict[str, Any] = {"Type": kind}
        if kind == "certificate-authentication":
            chain = (option.get("MutualAuthentication") or {}).get("ClientRootCertificateChainArn")
            if not chain:
                raise invalid("ClientRootCertificateChainArn is required for certificate "
                              "authentication.")  # fmt: skip
            shown["MutualAuthentication"] = {"ClientRootCertificateChain": chain}
        elif kind == "directory-service-authentication":
            directory = (option.get("ActiveDirectory") or {}).get("DirectoryId")
            if not directory:
                raise invalid("DirectoryId is required for directory service authentication.")
            shown["ActiveDirectory"] = {"DirectoryId": directory}
        else:
            saml = option.get("FederatedAuthentication") or {}
            if not saml.get("SAMLProviderArn"):
                raise invalid("SAMLProviderArn is required for federated authentication.")
            shown["FederatedAuthentication"] = {"SamlProviderArn": saml["SAMLProviderArn"]}
            if saml.get("SelfServiceSAMLProviderArn"):
                shown["FederatedAuthentication"]["SelfServiceSamlProviderArn"] = saml[
                    "SelfServiceSAMLProviderArn"
                ]
        out.append(shown)
    return out


def _connection_log(options: Mapping[str, Any]) -> dict[str, Any]:
    enabled = bool(options.get("Enabled"))
    if not enabled:
        return {"Enabled": False}
    group = options.get("CloudwatchLogGroup")
    if not group:
        raise invalid("CloudwatchLogGroup must be specified when connection logging is enabled.")
    out: dict[str, Any] = {"Enabled": True, "CloudwatchLogGroup": group}
    if options.get("CloudwatchLogStream"):
        out["CloudwatchLogStream"] = options["CloudwatchLogStream"]
    return out


def _client_connect(options: Mapping[str, Any]) -> dict[str, Any]:
    if not options.get("Enabled"):
        return {"Enabled": False, "Status": {"Code": "applied"}}
    arn = options.get("LambdaFunctionArn") or ""
    name = arn.split(":")[6] if arn.startswith("arn:") and arn.count(":") >= 6 else ""
    if not name.startswith(HANDLER_PREFIX):
        raise invalid(
            f"The Lambda function name must begin with the prefix {HANDLER_PREFIX} "
            f"({arn or 'none given'})."
        )
    return {"Enabled": True, "LambdaFunctionArn": arn, "Status": {"Code": "applied"}}


class ClientVpn:
    """The Client VPN operations over the shared resource store."""

    def __init__(self, resources: Resources, region: str, account_id: str) -> None:
        self.resources = resources
        self.region = region
        self.account_id = account_id

    # -- endpoints -----------------------------------------------------------------------

    def _common(self, params: Mapping[str, Any], endpoint: dict[str, Any]) -> None:
        """The inputs CreateClientVpnEndpoint and ModifyClientVpnEndpoint share."""
        if "ServerCertificateArn" in params:
            if not str(params["ServerCertificateArn"]).startswith("arn:"):
                raise invalid(f"{params['ServerCertificateArn']} is not a valid certificate ARN.")
            endpoint["ServerCertificateArn"] = params["ServerCertificateArn"]
        if "ConnectionLogOptions" in params:
            endpoint["ConnectionLogOptions"] = _connection_log(params["ConnectionLogOptions"])
        if "VpnPort" in params:
            if params["VpnPort"] not in _PORTS:
                raise invalid(f"Invalid VPN port {params['VpnPort']}: use 443 or 1194.")
            endpoint["VpnPort"] = params["VpnPort"]
        if "SessionTimeoutHours" in params:
            if params["SessionTimeoutHours"] not in _TIMEOUTS:
                raise invalid(
                    f"Invalid session timeout {params['SessionTimeoutHours']}: "
                    "use 8, 10, 12 or 24 hours."
                )
            endpoint["SessionTimeoutHours"] = params["SessionTimeoutHours"]
        for member in ("Description", "SplitTunnel", "DisconnectOnSessionTimeout"):
            if member in params:
                endpoint[member] = params[member]
        if "VpcId" in params:
            self.resources.require("vpc", params["VpcId"])
            endpoint["VpcId"] = params["VpcId"]
        if "SecurityGroupIds" in params:
            endpoint["SecurityGroupIds"] = list(params["SecurityGroupIds"])
        if "SelfServicePortal" in params:
            enabled = params["SelfServicePortal"] == "enabled"
            endpoint["SelfServicePortalUrl"] = (
                f"https://self-service.clientvpn.amazonaws.com/endpoints/"
                f"{endpoint['ClientVpnEndpointId']}" if enabled else None
            )  # fmt: skip
        if "ClientConnectOptions" in params:
            endpoint["ClientConnectOptions"] = _client_connect(params["ClientConnectOptions"])
        if "ClientLoginBannerOptions" in params:
            banner = params["ClientLoginBannerOptions"]
            endpoint["ClientLoginBannerOptions"] = {
                "Enabled": bool(banner.get("Enabled")),
                **({"BannerText": banner["BannerText"]} if banner.get("BannerText") else {}),
            }
        if "ClientRouteEnforcementOptions" in params:
            enforce = params["ClientRouteEnforcementOptions"]
            endpoint["ClientRouteEnforcementOptions"] = {"Enforced": bool(enforce.get("Enforced"))}

    def create_client_vpn_endpoint(self, params: Mapping[str, Any]) -> dict[str, Any]:
        token = params.get("ClientToken")
        if token:
            for row in self.resources.all("client-vpn-endpoint"):
                if row.data.get("_ClientToken") == token:  # a retried create: the same answer
                    return _created(row.data)
        cidr = params.get("ClientCidrBlock")
        if not cidr:
            raise ServiceError(
                "MissingParameter", "The request must contain the parameter ClientCidrBlock"
            )
        try:
            network = ipaddress.IPv4Network(cidr, strict=True)
        except ValueError:
            raise invalid(f"Invalid CIDR block {cidr}.") from None
        if not 12 <= network.prefixlen <= 22:
            raise invalid(
                f"The client CIDR block {cidr} is invalid: its size must be between /12 and /22."
            )
        transport = params.get("TransportProtocol") or "udp"
        if transport not in _PROTOCOLS:
            raise invalid(f"Invalid transport protocol {transport}: use udp or tcp.")
        dns = list(params.get("DnsServers") or ())
        if len(dns) > 2:
            raise invalid("You can specify up to two DNS servers.")
        endpoint_id = new_id("cvpn-endpoint")
        endpoint: dict[str, Any] = {
            "ClientVpnEndpointId": endpoint_id,
            "Description": "",
            "Status": {
                "Code": "pending-associate",
                "Message": "Endpoint is pending association with a target network.",
            },
            "CreationTime": endpoint_time(self.resources.clock()),
            "DnsName": f"*.{endpoint_id}.prod.clientvpn.{self.region}.amazonaws.com",
            "ClientCidrBlock": str(network),
            "DnsServers": dns,
            "SplitTunnel": False,
            "VpnProtocol": "openvpn",
            "TransportProtocol": transport,
            "VpnPort": 443,
            "AssociatedTargetNetworks": [],
            "AuthenticationOptions": _authentication(params["AuthenticationOptions"]),
            "SecurityGroupIds": [],
            "ClientConnectOptions": {"Enabled": False, "Status": {"Code": "applied"}},
            "SessionTimeoutHours": 24,
            "ClientLoginBannerOptions": {"Enabled": False},
            "DisconnectOnSessionTimeout": True,
            "EndpointIpAddressType": params.get("EndpointIpAddressType") or "ipv4",
            "TrafficIpAddressType": params.get("TrafficIpAddressType") or "ipv4",
        }
        self._common(params, endpoint)
        if token:
            endpoint["_ClientToken"] = token
        tags = tags_from_specifications(params, "client-vpn-endpoint")
        self.resources.create("client-vpn-endpoint", endpoint, tags)
        return _created(endpoint)

    def describe_client_vpn_endpoints(self, params: Mapping[str, Any]) -> dict[str, Any]:
        items, token = self.resources.describe(
            "client-vpn-endpoint", params, ENDPOINT_FILTERS,
            params.get("ClientVpnEndpointIds") or (),
        )  # fmt: skip
        return {"ClientVpnEndpoints": items, "NextToken": token}

    def modify_client_vpn_endpoint(self, params: Mapping[str, Any]) -> dict[str, Any]:
        row = self.resources.require("client-vpn-endpoint", params["ClientVpnEndpointId"])
        endpoint = dict(row.data)
        self._common(params, endpoint)
        if "DnsServers" in params:
            dns = params["DnsServers"]
            servers = list(dns.get("CustomDnsServers") or ()) if dns.get("Enabled") else []
            if len(servers) > 2:
                raise invalid("You can specify up to two DNS servers.")
            endpoint["DnsServers"] = servers
        self.resources.store.update(row.id, data=endpoint)
        return {"Return": True}

    def delete_client_vpn_endpoint(self, params: Mapping[str, Any]) -> dict[str, Any]:
        row = self.resources.require("client-vpn-endpoint", params["ClientVpnEndpointId"])
        self.resources.store.delete(row.id)
        return {"Status": {"Code": "deleting"}}


def _created(endpoint: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "ClientVpnEndpointId": endpoint["ClientVpnEndpointId"],
        "Status": endpoint["Status"],
        "DnsName": endpoint["DnsName"],
    }
