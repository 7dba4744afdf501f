"""VPCs, subnets and network interfaces through boto3 on the real server."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from tests.server import Server, client


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return error.value.response["Error"]["Code"]


def test_a_new_data_directory_has_a_default_vpc_with_subnets_and_interfaces(ec2) -> None:
    default = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    assert len(default) == 1 and default[0]["CidrBlock"] == "172.31.0.0/16"
    vpc_id = default[0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    assert len(subnets) == 3 and all(s["DefaultForAz"] for s in subnets)
    interfaces = ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
        "NetworkInterfaces"
    ]
    assert len(interfaces) == 3
    assert all(re.fullmatch(r"eni-[0-9a-f]{17}", i["NetworkInterfaceId"]) for i in interfaces)


def test_vpc_lifecycle_with_aws_ids_and_errors(ec2) -> None:
    created = ec2.create_vpc(
        CidrBlock="10.1.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "lab"}]}],
    )["Vpc"]
    vpc_id = created["VpcId"]
    assert re.fullmatch(r"vpc-[0-9a-f]{17}", vpc_id)
    assert created["State"] == "pending" and not created["IsDefault"]
    [shown] = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    assert shown["State"] == "available" and shown["Tags"] == [{"Key": "Name", "Value": "lab"}]
    by_tag = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["la*"]}])["Vpcs"]
    assert vpc_id in [v["VpcId"] for v in by_tag]
    ec2.delete_vpc(VpcId=vpc_id)
    with pytest.raises(ClientError) as gone:
        ec2.describe_vpcs(VpcIds=[vpc_id])
    assert code(gone) == "InvalidVpcID.NotFound"
    assert gone.value.response["Error"]["Message"] == f"The vpc ID '{vpc_id}' does not exist"
    with pytest.raises(ClientError) as again:
        ec2.delete_vpc(VpcId=vpc_id)
    assert code(again) == "InvalidVpcID.NotFound"


def test_bad_cidrs_and_dependencies_get_ec2s_codes(ec2, vpc) -> None:
    with pytest.raises(ClientError) as wide:
        ec2.create_vpc(CidrBlock="10.0.0.0/8")
    assert code(wide) == "InvalidVpc.Range"
    with pytest.raises(ClientError) as outside:
        ec2.create_subnet(VpcId=vpc, CidrBlock="192.168.0.0/24")
    assert code(outside) == "InvalidSubnet.Range"
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]
    assert subnet["AvailableIpAddressCount"] == 251
    with pytest.raises(ClientError) as overlap:
        ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.128/25")
    assert code(overlap) == "InvalidSubnet.Conflict"
    eni = ec2.create_network_interface(SubnetId=subnet["SubnetId"], Description="web")
    assert eni["NetworkInterface"]["PrivateIpAddress"] == "10.0.1.4"
    with pytest.raises(ClientError) as busy:
        ec2.delete_vpc(VpcId=vpc)
    assert code(busy) == "DependencyViolation"
    with pytest.raises(ClientError) as missing:
        ec2.create_subnet(VpcId="vpc-00000000000000000", CidrBlock="10.0.2.0/24")
    assert code(missing) == "InvalidVpcID.NotFound"
    ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterface"]["NetworkInterfaceId"])
    ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    ec2.delete_vpc(VpcId=vpc)


def test_describe_pages_with_next_token_and_rejects_a_forged_one(ec2, vpc) -> None:
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.8.0/24")["Subnet"]["SubnetId"]
    made = {
        ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
        for _ in range(7)
    }
    seen: list[str] = []
    pages = ec2.get_paginator("describe_network_interfaces").paginate(
        Filters=[{"Name": "subnet-id", "Values": [subnet]}], PaginationConfig={"PageSize": 5}
    )
    sizes = []
    for page in pages:
        sizes.append(len(page["NetworkInterfaces"]))
        seen += [i["NetworkInterfaceId"] for i in page["NetworkInterfaces"]]
    assert sizes == [5, 2] and set(seen) == made and len(seen) == 7
    with pytest.raises(ClientError) as forged:
        ec2.describe_network_interfaces(MaxResults=5, NextToken="bm9wZQ")
    assert code(forged) == "InvalidPaginationToken"
    with pytest.raises(ClientError) as unknown:
        ec2.describe_vpcs(Filters=[{"Name": "colour", "Values": ["red"]}])
    assert code(unknown) == "InvalidParameterValue"


def test_tags_create_describe_delete(ec2, vpc) -> None:
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "team", "Value": "net"}, {"Key": "x"}])
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [vpc]}])["Tags"]
    assert sorted((t["Key"], t["Value"], t["ResourceType"]) for t in tags) == [
        ("team", "net", "vpc"), ("x", "", "vpc"),
    ]  # fmt: skip
    ec2.delete_tags(Resources=[vpc], Tags=[{"Key": "x"}])
    [shown] = ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"]
    assert shown["Tags"] == [{"Key": "team", "Value": "net"}]
    with pytest.raises(ClientError) as missing:
        ec2.create_tags(Resources=["vpc-0123456789abcdef0"], Tags=[{"Key": "a", "Value": "b"}])
    assert code(missing) == "InvalidVpcID.NotFound"
    with pytest.raises(ClientError) as wrong_type:
        ec2.create_subnet(
            VpcId=vpc, CidrBlock="10.0.9.0/24",
            TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "a", "Value": "b"}]}],
        )  # fmt: skip
    assert code(wrong_type) == "InvalidParameterValue"


def test_dry_run_answers_412_dry_run_operation(ec2) -> None:
    with pytest.raises(ClientError) as dry:
        ec2.create_vpc(CidrBlock="10.2.0.0/16", DryRun=True)
    assert code(dry) == "DryRunOperation"
    assert dry.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412


def test_a_bad_secret_is_auth_failure(ec2_server: Server) -> None:
    import boto3

    bad = boto3.client(
        "ec2", endpoint_url=ec2_server.url, region_name="us-east-1",
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="wrong",
    )  # fmt: skip
    with pytest.raises(ClientError) as refused:
        bad.describe_vpcs()
    assert code(refused) == "AuthFailure"


def test_every_resource_survives_a_restart(tmp_path) -> None:
    server = Server(tmp_path / "data").start()
    try:
        ec2 = client(server, "ec2", retries=0)
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24")["Subnet"]["SubnetId"]
        ec2.create_tags(Resources=[subnet], Tags=[{"Key": "k", "Value": "v"}])
        before = ec2.describe_vpcs()["Vpcs"]
        server.kill()
        server.start()
        after = ec2.describe_vpcs()["Vpcs"]
        assert after == before and len(after) == 2  # the default VPC is not made twice
        [kept] = ec2.describe_subnets(SubnetIds=[subnet])["Subnets"]
        assert kept["Tags"] == [{"Key": "k", "Value": "v"}]
    finally:
        server.stop()


def test_describe_tags_pages(ec2, vpc) -> None:
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": f"k{n}", "Value": "v"} for n in range(7)])
    pages = ec2.get_paginator("describe_tags").paginate(
        Filters=[{"Name": "resource-id", "Values": [vpc]}], PaginationConfig={"PageSize": 5}
    )
    sizes = [len(page["Tags"]) for page in pages]
    assert sizes == [5, 2]
