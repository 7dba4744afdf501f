"""Flow logs through boto3 and the aws CLI on the real server."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from logsieve.formats.vpc_flow import DEFAULT_FORMAT, FIELDS

ROLE = "arn:aws:iam::123456789012:role/flow-logs"
EVERY_FIELD = " ".join(f"${{{name}}}" for name in FIELDS)


def error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_create_describe_delete_with_every_field_and_tags(ec2, vpc) -> None:
    created = ec2.create_flow_logs(
        ResourceIds=[vpc], ResourceType="VPC", TrafficType="REJECT",
        LogGroupName="/vpc/flows", DeliverLogsPermissionArn=ROLE, LogFormat=EVERY_FIELD,
        MaxAggregationInterval=60,
        TagSpecifications=[{"ResourceType": "vpc-flow-log", "Tags": [{"Key": "k", "Value": "v"}]}],
    )  # fmt: skip
    assert created["Unsuccessful"] == [] and created["ClientToken"]
    [flow_id] = created["FlowLogIds"]
    assert re.fullmatch(r"fl-[0-9a-f]{17}", flow_id)
    [flow] = ec2.describe_flow_logs(FlowLogIds=[flow_id])["FlowLogs"]
    assert flow["ResourceId"] == vpc and flow["TrafficType"] == "REJECT"
    assert flow["LogGroupName"] == "/vpc/flows" and flow["LogDestinationType"] == "cloud-watch-logs"
    assert flow["LogDestination"] == "arn:aws:logs:us-east-1:123456789012:log-group:/vpc/flows"
    assert flow["LogFormat"] == EVERY_FIELD and flow["MaxAggregationInterval"] == 60
    assert flow["DeliverLogsPermissionArn"] == ROLE and flow["DeliverLogsStatus"] == "SUCCESS"
    assert flow["FlowLogStatus"] == "ACTIVE" and flow["Tags"] == [{"Key": "k", "Value": "v"}]
    assert flow["CreationTime"].year >= 2024
    listed = ec2.describe_flow_logs(Filter=[{"Name": "resource-id", "Values": [vpc]}])
    assert [f["FlowLogId"] for f in listed["FlowLogs"]] == [flow_id]
    assert ec2.delete_flow_logs(FlowLogIds=[flow_id])["Unsuccessful"] == []
    assert ec2.describe_flow_logs(FlowLogIds=[flow_id])["FlowLogs"] == []


def test_defaults_and_destination_given_as_an_arn(ec2, vpc) -> None:
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:by-arn:*"
    [flow_id] = ec2.create_flow_logs(
        ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL",
        LogDestination=arn, DeliverLogsPermissionArn=ROLE,
    )["FlowLogIds"]  # fmt: skip
    [flow] = ec2.describe_flow_logs(FlowLogIds=[flow_id])["FlowLogs"]
    assert flow["LogGroupName"] == "by-arn" and flow["LogFormat"] == DEFAULT_FORMAT
    assert flow["MaxAggregationInterval"] == 600


def test_partial_failure_lists_missing_and_duplicate_resources(ec2, vpc) -> None:
    args = dict(
        ResourceType="VPC", TrafficType="ALL", LogGroupName="dup", DeliverLogsPermissionArn=ROLE
    )
    ec2.create_flow_logs(ResourceIds=[vpc], **args)
    missing = "vpc-00000000000000000"
    answer = ec2.create_flow_logs(ResourceIds=[vpc, missing], **args)
    assert answer["FlowLogIds"] == []
    failures = {u["ResourceId"]: u["Error"]["Code"] for u in answer["Unsuccessful"]}
    assert failures == {vpc: "FlowLogAlreadyExists", missing: "InvalidVpcID.NotFound"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"LogDestination": "arn:aws:logs:us-east-1:123456789012:log-group:x"},
         "Please only provide LogGroupName or only provide LogDestination."),
        ({"LogGroupName": None}, "LogDestination can't be empty if LogGroupName is not provided."),
        ({"LogDestinationType": "s3"},
         "LogDestination type must be cloud-watch-logs if LogGroupName is provided."),
        ({"MaxAggregationInterval": 120}, "Invalid Flow Log Max Aggregation Interval"),
        ({"DeliverLogsPermissionArn": None},
         "DeliverLogsPermissionArn can't be empty if LogDestinationType is cloud-watch-logs."),
    ],
)  # fmt: skip
def test_invalid_combinations_are_aws_invalid_parameter(ec2, vpc, change, message) -> None:
    args = {"ResourceIds": [vpc], "ResourceType": "VPC", "TrafficType": "ALL",
            "LogGroupName": "g", "DeliverLogsPermissionArn": ROLE} | change  # fmt: skip
    args = {k: v for k, v in args.items() if v is not None}
    with pytest.raises(ClientError) as caught:
        ec2.create_flow_logs(**args)
    assert error(caught) == ("InvalidParameter", message)


def test_unknown_log_format_field_is_refused(ec2, vpc) -> None:
    with pytest.raises(ClientError) as caught:
        ec2.create_flow_logs(
            ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL", LogGroupName="g",
            DeliverLogsPermissionArn=ROLE, LogFormat="${version} ${colour}",
        )  # fmt: skip
    assert error(caught)[0] == "InvalidParameter" and "colour" in error(caught)[1]


def test_delete_of_unknown_ids_is_unsuccessful_not_an_error(ec2) -> None:
    answer = ec2.delete_flow_logs(FlowLogIds=["fl-00000000000000000"])
    [item] = answer["Unsuccessful"]
    assert item["ResourceId"] == "fl-00000000000000000"
    assert item["Error"]["Code"] == "InvalidFlowLogId.NotFound"


def test_describe_filters_by_group_and_traffic_type_and_pages(ec2, vpc) -> None:
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.40.0/24")["Subnet"]["SubnetId"]
    ids = set()
    for traffic in ("ACCEPT", "REJECT", "ALL"):
        ids |= set(ec2.create_flow_logs(
            ResourceIds=[subnet], ResourceType="Subnet", TrafficType=traffic,
            LogGroupName=f"paging-{subnet}", DeliverLogsPermissionArn=ROLE,
        )["FlowLogIds"])  # fmt: skip
    by_group = [{"Name": "log-group-name", "Values": [f"paging-{subnet}"]}]
    pages = ec2.get_paginator("describe_flow_logs").paginate(
        Filter=by_group, PaginationConfig={"PageSize": 2}
    )
    sizes = [len(page["FlowLogs"]) for page in pages]
    assert sizes == [2, 1]
    rejects = ec2.describe_flow_logs(
        Filter=[*by_group, {"Name": "traffic-type", "Values": ["REJECT"]}]
    )["FlowLogs"]
    assert len(rejects) == 1 and rejects[0]["FlowLogId"] in ids


def test_aws_cli_creates_and_describes_flow_logs(aws, ec2, vpc) -> None:
    created = aws(
        "create-flow-logs", "--resource-type", "VPC", "--resource-ids", vpc,
        "--traffic-type", "ALL", "--log-group-name", "cli-flows",
        "--deliver-logs-permission-arn", ROLE,
        "--log-format", "${version} ${interface-id} ${srcaddr} ${dstaddr} ${action}",
    )  # fmt: skip
    [flow_id] = created["FlowLogIds"]
    described = aws("describe-flow-logs", "--flow-log-ids", flow_id)
    assert described["FlowLogs"][0]["LogFormat"].startswith("${version} ${interface-id}")
    vpcs = aws("describe-vpcs", "--vpc-ids", vpc)
    assert vpcs["Vpcs"][0]["VpcId"] == vpc
