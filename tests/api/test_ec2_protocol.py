"""The ``ec2`` wire protocol against botocore's own EC2 serializer and parser.

Requests are made by botocore (flattened lists, capitalised location names) and answers are
read by botocore's ``EC2QueryParser``, so a shape that does not round-trip fails here.
"""

from __future__ import annotations

from urllib.parse import urlencode

import botocore.session
import pytest
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from logsieve.api.protocols import PROTOCOLS
from logsieve.api.wire import WireRequest
from logsieve.errors import ServiceError

MODEL = botocore.session.get_session().get_service_model("ec2")


@pytest.fixture(scope="module")
def protocol():
    return PROTOCOLS["ec2"]("ec2")


def sent(operation: str, params: dict) -> WireRequest:
    """The request botocore's EC2 serializer makes for ``params``."""
    request = create_serializer("ec2").serialize_to_request(
        params, MODEL.operation_model(operation)
    )
    body = urlencode(request["body"]).encode()  # as botocore's AWSRequest encodes a dict
    return WireRequest("POST", "/", "", {"content-type": "application/x-www-form-urlencoded"}, body)


def read(operation: str, answer: tuple[int, dict[str, str], bytes]) -> dict:
    status, headers, body = answer
    parsed = create_parser("ec2").parse(
        {"status_code": status, "headers": headers, "body": body},
        MODEL.operation_model(operation).output_shape,
    )
    return parsed


def test_flattened_lists_and_capitalised_names_parse_to_member_names(protocol) -> None:
    request = sent(
        "CreateFlowLogs",
        {
            "ResourceIds": ["vpc-1", "vpc-2"],
            "ResourceType": "VPC",
            "TrafficType": "ALL",
            "LogGroupName": "g",
            "DeliverLogsPermissionArn": "arn:aws:iam::123456789012:role/r",
            "TagSpecifications": [
                {"ResourceType": "vpc-flow-log", "Tags": [{"Key": "k", "Value": "v"}]}
            ],
            "MaxAggregationInterval": 60,
        },
    )
    assert b"ResourceId.2=vpc-2" in request.body
    assert b"TagSpecification.1.Tag.1.Key=k" in request.body
    operation, params = protocol.parse(request, {"CreateFlowLogs"})
    assert operation == "CreateFlowLogs"
    assert params["ResourceIds"] == ["vpc-1", "vpc-2"]
    assert params["TagSpecifications"] == [
        {"ResourceType": "vpc-flow-log", "Tags": [{"Key": "k", "Value": "v"}]}
    ]
    assert params["MaxAggregationInterval"] == 60


def test_filters_with_several_values_and_lowercase_location_names(protocol) -> None:
    request = sent(
        "DescribeNetworkInterfaces",
        {"Filters": [{"Name": "vpc-id", "Values": ["a", "b"]}], "DryRun": True},
    )
    _, params = protocol.parse(request, {"DescribeNetworkInterfaces"})
    assert params == {"Filters": [{"Name": "vpc-id", "Values": ["a", "b"]}], "DryRun": True}


def test_missing_required_parameter_is_ec2s_missing_parameter(protocol) -> None:
    request = sent("CreateFlowLogs", {"ResourceIds": ["vpc-1"], "ResourceType": "VPC"})
    request.body = request.body.replace(b"&ResourceType=VPC", b"")
    with pytest.raises(ServiceError) as caught:
        protocol.parse(request, {"CreateFlowLogs"})
    assert caught.value.code == "MissingParameter"
    assert caught.value.message == "The request must contain the parameter ResourceType"


def test_result_round_trips_through_botocores_ec2_parser(protocol) -> None:
    result = {
        "ClientVpnEndpoints": [
            {
                "ClientVpnEndpointId": "cvpn-endpoint-0123456789abcdef0",
                "Status": {"Code": "available"},
                "DnsServers": ["10.0.0.2"],
                "SplitTunnel": True,
                "VpnPort": 443,
                "ConnectionLogOptions": {"Enabled": True, "CloudwatchLogGroup": "g"},
                "Tags": [{"Key": "k", "Value": "v"}],
            }
        ],
    }
    answer = protocol.serialize("DescribeClientVpnEndpoints", result, "req-1")
    assert answer[0] == 200
    assert b"<Enabled>true</Enabled>" in answer[2]  # the capitalised members (no locationName)
    assert b"<requestId>req-1</requestId>" in answer[2]
    parsed = read("DescribeClientVpnEndpoints", answer)
    assert parsed["ClientVpnEndpoints"] == result["ClientVpnEndpoints"]
    assert parsed["ResponseMetadata"]["RequestId"] == "req-1"


def test_timestamps_and_partial_failures_round_trip(protocol) -> None:
    result = {
        "FlowLogs": [{"FlowLogId": "fl-1", "CreationTime": 1700000000.123}],
    }
    parsed = read("DescribeFlowLogs", protocol.serialize("DescribeFlowLogs", result, "r"))
    assert parsed["FlowLogs"][0]["CreationTime"].timestamp() == pytest.approx(1700000000.123)
    unsuccessful = {
        "FlowLogIds": [],
        "Unsuccessful": [{"ResourceId": "vpc-1", "Error": {"Code": "X", "Message": "m"}}],
    }
    parsed = read("CreateFlowLogs", protocol.serialize("CreateFlowLogs", unsuccessful, "r"))
    assert parsed["Unsuccessful"] == unsuccessful["Unsuccessful"]


def test_errors_are_ec2s_response_errors_shape(protocol) -> None:
    status, headers, body = protocol.error(
        ServiceError("InvalidVpcID.NotFound", "The vpc ID 'vpc-1' does not exist"), "req-9"
    )
    assert status == 400
    assert b"<Response><Errors><Error><Code>InvalidVpcID.NotFound</Code>" in body
    assert b"<RequestID>req-9</RequestID>" in body
    parsed = create_parser("ec2").parse(
        {"status_code": status, "headers": headers, "body": body},
        MODEL.operation_model("DescribeVpcs").output_shape,
    )
    assert parsed["Error"]["Code"] == "InvalidVpcID.NotFound"
    assert parsed["Error"]["Message"] == "The vpc ID 'vpc-1' does not exist"
    assert parsed["ResponseMetadata"]["RequestId"] == "req-9"


def test_refused_signature_is_auth_failure(protocol) -> None:
    status, _, body = protocol.error(ServiceError("UnrecognizedClientException", "x", 403), "r")
    assert status == 401
    assert b"<Code>AuthFailure</Code>" in body


def test_operations_compile_on_first_use() -> None:
    fresh = PROTOCOLS["ec2"]("ec2")
    assert "CreateFlowLogs" in fresh.compiled and "NoSuchThing" not in fresh.compiled
    assert fresh.nodes == {}  # nothing of EC2's 800+ operations compiled at startup
    assert fresh.compiled["CreateFlowLogs"].input is not None
    assert "CreateFlowLogsRequest" in fresh.nodes
    assert fresh.compiled.get("NoSuchThing") is None
