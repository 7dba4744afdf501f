"""The Query protocol layer on its own: form parsing, validation, XML results and errors.

Requests are produced by botocore's own Query serializer and responses read back by its own
Query parser, so both directions are checked against the reference client, plus the raw XML
shapes AWS documents.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from logsieve.api.query import QueryProtocol
from logsieve.errors import ServiceError

NS = "{http://sns.amazonaws.com/doc/2010-03-31/}"


@pytest.fixture(scope="module")
def protocol() -> QueryProtocol:
    return QueryProtocol("sns")


def wire(protocol: QueryProtocol, operation: str, params: dict[str, Any]) -> str:
    """The form body botocore sends for ``operation``."""
    model = protocol.service_model.operation_model(operation)
    request = create_serializer("query").serialize_to_request(params, model)
    return urlencode(request["body"])


def parse(protocol: QueryProtocol, body: str) -> tuple[str, dict[str, Any]]:
    params = protocol.decode_form(body)
    name = protocol.operation_name(params)
    return name, protocol.parse_request(name, params)


def read(protocol: QueryProtocol, operation: str, body: bytes, status: int = 200) -> Any:
    """What botocore makes of a response body."""
    shape = protocol.service_model.operation_model(operation).output_shape
    response = {"body": body, "headers": {}, "status_code": status}
    return create_parser("query").parse(response, shape if status == 200 else None)


# -- requests ------------------------------------------------------------------------------


def test_publish_with_message_attributes_map(protocol: QueryProtocol) -> None:
    body = wire(
        protocol,
        "Publish",
        {
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
            "Message": "a + b & c = 日本語",
            "Subject": "件名",
            "MessageAttributes": {
                "env": {"DataType": "String", "StringValue": "prod"},
                "raw": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
            },
        },
    )
    assert "MessageAttributes.entry.2.Value.BinaryValue=" in body
    name, params = parse(protocol, body)
    assert name == "Publish"
    assert params == {
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
        "Message": "a + b & c = 日本語",
        "Subject": "件名",
        "MessageAttributes": {
            "env": {"DataType": "String", "StringValue": "prod"},
            "raw": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
        },
    }


def test_string_map_and_list_of_structures(protocol: QueryProtocol) -> None:
    body = wire(
        protocol,
        "CreateTopic",
        {
            "Name": "t",
            "Attributes": {"DisplayName": "Ops", "SignatureVersion": "2"},
            "Tags": [{"Key": "team", "Value": "ops"}, {"Key": "env", "Value": ""}],
        },
    )
    assert "Attributes.entry.1.key=DisplayName" in body
    assert "Tags.member.2.Key=env" in body
    _, params = parse(protocol, body)
    assert params["Attributes"] == {"DisplayName": "Ops", "SignatureVersion": "2"}
    assert params["Tags"] == [{"Key": "team", "Value": "ops"}, {"Key": "env", "Value": ""}]


def test_list_members_are_ordered_by_index_not_by_position(protocol: QueryProtocol) -> None:
    body = (
        "Action=UntagResource&ResourceArn=arn:aws:sns:us-east-1:123456789012:t"
        "&TagKeys.member.10=ten&TagKeys.member.2=two&TagKeys.member.1=one"
    )
    _, params = parse(protocol, body)
    assert params["TagKeys"] == ["one", "two", "ten"]


def test_empty_list_and_boolean(protocol: QueryProtocol) -> None:
    _, params = parse(protocol, wire(protocol, "CreateTopic", {"Name": "t", "Tags": []}))
    assert params == {"Name": "t", "Tags": []}
    body = wire(
        protocol, "Subscribe", {"TopicArn": "a", "Protocol": "email", "ReturnSubscriptionArn": True}
    )
    assert parse(protocol, body)[1]["ReturnSubscriptionArn"] is True


def test_list_of_structures_with_nested_map(protocol: QueryProtocol) -> None:
    entries = [
        {"Id": "a", "Message": "m1"},
        {
            "Id": "b",
            "Message": "m2",
            "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "5"}},
        },
    ]
    body = wire(protocol, "PublishBatch", {"TopicArn": "x", "PublishBatchRequestEntries": entries})
    assert parse(protocol, body)[1]["PublishBatchRequestEntries"] == entries


def test_unknown_parameters_are_ignored(protocol: QueryProtocol) -> None:
    _, params = parse(protocol, "Action=ListTopics&Version=2010-03-31&Bogus=1&Also.member.1=x")
    assert params == {}


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ("Version=2010-03-31", "MissingAction", "Request is missing Action parameter."),
        (
            "Action=Bogus&Version=2010-03-31",
            "InvalidAction",
            "Could not find operation Bogus for version 2010-03-31",
        ),
        (
            "Action=Publish&Version=2009-01-01",
            "InvalidAction",
            "Could not find operation Publish for version 2009-01-01",
        ),
        (
            "Action=Publish&TopicArn=a",
            "ValidationError",
            "1 validation error detected: Value null at 'message' failed to satisfy constraint: "
            "Member must not be null",
        ),
        (
            "Action=Publish&TopicArn=a&Message=m&MessageAttributes.entry.1.Name=x"
            "&MessageAttributes.entry.1.Value.StringValue=v",
            "ValidationError",
            "1 validation error detected: Value null at 'messageAttributes.x.member.dataType' "
            "failed to satisfy constraint: Member must not be null",
        ),
        (
            "Action=CreateTopic&Name=t&Tags.member.1.Key=&Tags.member.1.Value=v",
            "ValidationError",
            "1 validation error detected: Value '' at 'tags.1.member.key' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1",
        ),
        (
            "Action=Subscribe&TopicArn=a&Protocol=email&ReturnSubscriptionArn=maybe",
            "ValidationError",
            "1 validation error detected: Value 'maybe' at 'returnSubscriptionArn' failed to "
            "satisfy constraint: Member must be a boolean (true or false)",
        ),
    ],
)
def test_request_errors(protocol: QueryProtocol, body: str, code: str, message: str) -> None:
    with pytest.raises(ServiceError) as raised:
        parse(protocol, body)
    assert protocol.error_code(raised.value)[0] == code
    assert raised.value.message == message


def test_body_that_is_not_utf8(protocol: QueryProtocol) -> None:
    with pytest.raises(ServiceError):
        protocol.decode_form(b"Action=Publish&Message=\xff")
    with pytest.raises(ServiceError):
        protocol.decode_form("Action=Publish&Message=%FF")


# -- responses -----------------------------------------------------------------------------


def test_result_xml_shape(protocol: QueryProtocol) -> None:
    body = protocol.serialize_response("Publish", {"MessageId": "m-1"}, "req-1")
    root = ET.fromstring(body)
    assert root.tag == f"{NS}PublishResponse"
    assert [child.tag for child in root] == [f"{NS}PublishResult", f"{NS}ResponseMetadata"]
    assert root.findtext(f"{NS}PublishResult/{NS}MessageId") == "m-1"
    assert root.findtext(f"{NS}ResponseMetadata/{NS}RequestId") == "req-1"
    parsed = read(protocol, "Publish", body)
    assert parsed["MessageId"] == "m-1"
    assert parsed["ResponseMetadata"]["RequestId"] == "req-1"


def test_lists_are_members_and_maps_are_entries(protocol: QueryProtocol) -> None:
    body = protocol.serialize_response(
        "ListTopics", {"Topics": [{"TopicArn": "a"}, {"TopicArn": "b"}], "NextToken": "n"}, "r"
    )
    root = ET.fromstring(body)
    members = root.findall(f"{NS}ListTopicsResult/{NS}Topics/{NS}member/{NS}TopicArn")
    assert [m.text for m in members] == ["a", "b"]
    assert read(protocol, "ListTopics", body)["Topics"] == [{"TopicArn": "a"}, {"TopicArn": "b"}]

    attributes = {"Policy": '{"a":"<&>"}', "DisplayName": "日本"}
    body = protocol.serialize_response("GetTopicAttributes", {"Attributes": attributes}, "r")
    root = ET.fromstring(body)
    entries = root.findall(f"{NS}GetTopicAttributesResult/{NS}Attributes/{NS}entry")
    assert [(e.findtext(f"{NS}key"), e.findtext(f"{NS}value")) for e in entries] == list(
        attributes.items()
    )
    assert read(protocol, "GetTopicAttributes", body)["Attributes"] == attributes


def test_empty_list_and_no_output(protocol: QueryProtocol) -> None:
    body = protocol.serialize_response("ListTopics", {"Topics": []}, "r")
    assert read(protocol, "ListTopics", body)["Topics"] == []
    body = protocol.serialize_response("DeleteTopic", None, "r")
    root = ET.fromstring(body)
    assert [child.tag for child in root] == [f"{NS}ResponseMetadata"]


def test_control_characters_never_break_the_xml(protocol: QueryProtocol) -> None:
    body = protocol.serialize_response("Publish", {"MessageId": "a\x00b\x1bc"}, "r")
    assert ET.fromstring(body).findtext(f"{NS}PublishResult/{NS}MessageId") == "a\ufffdb\ufffdc"


@pytest.mark.parametrize(
    ("raised", "code", "status", "fault"),
    [
        (ServiceError("InvalidParameterException", "Invalid parameter: Subject"),
         "InvalidParameter", 400, "Sender"),
        (ServiceError("InvalidParameterValueException", "x"), "ParameterValueInvalid", 400,
         "Sender"),
        (ServiceError("NotFoundException", "Topic does not exist"), "NotFound", 404, "Sender"),
        (ServiceError("AuthorizationErrorException", "x"), "AuthorizationError", 403, "Sender"),
        (ServiceError("InternalErrorException", "x", 500), "InternalError", 500, "Receiver"),
        (ServiceError("NotFound", "x"), "NotFound", 404, "Sender"),
        (ServiceError("MissingAuthenticationTokenException", "x"),
         "MissingAuthenticationToken", 403, "Sender"),
        (ServiceError("UnrecognizedClientException", "x"), "InvalidClientTokenId", 403, "Sender"),
        (ServiceError("InvalidSignatureException", "x"), "SignatureDoesNotMatch", 403, "Sender"),
        (ServiceError("ServiceUnavailableException", "x", 500), "InternalError", 500,
         "Receiver"),
    ],
)  # fmt: skip
def test_error_xml(
    protocol: QueryProtocol, raised: ServiceError, code: str, status: int, fault: str
) -> None:
    got_status, headers, body = protocol.error_response(raised, "req-9")
    assert got_status == status
    assert headers["Content-Type"] == "text/xml"
    root = ET.fromstring(body)
    assert root.tag == f"{NS}ErrorResponse"
    assert root.findtext(f"{NS}Error/{NS}Type") == fault
    assert root.findtext(f"{NS}Error/{NS}Code") == code
    assert root.findtext(f"{NS}Error/{NS}Message") == raised.message
    assert root.findtext(f"{NS}RequestId") == "req-9"
    parsed = read(protocol, "Publish", body, status)
    assert parsed["Error"] == {"Type": fault, "Code": code, "Message": raised.message}
    assert parsed["ResponseMetadata"]["RequestId"] == "req-9"


def test_only_query_models() -> None:
    with pytest.raises(ValueError, match="Query"):
        QueryProtocol("logs")
