"""Client VPN endpoints through boto3 and the aws CLI on the real server."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f6b8e1e-1111-2222-3333-444455556666"
AUTH = [{"Type": "certificate-authentication",
         "MutualAuthentication": {"ClientRootCertificateChainArn": CERT}}]  # fmt: skip


def make(ec2, **extra) -> str:
    params = {"ClientCidrBlock": "10.100.0.0/22", "ServerCertificateArn": CERT,
              "AuthenticationOptions": AUTH,
              "ConnectionLogOptions": {"Enabled": False}} | extra  # fmt: skip
    return ec2.create_client_vpn_endpoint(**params)["ClientVpnEndpointId"]


def error(caught: pytest.ExceptionInfo[ClientError]) -> str:
    return caught.value.response["Error"]["Code"]


def test_create_describe_with_aws_ids_states_and_defaults(ec2) -> None:
    answer = ec2.create_client_vpn_endpoint(
        ClientCidrBlock="10.100.0.0/22", ServerCertificateArn=CERT, AuthenticationOptions=AUTH,
        ConnectionLogOptions={"Enabled": True, "CloudwatchLogGroup": "vpn-logs"},
        DnsServers=["10.0.0.2"], Description="office",
        TagSpecifications=[{"ResourceType": "client-vpn-endpoint",
                            "Tags": [{"Key": "team", "Value": "it"}]}],
    )  # fmt: skip
    endpoint_id = answer["ClientVpnEndpointId"]
    assert re.fullmatch(r"cvpn-endpoint-[0-9a-f]{17}", endpoint_id)
    assert answer["Status"]["Code"] == "pending-associate"
    assert answer["DnsName"] == f"*.{endpoint_id}.prod.clientvpn.us-east-1.amazonaws.com"
    [shown] = ec2.describe_client_vpn_endpoints(ClientVpnEndpointIds=[endpoint_id])[
        "ClientVpnEndpoints"
    ]
    assert shown["ConnectionLogOptions"] == {"Enabled": True, "CloudwatchLogGroup": "vpn-logs"}
    assert shown["TransportProtocol"] == "udp" and shown["VpnPort"] == 443
    assert shown["VpnProtocol"] == "openvpn" and shown["SessionTimeoutHours"] == 24
    assert shown["DnsServers"] == ["10.0.0.2"] and shown["SplitTunnel"] is False
    assert shown["AuthenticationOptions"] == [
        {"Type": "certificate-authentication",
         "MutualAuthentication": {"ClientRootCertificateChain": CERT}}
    ]  # fmt: skip
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", shown["CreationTime"])
    assert shown["Tags"] == [{"Key": "team", "Value": "it"}]
    assert "_ClientToken" not in str(shown)
    by_filter = ec2.describe_client_vpn_endpoints(
        Filters=[{"Name": "endpoint-id", "Values": [endpoint_id]}]
    )["ClientVpnEndpoints"]
    assert [e["ClientVpnEndpointId"] for e in by_filter] == [endpoint_id]


def test_client_token_makes_create_idempotent(ec2) -> None:
    first = make(ec2, ClientToken="same-token-1")
    assert make(ec2, ClientToken="same-token-1") == first


def test_modify_logging_dns_and_the_rest_then_delete(ec2) -> None:
    endpoint_id = make(ec2)
    assert ec2.modify_client_vpn_endpoint(
        ClientVpnEndpointId=endpoint_id,
        ConnectionLogOptions={
            "Enabled": True, "CloudwatchLogGroup": "g", "CloudwatchLogStream": "s"
        },
        DnsServers={"CustomDnsServers": ["1.1.1.1", "8.8.8.8"], "Enabled": True},
        VpnPort=1194, SplitTunnel=True, SessionTimeoutHours=12, Description="changed",
        ClientLoginBannerOptions={"Enabled": True, "BannerText": "authorised use only"},
    )["Return"] is True  # fmt: skip
    [shown] = ec2.describe_client_vpn_endpoints(ClientVpnEndpointIds=[endpoint_id])[
        "ClientVpnEndpoints"
    ]
    assert shown["ConnectionLogOptions"] == {
        "Enabled": True, "CloudwatchLogGroup": "g", "CloudwatchLogStream": "s"
    }  # fmt: skip
    assert shown["DnsServers"] == ["1.1.1.1", "8.8.8.8"] and shown["VpnPort"] == 1194
    assert shown["SplitTunnel"] is True and shown["SessionTimeoutHours"] == 12
    assert shown["ClientLoginBannerOptions"]["BannerText"] == "authorised use only"
    assert ec2.delete_client_vpn_endpoint(ClientVpnEndpointId=endpoint_id)["Status"] == {
        "Code": "deleting"
    }
    with pytest.raises(ClientError) as gone:
        ec2.describe_client_vpn_endpoints(ClientVpnEndpointIds=[endpoint_id])
    assert error(gone) == "InvalidClientVpnEndpointId.NotFound"


@pytest.mark.parametrize(
    "change",
    [
        {"ClientCidrBlock": "10.0.0.0/24"},
        {"ConnectionLogOptions": {"Enabled": True}},
        {"VpnPort": 8443},
        {"SessionTimeoutHours": 5},
        {"DnsServers": ["1.1.1.1", "1.0.0.1", "8.8.8.8"]},
        {"ClientConnectOptions": {"Enabled": True,
         "LambdaFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:not-prefixed"}},
    ],
)  # fmt: skip
def test_invalid_inputs_are_invalid_parameter_value(ec2, change) -> None:
    with pytest.raises(ClientError) as caught:
        make(ec2, **change)
    assert error(caught) == "InvalidParameterValue"


def test_unknown_endpoint_is_not_found(ec2) -> None:
    with pytest.raises(ClientError) as caught:
        ec2.describe_client_vpn_connections(ClientVpnEndpointId="cvpn-endpoint-00000000000000000")
    assert error(caught) == "InvalidClientVpnEndpointId.NotFound"
    with pytest.raises(ClientError) as unknown:
        ec2.modify_client_vpn_endpoint(
            ClientVpnEndpointId="cvpn-endpoint-00000000000000000", Description="x"
        )
    assert error(unknown) == "InvalidClientVpnEndpointId.NotFound"


def test_aws_cli_turns_connection_logging_on(aws, ec2) -> None:
    endpoint_id = make(ec2)
    aws(
        "modify-client-vpn-endpoint", "--client-vpn-endpoint-id", endpoint_id,
        "--connection-log-options", "Enabled=true,CloudwatchLogGroup=cli-vpn-logs",
    )  # fmt: skip
    shown = aws("describe-client-vpn-endpoints", "--client-vpn-endpoint-ids", endpoint_id)
    assert shown["ClientVpnEndpoints"][0]["ConnectionLogOptions"] == {
        "Enabled": True, "CloudwatchLogGroup": "cli-vpn-logs"
    }  # fmt: skip
