"""Client VPN target networks: associating subnets makes an endpoint available."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from tests.waiting import wait_for

from .test_client_vpn import make


def error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def subnet(ec2, vpc: str, cidr: str, zone: str = "us-east-1a") -> str:
    return ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]


def status(ec2, endpoint_id: str) -> str:
    [shown] = ec2.describe_client_vpn_endpoints(ClientVpnEndpointIds=[endpoint_id])[
        "ClientVpnEndpoints"
    ]
    return shown["Status"]["Code"]


def targets(ec2, endpoint_id: str, **params) -> list[dict]:
    return ec2.describe_client_vpn_target_networks(ClientVpnEndpointId=endpoint_id, **params)[
        "ClientVpnTargetNetworks"
    ]


def test_associating_a_subnet_makes_the_endpoint_available_and_removing_it_undoes_it(
    ec2, vpc
) -> None:
    endpoint_id = make(ec2)
    first = subnet(ec2, vpc, "10.0.1.0/24")
    answer = ec2.associate_client_vpn_target_network(ClientVpnEndpointId=endpoint_id,
                                                     SubnetId=first)  # fmt: skip
    association = answer["AssociationId"]
    assert re.fullmatch(r"cvpn-assoc-[0-9a-f]{17}", association)
    assert answer["Status"] == {"Code": "associating"}
    assert status(ec2, endpoint_id) == "pending-associate"

    wait_for(
        lambda: targets(ec2, endpoint_id)[0]["Status"]["Code"] == "associated",
        what="the association to complete",
    )
    [shown] = targets(ec2, endpoint_id)
    assert shown == {
        "AssociationId": association, "VpcId": vpc, "TargetNetworkId": first,
        "ClientVpnEndpointId": endpoint_id, "Status": {"Code": "associated"},
        "SecurityGroups": [],
    }  # fmt: skip
    [endpoint] = ec2.describe_client_vpn_endpoints(ClientVpnEndpointIds=[endpoint_id])[
        "ClientVpnEndpoints"
    ]
    assert endpoint["Status"]["Code"] == "available" and endpoint["VpcId"] == vpc
    assert endpoint["AssociatedTargetNetworks"] == [{"NetworkId": vpc, "NetworkType": "vpc"}]

    second = subnet(ec2, vpc, "10.0.2.0/24", "us-east-1b")
    other = ec2.associate_client_vpn_target_network(
        ClientVpnEndpointId=endpoint_id, SubnetId=second
    )["AssociationId"]
    gone = ec2.disassociate_client_vpn_target_network(
        ClientVpnEndpointId=endpoint_id, AssociationId=association
    )
    assert gone == {"AssociationId": association, "Status": {"Code": "disassociating"},
                    "ResponseMetadata": gone["ResponseMetadata"]}  # fmt: skip
    wait_for(lambda: status(ec2, endpoint_id) == "available", what="the second association")
    ec2.disassociate_client_vpn_target_network(ClientVpnEndpointId=endpoint_id,
                                               AssociationId=other)  # fmt: skip
    assert targets(ec2, endpoint_id) == []
    [endpoint] = ec2.describe_client_vpn_endpoints(ClientVpnEndpointIds=[endpoint_id])[
        "ClientVpnEndpoints"
    ]
    assert endpoint["Status"]["Code"] == "pending-associate"
    assert endpoint["AssociatedTargetNetworks"] == []


def test_subnet_checks_answer_aws_errors(ec2, vpc) -> None:
    endpoint_id = make(ec2)
    first = subnet(ec2, vpc, "10.0.3.0/24")
    ec2.associate_client_vpn_target_network(ClientVpnEndpointId=endpoint_id, SubnetId=first)
    same_zone = subnet(ec2, vpc, "10.0.4.0/24")
    elsewhere = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    foreign = subnet(ec2, elsewhere, "10.9.1.0/24", "us-east-1c")
    overlapping_vpc = ec2.create_vpc(CidrBlock="10.100.0.0/16")["Vpc"]["VpcId"]
    overlapping = subnet(ec2, overlapping_vpc, "10.100.1.0/24")
    cases = [
        (endpoint_id, "subnet-0123456789abcdef0",
         ("InvalidSubnetID.NotFound", "The subnet ID 'subnet-0123456789abcdef0' does not exist")),
        (endpoint_id, first,
         ("InvalidClientVpnDuplicateAssociationException",
          "The specified target network has already been associated with the Client VPN "
          "endpoint.")),
        (endpoint_id, same_zone,
         ("InvalidClientVpnSubnetId.DuplicateAz",
          "You have already associated a subnet from this Availability Zone with the Client "
          "VPN endpoint.")),
        (endpoint_id, foreign,
         ("InvalidClientVpnSubnetId.NotFound",
          "The specified subnet cannot be found in the VPN with which the Client VPN endpoint "
          "is associated.")),
        (make(ec2), overlapping,
         ("InvalidClientVpnSubnetId.OverlappingCidr",
          "The specified target network's CIDR range overlaps with the Client VPN endpoint's "
          "client CIDR range.")),
        ("cvpn-endpoint-0123456789abcdef0", first,
         ("InvalidClientVpnEndpointId.NotFound",
          "The Client VPN endpoint ID 'cvpn-endpoint-0123456789abcdef0' does not exist")),
    ]  # fmt: skip
    for endpoint, subnet_id, expected in cases:
        with pytest.raises(ClientError) as caught:
            ec2.associate_client_vpn_target_network(ClientVpnEndpointId=endpoint,
                                                    SubnetId=subnet_id)  # fmt: skip
        assert error(caught) == expected, subnet_id
    with pytest.raises(ClientError) as caught:
        ec2.disassociate_client_vpn_target_network(
            ClientVpnEndpointId=endpoint_id, AssociationId="cvpn-assoc-0123456789abcdef0"
        )
    assert error(caught) == (
        "InvalidClientVpnAssociationIdNotFound",
        "The specified target network association cannot be found.",
    )
    with pytest.raises(ClientError) as caught:
        ec2.associate_client_vpn_target_network(ClientVpnEndpointId=endpoint_id, DryRun=True,
                                                SubnetId=first)  # fmt: skip
    assert error(caught)[0] == "DryRunOperation"


def test_client_token_filters_and_paging(ec2, vpc) -> None:
    endpoint_id = make(ec2)
    ids = []
    for n, zone in enumerate("abc"):
        ids.append(subnet(ec2, vpc, f"10.0.{10 + n}.0/24", f"us-east-1{zone}"))
    associations = [
        ec2.associate_client_vpn_target_network(
            ClientVpnEndpointId=endpoint_id, SubnetId=subnet_id, ClientToken=f"t-{subnet_id}"
        )["AssociationId"]
        for subnet_id in ids
    ]
    again = ec2.associate_client_vpn_target_network(
        ClientVpnEndpointId=endpoint_id, SubnetId=ids[0], ClientToken=f"t-{ids[0]}"
    )
    assert again["AssociationId"] == associations[0]

    by_subnet = targets(ec2, endpoint_id,
                        Filters=[{"Name": "target-network-id", "Values": [ids[1]]}])  # fmt: skip
    assert [t["AssociationId"] for t in by_subnet] == [associations[1]]
    by_id = targets(ec2, endpoint_id, AssociationIds=[associations[2]])
    assert [t["TargetNetworkId"] for t in by_id] == [ids[2]]
    assert len(targets(ec2, endpoint_id, Filters=[{"Name": "vpc-id", "Values": [vpc]}])) == 3

    paged = []
    for page in ec2.get_paginator("describe_client_vpn_target_networks").paginate(
        ClientVpnEndpointId=endpoint_id, PaginationConfig={"PageSize": 5}
    ):
        paged += page["ClientVpnTargetNetworks"]
    first = ec2.describe_client_vpn_target_networks(ClientVpnEndpointId=endpoint_id,
                                                    MaxResults=5)  # fmt: skip
    assert "NextToken" not in first and [t["AssociationId"] for t in paged] == associations
    with pytest.raises(ClientError) as caught:
        targets(ec2, endpoint_id, Filters=[{"Name": "no-such-filter", "Values": ["x"]}])
    assert error(caught)[0] == "InvalidParameterValue"


def test_aws_cli_associates_and_lists_target_networks(aws, ec2, vpc) -> None:
    endpoint_id = make(ec2)
    subnet_id = subnet(ec2, vpc, "10.0.30.0/24")
    answer = aws("associate-client-vpn-target-network", "--client-vpn-endpoint-id", endpoint_id,
                 "--subnet-id", subnet_id)  # fmt: skip
    assert answer["Status"]["Code"] == "associating"
    listed = aws("describe-client-vpn-target-networks", "--client-vpn-endpoint-id", endpoint_id)[
        "ClientVpnTargetNetworks"
    ]
    assert [t["TargetNetworkId"] for t in listed] == [subnet_id]


def test_associations_and_connections_survive_a_restart(tmp_path) -> None:
    from tests.server import Server, client

    from .test_connect_handler import connect

    server = Server(tmp_path / "data").start(timeout=60)  # a loaded machine starts slowly
    try:
        ec2 = client(server, "ec2", retries=0)
        endpoint_id = make(ec2)
        subnet_id = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
        association = ec2.associate_client_vpn_target_network(
            ClientVpnEndpointId=endpoint_id, SubnetId=subnet_id
        )["AssociationId"]
        wait_for(lambda: status(ec2, endpoint_id) == "available", what="the association")
        opened = connect(server, endpoint_id, username="alice")["connectionId"]
        [before] = ec2.describe_client_vpn_connections(ClientVpnEndpointId=endpoint_id)[
            "Connections"
        ]
        server.kill()
        server.start(timeout=60)
        assert status(ec2, endpoint_id) == "available"
        assert [t["AssociationId"] for t in targets(ec2, endpoint_id)] == [association]
        [after] = ec2.describe_client_vpn_connections(ClientVpnEndpointId=endpoint_id)[
            "Connections"
        ]
        assert after["ConnectionId"] == opened and after["Status"] == {"Code": "active"}
        assert int(after["IngressBytes"]) > int(before["IngressBytes"])  # still counting
        with pytest.raises(ClientError) as caught:  # associations take no tags, as on AWS
            ec2.create_tags(Resources=[association], Tags=[{"Key": "k", "Value": "v"}])
        assert error(caught)[0] == "InvalidID"
    finally:
        server.stop()
