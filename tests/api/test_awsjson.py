"""The AWS JSON protocol layer: dispatch, type checks, model validation and responses.

Expected messages follow AWS's wording (aws-compat.md section 1.3 and the observations cited
in ``logsieve.api.awsjson``); regex expectations marked "Java" were checked against
``java.util.regex`` (OpenJDK 17) when the translator was written.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import re
import warnings
from typing import Any

import boto3
import botocore.loaders
import botocore.model
import botocore.parsers
import botocore.serialize
import botocore.session
import botocore.validate
import orjson
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from logsieve.api.awsjson import JsonProtocol
from logsieve.api.java_regex import java_regex_to_python
from logsieve.errors import ServiceError

from .plain import plain

GROUP_PATTERN = r"[\.\-_/#A-Za-z0-9]+"
STREAM_PATTERN = "[^:*]*"
TAG_KEY_PATTERN = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$"
TAG_VALUE_PATTERN = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"
TAG_KEY_RULES = (
    "[Member must have length less than or equal to 128, "
    "Member must have length greater than or equal to 1, "
    f"Member must satisfy regular expression pattern: {TAG_KEY_PATTERN}]"
)


@pytest.fixture(scope="module")
def logs() -> JsonProtocol:
    return JsonProtocol("logs", validation_error_code="InvalidParameterException")


@pytest.fixture(scope="module")
def kinesis() -> JsonProtocol:
    return JsonProtocol("kinesis")


def body(params: Any) -> bytes:
    return orjson.dumps(params)


def rejected(proto: JsonProtocol, operation: str, params: Any, code: str) -> str:
    """Parse params that must fail with ``code``; return the message."""
    raw = params if isinstance(params, bytes) else body(params)
    with pytest.raises(ServiceError) as info:
        proto.parse_request(operation, raw)
    assert info.value.code == code, info.value.message
    assert info.value.status == 400
    return info.value.message


def invalid(proto: JsonProtocol, operation: str, params: Any) -> str:
    return rejected(proto, operation, params, "InvalidParameterException")


def unserializable(proto: JsonProtocol, operation: str, params: Any) -> str:
    return rejected(proto, operation, params, "SerializationException")


def one(value: str, path: str, constraint: str) -> str:
    return f"1 validation error detected: {entry(value, path, constraint)}"


def entry(value: str, path: str, constraint: str) -> str:
    shown = "null" if value == "null" else f"'{value}'"
    return f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}"


PUT = {"logGroupName": "g", "logStreamName": "s"}


def events(n: int, **overrides: Any) -> list[dict[str, Any]]:
    return [{"timestamp": 1_700_000_000_000 + i, "message": f"m{i}", **overrides} for i in range(n)]


# --------------------------------------------------------------------------------------
# Construction and dispatch
# --------------------------------------------------------------------------------------


def test_protocol_metadata_comes_from_the_model(logs: JsonProtocol, kinesis: JsonProtocol) -> None:
    assert logs.target_prefix == "Logs_20140328"
    assert logs.content_type == "application/x-amz-json-1.1"
    assert logs.service_model.service_name == "logs"
    assert kinesis.target_prefix == "Kinesis_20131202"
    assert kinesis.content_type == "application/x-amz-json-1.1"
    assert JsonProtocol("dynamodb").content_type == "application/x-amz-json-1.0"


def test_non_json_services_are_refused() -> None:
    with pytest.raises(ValueError, match="JSON protocol"):
        JsonProtocol("sns")


def test_operation_name_from_target(logs: JsonProtocol) -> None:
    assert logs.operation_name("Logs_20140328.PutLogEvents") == "PutLogEvents"
    assert logs.operation_name("Logs_20140328.DescribeLogGroups") == "DescribeLogGroups"


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "PutLogEvents",
        "Logs_20140328.",
        "Logs_20140328.NoSuchThing",
        "Logs_20140328.putlogevents",
        "logs_20140328.PutLogEvents",
        "Kinesis_20131202.PutRecord",
        "Logs_20140328.PutLogEvents.x",
    ],
)
def test_unknown_targets_are_unknown_operation(logs: JsonProtocol, target: str | None) -> None:
    with pytest.raises(ServiceError) as info:
        logs.operation_name(target)
    assert (info.value.code, info.value.status, info.value.message) == (
        "UnknownOperationException",
        400,
        "",
    )
    status, _, raw = logs.error_response(info.value)
    assert status == 400
    assert orjson.loads(raw) == {"__type": "UnknownOperationException"}


def test_parse_request_refuses_unknown_operation(logs: JsonProtocol) -> None:
    assert rejected(logs, "NoSuchThing", {}, "UnknownOperationException") == ""


# --------------------------------------------------------------------------------------
# Parsing valid requests
# --------------------------------------------------------------------------------------


def test_valid_request_is_returned_as_sent(logs: JsonProtocol) -> None:
    params = {**PUT, "logEvents": events(3), "sequenceToken": "49536"}
    # Log events come back as checked structs (the fast decoder); their members as sent.
    assert plain(logs.parse_request("PutLogEvents", body(params))) == params


@pytest.mark.parametrize("raw", [b"", b"  \n", b"{}"])
def test_empty_body_is_an_empty_request(logs: JsonProtocol, raw: bytes) -> None:
    assert logs.parse_request("DescribeLogGroups", raw) == {}


def test_unknown_and_null_members_are_dropped(logs: JsonProtocol) -> None:
    raw = {"logGroupName": "g", "LogGroupName": "x", "bogus": [1, {}], "kmsKeyId": None}
    assert logs.parse_request("CreateLogGroup", body(raw)) == {"logGroupName": "g"}


def test_no_defaults_are_added(logs: JsonProtocol) -> None:
    assert logs.parse_request("FilterLogEvents", body({"logGroupName": "g"})) == {
        "logGroupName": "g"
    }


def test_integral_float_for_integer_becomes_int(logs: JsonProtocol) -> None:
    parsed = logs.parse_request("DescribeLogGroups", b'{"limit": 5.0}')
    assert parsed == {"limit": 5}
    assert type(parsed["limit"]) is int


def test_double_accepts_integers(logs: JsonProtocol) -> None:
    params = {
        "logGroupName": "g",
        "filterName": "f",
        "filterPattern": "",
        "metricTransformations": [
            {"metricName": "m", "metricNamespace": "n", "metricValue": "1", "defaultValue": 0}
        ],
    }
    assert logs.parse_request("PutMetricFilter", body(params)) == params


def test_unicode_tags_satisfy_the_tag_patterns(logs: JsonProtocol) -> None:
    tags = {"ключ": "значение", "キー": "値 1", "a_b.c:d/e=f+g-h@i": "", "٣": "Ⅳ"}
    params = {"resourceArn": "arn:aws:logs:us-east-1:123456789012:log-group:g", "tags": tags}
    assert logs.parse_request("TagResource", body(params)) == params


def test_blobs_are_base64_decoded(kinesis: JsonProtocol) -> None:
    data = bytes(range(256))
    params = {"StreamName": "s", "PartitionKey": "p", "Data": base64.b64encode(data).decode()}
    assert kinesis.parse_request("PutRecord", body(params))["Data"] == data


# --------------------------------------------------------------------------------------
# Model validation messages
# --------------------------------------------------------------------------------------


def test_pattern_violation(logs: JsonProtocol) -> None:
    message = invalid(logs, "CreateLogGroup", {"logGroupName": "my group"})
    assert message == (
        "1 validation error detected: Value 'my group' at 'logGroupName' failed to satisfy "
        r"constraint: Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+"
    )


def test_too_long(logs: JsonProtocol) -> None:
    name = "a" * 513
    assert invalid(logs, "CreateLogGroup", {"logGroupName": name}) == one(
        name, "logGroupName", "Member must have length less than or equal to 512"
    )
    assert logs.parse_request("CreateLogGroup", body({"logGroupName": "a" * 512}))


def test_long_and_bad_reports_pattern_then_length(logs: JsonProtocol) -> None:
    name = "my group" * 70  # 560 characters
    assert invalid(logs, "CreateLogGroup", {"logGroupName": name}) == (
        "2 validation errors detected: "
        + entry(
            name, "logGroupName", f"Member must satisfy regular expression pattern: {GROUP_PATTERN}"
        )
        + "; "
        + entry(name, "logGroupName", "Member must have length less than or equal to 512")
    )


def test_huge_values_skip_the_pattern(logs: JsonProtocol) -> None:
    # Far beyond the maximum (> 4 x max and > 4096) only the length is reported, so a
    # backtracking model pattern can never run over megabytes of input.
    name = "my group" * 1000
    assert invalid(logs, "CreateLogGroup", {"logGroupName": name}) == one(
        name, "logGroupName", "Member must have length less than or equal to 512"
    )


def test_empty_string_breaks_pattern_then_length(logs: JsonProtocol) -> None:
    # Exactly the message recorded from AWS (aws-compat.md 1.3).
    assert invalid(logs, "DescribeLogGroups", {"logGroupNamePrefix": ""}) == (
        "2 validation errors detected: Value '' at 'logGroupNamePrefix' failed to satisfy "
        r"constraint: Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+; "
        "Value '' at 'logGroupNamePrefix' failed to satisfy constraint: Member must have "
        "length greater than or equal to 1"
    )
    assert invalid(logs, "CreateLogGroup", {"logGroupName": ""}).startswith(
        "2 validation errors detected: Value '' at 'logGroupName'"
    )


def test_missing_required_member(logs: JsonProtocol) -> None:
    assert invalid(logs, "CreateLogGroup", {}) == one(
        "null", "logGroupName", "Member must not be null"
    )
    assert invalid(logs, "CreateLogGroup", b'{"logGroupName": null}') == one(
        "null", "logGroupName", "Member must not be null"
    )


def test_missing_field_in_second_list_element(logs: JsonProtocol) -> None:
    batch = events(3)
    del batch[1]["timestamp"]
    assert invalid(logs, "PutLogEvents", {**PUT, "logEvents": batch}) == (
        "1 validation error detected: Value null at 'logEvents.2.member.timestamp' failed to "
        "satisfy constraint: Member must not be null"
    )


def test_bad_field_in_list_element(logs: JsonProtocol) -> None:
    batch = events(3)
    batch[2]["message"] = ""
    assert invalid(logs, "PutLogEvents", {**PUT, "logEvents": batch}) == one(
        "", "logEvents.3.member.message", "Member must have length greater than or equal to 1"
    )


def test_empty_list(logs: JsonProtocol) -> None:
    assert invalid(logs, "PutLogEvents", {**PUT, "logEvents": []}) == one(
        "[]", "logEvents", "Member must have length greater than or equal to 1"
    )


def test_too_many_list_items(logs: JsonProtocol) -> None:
    message = invalid(logs, "PutLogEvents", {**PUT, "logEvents": events(10_001)})
    # Structures render like Java's Object.toString, as AWS shows them (Kinesis:
    # "com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@2").
    assert re.fullmatch(
        r"1 validation error detected: Value '\[(com\.amazonaws\.logs\.v20140328\."
        r"InputLogEvent@[0-9a-f]+(, )?){10001}\]' at 'logEvents' failed to satisfy "
        r"constraint: Member must have length less than or equal to 10000",
        message,
    )
    assert logs.parse_request("PutLogEvents", body({**PUT, "logEvents": events(10_000)}))


def test_enum_violation(logs: JsonProtocol) -> None:
    assert invalid(logs, "DescribeLogStreams", {"logGroupName": "g", "orderBy": "Foo"}) == (
        "1 validation error detected: Value 'Foo' at 'orderBy' failed to satisfy constraint: "
        "Member must satisfy enum value set: [LogStreamName, LastEventTime]"
    )


@pytest.mark.parametrize(
    ("limit", "constraint"),
    [
        (0, "Member must have value greater than or equal to 1"),
        (-5, "Member must have value greater than or equal to 1"),
        (51, "Member must have value less than or equal to 50"),
        (2**40, "Member must have value less than or equal to 50"),
    ],
)
def test_range_violation(logs: JsonProtocol, limit: int, constraint: str) -> None:
    params = {"logGroupName": "g", "limit": limit}
    assert invalid(logs, "DescribeLogStreams", params) == one(str(limit), "limit", constraint)


@pytest.mark.parametrize("limit", [1, 50])
def test_range_bounds_are_inclusive(logs: JsonProtocol, limit: int) -> None:
    params = {"logGroupName": "g", "limit": limit}
    assert logs.parse_request("DescribeLogStreams", body(params)) == params


def test_all_violations_in_model_order(logs: JsonProtocol) -> None:
    params = {"limit": 0, "orderBy": "Foo", "logStreamNamePrefix": "a:b", "logGroupName": "x y"}
    assert invalid(logs, "DescribeLogStreams", params) == (
        "4 validation errors detected: "
        + "; ".join(
            [
                entry(
                    "x y",
                    "logGroupName",
                    f"Member must satisfy regular expression pattern: {GROUP_PATTERN}",
                ),
                entry(
                    "a:b",
                    "logStreamNamePrefix",
                    f"Member must satisfy regular expression pattern: {STREAM_PATTERN}",
                ),
                entry(
                    "Foo",
                    "orderBy",
                    "Member must satisfy enum value set: [LogStreamName, LastEventTime]",
                ),
                entry("0", "limit", "Member must have value greater than or equal to 1"),
            ]
        )
    )


def test_at_most_ten_violations_are_listed(logs: JsonProtocol) -> None:
    message = invalid(logs, "PutLogEvents", {**PUT, "logEvents": [{"message": "m"}] * 12})
    assert message.startswith("10 validation errors detected: ")
    assert message.count("Member must not be null") == 10
    assert "logEvents.10.member.timestamp" in message
    assert "logEvents.11.member" not in message


def test_map_size_constraints(logs: JsonProtocol) -> None:
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:g"
    assert invalid(logs, "TagResource", {"resourceArn": arn, "tags": {}}) == one(
        "{}", "tags", "Member must have length greater than or equal to 1"
    )
    tags = {f"k{i}": "v" for i in range(51)}
    rendered = "{" + ", ".join(f"k{i}=v" for i in range(51)) + "}"
    assert invalid(logs, "TagResource", {"resourceArn": arn, "tags": tags}) == one(
        rendered, "tags", "Member must have length less than or equal to 50"
    )


def test_map_key_and_value_constraints_are_reported_once_keys_first(logs: JsonProtocol) -> None:
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:g"
    tags = {"ok": "fine", "bad*key": "v", "also bad!": "x" * 257, "v": "no#hash"}
    message = invalid(logs, "TagResource", {"resourceArn": arn, "tags": tags})
    shown = "{ok=fine, bad*key=v, also bad!=" + "x" * 257 + ", v=no#hash}"
    assert message == (
        "2 validation errors detected: "
        + entry(shown, "tags", f"Map keys must satisfy constraint: {TAG_KEY_RULES}")
        + "; "
        + entry(
            shown,
            "tags",
            "Map value must satisfy constraint: [Member must have length less than or equal "
            f"to 256, Member must satisfy regular expression pattern: {TAG_VALUE_PATTERN}]",
        )
    )


def test_emoji_is_not_a_tag_character(logs: JsonProtocol) -> None:
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:g"
    message = invalid(logs, "TagResource", {"resourceArn": arn, "tags": {"🙂": "v"}})
    assert message == one("{🙂=v}", "tags", f"Map keys must satisfy constraint: {TAG_KEY_RULES}")


def test_length_counts_utf16_code_units_like_java(logs: JsonProtocol) -> None:
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:g"
    bold_a = "\U0001d400"  # MATHEMATICAL BOLD CAPITAL A: a letter outside the BMP
    key = bold_a * 64  # 64 code points = 128 UTF-16 units: still fine
    assert logs.parse_request("TagResource", body({"resourceArn": arn, "tags": {key: "v"}}))
    key += bold_a  # 130 units
    message = invalid(logs, "TagResource", {"resourceArn": arn, "tags": {key: "v"}})
    assert "Map keys must satisfy constraint" in message


def test_list_of_strings_is_checked_as_a_whole(logs: JsonProtocol) -> None:
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:g"
    params = {"resourceArn": arn, "tagKeys": ["ok", "bad*", "worse*"]}
    assert invalid(logs, "UntagResource", params) == one(
        "[ok, bad*, worse*]", "tagKeys", f"Member must satisfy constraint: {TAG_KEY_RULES}"
    )


def test_null_list_element(logs: JsonProtocol) -> None:
    assert invalid(
        logs, "FilterLogEvents", b'{"logGroupName": "g", "logStreamNames": ["a", null]}'
    ) == one(
        "[a, null]",
        "logStreamNames",
        "Member must satisfy constraint: [Member must have length less than or equal to 512, "
        "Member must have length greater than or equal to 1, Member must satisfy regular "
        f"expression pattern: {STREAM_PATTERN}, Member must not be null]",
    )


def test_nested_structure_list_and_map(logs: JsonProtocol) -> None:
    transformation = {
        "metricName": "m:1",
        "metricNamespace": "n",
        "metricValue": "1",
        "unit": "Parsecs",
        "dimensions": {"k": "v" * 256},
    }
    params = {
        "logGroupName": "g",
        "filterName": "f",
        "filterPattern": "",
        "metricTransformations": [
            transformation,
            {"metricName": "m", "metricNamespace": "n", "metricValue": "1", "unit": "Count"},
        ],
    }
    message = invalid(logs, "PutMetricFilter", params)
    assert message.startswith("4 validation errors detected: Value '[com.amazonaws.logs.")
    items = message.split("; ")
    assert items[0].endswith(
        "at 'metricTransformations' failed to satisfy constraint: "
        "Member must have length less than or equal to 1"
    )
    assert items[1] == entry(
        "m:1",
        "metricTransformations.1.member.metricName",
        "Member must satisfy regular expression pattern: [^:*$]*",
    )
    assert items[2] == entry(
        "{k=" + "v" * 256 + "}",
        "metricTransformations.1.member.dimensions",
        "Map value must satisfy constraint: [Member must have length less than or equal to 255]",
    )
    assert items[3].startswith(
        "Value 'Parsecs' at 'metricTransformations.1.member.unit' failed to satisfy "
        "constraint: Member must satisfy enum value set: [Seconds, Microseconds,"
    )


def test_validation_error_code_is_configurable(kinesis: JsonProtocol) -> None:
    message = rejected(
        kinesis, "PutRecords", {"StreamName": "", "Records": []}, "ValidationException"
    )
    # Kinesis member names start upper-case; AWS lowers the first letter in paths.
    assert message == (
        "3 validation errors detected: "
        + entry("[]", "records", "Member must have length greater than or equal to 1")
        + "; "
        + entry("", "streamName", "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
        + "; "
        + entry("", "streamName", "Member must have length greater than or equal to 1")
    )


def test_blob_length_is_bytes_and_renders_like_aws(kinesis: JsonProtocol) -> None:
    size = 10 * 1024 * 1024 + 1
    data = base64.b64encode(bytes(size)).decode()
    params = {"StreamName": "s", "Records": [{"PartitionKey": "p", "Data": data}]}
    message = rejected(kinesis, "PutRecords", params, "ValidationException")
    assert message == one(
        f"java.nio.HeapByteBuffer[pos=0 lim={size} cap={size}]",
        "records.1.member.data",
        "Member must have length less than or equal to 10485760",
    )


# --------------------------------------------------------------------------------------
# SerializationException
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"{", b'{"limit": 1,}', b"nul", b"\xff\xfe", b"{'a': 1}"])
def test_unparseable_body(logs: JsonProtocol, raw: bytes) -> None:
    assert unserializable(logs, "DescribeLogGroups", raw) == ""


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"[]", "Start of list found where not expected"),
        (b'[{"logGroupName": "g"}]', "Start of list found where not expected"),
        (b"null", ""),
        (b'"x"', ""),
        (b"1", ""),
    ],
)
def test_body_must_be_an_object(logs: JsonProtocol, raw: bytes, message: str) -> None:
    assert unserializable(logs, "CreateLogGroup", raw) == message


@pytest.mark.parametrize(
    ("operation", "params", "message"),
    [
        (
            "PutLogEvents",
            {**PUT, "logEvents": [{"timestamp": "1", "message": "m"}]},
            "STRING_VALUE can not be converted to a Long (at 'logEvents.1.member.timestamp')",
        ),
        (
            "PutLogEvents",
            {**PUT, "logEvents": [{"timestamp": 1.5, "message": "m"}]},
            "NUMBER_VALUE can not be converted to a Long (at 'logEvents.1.member.timestamp')",
        ),
        (
            "PutLogEvents",
            {**PUT, "logEvents": [{"timestamp": 1, "message": 5}]},
            "NUMBER_VALUE can not be converted to a String (at 'logEvents.1.member.message')",
        ),
        (
            "PutLogEvents",
            {**PUT, "logEvents": ["x"]},
            "Expected null (at 'logEvents.1.member')",
        ),
        (
            "PutLogEvents",
            {**PUT, "logEvents": {"timestamp": 1}},
            "Start of structure or map found where not expected. (at 'logEvents')",
        ),
        ("PutLogEvents", {**PUT, "logEvents": "x"}, "Expected list or null (at 'logEvents')"),
        (
            "CreateLogGroup",
            {"logGroupName": 5},
            "NUMBER_VALUE can not be converted to a String (at 'logGroupName')",
        ),
        (
            "CreateLogGroup",
            {"logGroupName": ["g"]},
            "Start of list found where not expected (at 'logGroupName')",
        ),
        (
            "CreateLogGroup",
            {"logGroupName": "g", "tags": []},
            "Start of list found where not expected (at 'tags')",
        ),
        (
            "CreateLogGroup",
            {"logGroupName": "g", "tags": "k=v"},
            "Expected map or null (at 'tags')",
        ),
        (
            "CreateLogGroup",
            {"logGroupName": "g", "tags": {"k": 1}},
            "NUMBER_VALUE can not be converted to a String (at 'tags.k.member')",
        ),
        (
            "DescribeLogStreams",
            {"logGroupName": "g", "limit": True},
            "TRUE_VALUE can not be converted to an Integer (at 'limit')",
        ),
        (
            "DescribeLogStreams",
            {"logGroupName": "g", "limit": "5"},
            "STRING_VALUE can not be converted to an Integer (at 'limit')",
        ),
        (
            "DescribeLogStreams",
            {"logGroupName": "g", "descending": "yes"},
            "STRING_VALUE can not be converted to a Boolean (at 'descending')",
        ),
        (
            "DescribeLogStreams",
            {"logGroupName": "g", "descending": 1},
            "NUMBER_VALUE can not be converted to a Boolean (at 'descending')",
        ),
        (
            "PutRetentionPolicy",
            {"logGroupName": "g", "retentionInDays": 2**31},
            "NUMBER_VALUE can not be converted to an Integer (at 'retentionInDays')",
        ),
        (
            "PutMetricFilter",
            {
                "logGroupName": "g",
                "filterName": "f",
                "filterPattern": "",
                "metricTransformations": [{"metricName": "m", "defaultValue": "1"}],
            },
            "STRING_VALUE can not be converted to a Double "
            "(at 'metricTransformations.1.member.defaultValue')",
        ),
    ],
)
def test_wrong_json_types(logs: JsonProtocol, operation: str, params: Any, message: str) -> None:
    assert unserializable(logs, operation, params) == message


def test_type_errors_win_over_validation(logs: JsonProtocol) -> None:
    # logGroupName is missing too, but deserialization fails first, as on AWS.
    assert unserializable(logs, "PutLogEvents", {"logEvents": [{"timestamp": "x"}]}).startswith(
        "STRING_VALUE"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            "abcde",
            "'abcde' can not be converted to a Blob: Base64 encoded length is expected a "
            "multiple of 4 bytes but found: 5 (at 'data')",
        ),
        (
            "ab!=",
            "'ab!=' can not be converted to a Blob: Invalid Base64 character: '!' (at 'data')",
        ),
        (
            "AB==",
            "'AB==' can not be converted to a Blob: Invalid last non-pad Base64 character "
            "dectected (at 'data')",
        ),
    ],
)
def test_bad_base64_blob(kinesis: JsonProtocol, data: str, message: str) -> None:
    params = {"StreamName": "s", "PartitionKey": "p", "Data": data}
    assert unserializable(kinesis, "PutRecord", params) == message


# --------------------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------------------


def test_serialize_response_keeps_only_declared_non_null_members(logs: JsonProtocol) -> None:
    result = {
        "logGroups": [
            {
                "logGroupName": "g",
                "creationTime": 1_700_000_000_000,
                "retentionInDays": None,
                "internalId": 7,
                "storedBytes": 0,
            },
            None,
        ],
        "nextToken": None,
        "debug": {"x": 1},
    }
    assert orjson.loads(logs.serialize_response("DescribeLogGroups", result)) == {
        "logGroups": [{"logGroupName": "g", "creationTime": 1_700_000_000_000, "storedBytes": 0}]
    }


def test_serialize_response_maps_and_nested_lists(logs: JsonProtocol) -> None:
    result = {
        "matches": [
            {"eventNumber": 1, "eventMessage": "m", "extractedValues": {"$1": "a", "$2": None}},
        ]
    }
    assert orjson.loads(logs.serialize_response("TestMetricFilter", result)) == {
        "matches": [{"eventNumber": 1, "eventMessage": "m", "extractedValues": {"$1": "a"}}]
    }
    rows = {"results": [[{"field": "@message", "value": "x", "extra": 1}]], "status": "Complete"}
    assert orjson.loads(logs.serialize_response("GetQueryResults", rows)) == {
        "results": [[{"field": "@message", "value": "x"}]],
        "status": "Complete",
    }


def test_serialize_plain_structure_lists_whole_or_member_by_member(logs: JsonProtocol) -> None:
    """FilteredLogEvent has only plain scalar members: a list of clean dicts is written as it
    is, and one stray member or null anywhere sends the list through the walk that drops it."""
    event = {"logStreamName": "s", "timestamp": 1, "message": "m", "eventId": "7"}
    clean = {"events": [event, {**event, "ingestionTime": 2}]}
    assert orjson.loads(logs.serialize_response("FilterLogEvents", clean)) == clean
    messy = {"events": [event, {**event, "ingestionTime": None}, {**event, "extra": 1}, None]}
    assert orjson.loads(logs.serialize_response("FilterLogEvents", messy)) == {
        "events": [event, event, event]
    }


@pytest.mark.parametrize("result", [None, {}, {"junk": 1}])
def test_empty_results_serialize_to_empty_object(logs: JsonProtocol, result: Any) -> None:
    assert logs.serialize_response("DescribeLogGroups", result) in (b"{}",)


def test_operations_without_output_serialize_to_empty_object(logs: JsonProtocol) -> None:
    assert logs.serialize_response("CreateLogGroup", None) == b"{}"
    assert logs.serialize_response("CreateLogGroup", {"anything": 1}) == b"{}"


def test_serialize_blobs_and_timestamps(kinesis: JsonProtocol) -> None:
    when = dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)
    result = {
        "Records": [
            {
                "SequenceNumber": "1",
                "ApproximateArrivalTimestamp": when,
                "Data": b"\x1f\x8b",
                "PartitionKey": "p",
            }
        ],
        "MillisBehindLatest": 0,
    }
    raw = kinesis.serialize_response("GetRecords", result)
    decoded = orjson.loads(raw)
    assert decoded["Records"][0]["Data"] == "H4s="
    assert decoded["Records"][0]["ApproximateArrivalTimestamp"] == when.timestamp()
    model = kinesis.service_model.operation_model("GetRecords")
    parsed = botocore.parsers.create_parser("json").parse(
        {"status_code": 200, "headers": {}, "body": raw}, model.output_shape
    )
    assert parsed["Records"][0]["Data"] == b"\x1f\x8b"
    assert parsed["Records"][0]["ApproximateArrivalTimestamp"] == when


def test_error_response_shape(logs: JsonProtocol) -> None:
    error = ServiceError(
        "InvalidSequenceTokenException", "bad token", extra={"expectedSequenceToken": "123"}
    )
    status, headers, raw = logs.error_response(error)
    assert status == 400
    assert headers == {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amzn-ErrorType": "InvalidSequenceTokenException",
    }
    assert orjson.loads(raw) == {
        "__type": "InvalidSequenceTokenException",
        "message": "bad token",
        "expectedSequenceToken": "123",
    }
    status, _, raw = logs.error_response(ServiceError("ServiceUnavailableException", "x", 500))
    assert status == 500
    assert orjson.loads(raw) == {"__type": "ServiceUnavailableException", "message": "x"}


def _botocore_error(proto: JsonProtocol, operation: str, error: ServiceError) -> dict[str, Any]:
    status, headers, raw = proto.error_response(error)
    model = proto.service_model.operation_model(operation)
    parsed = botocore.parsers.create_parser("json").parse(
        {"status_code": status, "headers": headers, "body": raw}, model.output_shape
    )
    return parsed


def test_botocore_reads_our_errors(logs: JsonProtocol) -> None:
    with pytest.raises(ServiceError) as info:
        logs.parse_request("CreateLogGroup", body({"logGroupName": "my group"}))
    parsed = _botocore_error(logs, "CreateLogGroup", info.value)
    assert parsed["Error"] == {"Code": "InvalidParameterException", "Message": info.value.message}
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == 400

    with pytest.raises(ServiceError) as info:
        logs.parse_request("CreateLogGroup", b"{")
    parsed = _botocore_error(logs, "CreateLogGroup", info.value)
    assert parsed["Error"] == {"Code": "SerializationException", "Message": ""}

    with pytest.raises(ServiceError) as info:
        logs.operation_name("Logs_20140328.Nope")
    parsed = _botocore_error(logs, "CreateLogGroup", info.value)
    assert parsed["Error"] == {"Code": "UnknownOperationException", "Message": ""}


class _Raw:
    """The slice of a urllib3 response that ``AWSResponse.content`` reads."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, *_: Any, **__: Any) -> Any:
        yield self.data


def _serve(proto: JsonProtocol, handler: Any) -> Any:
    """A before-send hook answering botocore's requests through ``proto`` in-process."""

    def before_send(request: Any, **_: Any) -> AWSResponse:
        try:
            operation = proto.operation_name(request.headers["X-Amz-Target"].decode())
            params = proto.parse_request(operation, request.body or b"")
            status, headers = 200, {"Content-Type": proto.content_type}
            raw = proto.serialize_response(operation, handler(operation, params))
        except ServiceError as error:
            status, headers, raw = proto.error_response(error)
        return AWSResponse(request.url, status, headers, _Raw(raw))

    return before_send


def test_boto3_end_to_end(logs: JsonProtocol) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    def handler(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        seen.append((operation, params))
        return {"logGroups": [{"logGroupName": "/app", "creationTime": 5, "junk": 1}]}

    client = boto3.client(
        "logs",
        region_name="us-east-1",
        aws_access_key_id="AKIAEXAMPLE",
        aws_secret_access_key="secret",
    )
    client.meta.events.register("before-send.logs.*", _serve(logs, handler))
    result = client.describe_log_groups(logGroupNamePrefix="/a", limit=5)
    assert result["logGroups"] == [{"logGroupName": "/app", "creationTime": 5}]
    assert seen == [("DescribeLogGroups", {"logGroupNamePrefix": "/a", "limit": 5})]

    with pytest.raises(ClientError) as info:
        client.create_log_group(logGroupName="my group")
    assert info.value.response["Error"] == {
        "Code": "InvalidParameterException",
        "Message": one(
            "my group",
            "logGroupName",
            f"Member must satisfy regular expression pattern: {GROUP_PATTERN}",
        ),
    }
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert isinstance(info.value, client.exceptions.InvalidParameterException)


def test_boto3_kinesis_blob_round_trip(kinesis: JsonProtocol) -> None:
    received: list[dict[str, Any]] = []

    def handler(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        received.append(params)
        return {"ShardId": "shardId-000000000000", "SequenceNumber": "1"}

    client = boto3.client(
        "kinesis",
        region_name="us-east-1",
        aws_access_key_id="AKIAEXAMPLE",
        aws_secret_access_key="secret",
    )
    client.meta.events.register("before-send.kinesis.*", _serve(kinesis, handler))
    out = client.put_record(StreamName="s", Data=b"\x1f\x8b\x00", PartitionKey="k")
    assert out["ShardId"] == "shardId-000000000000"
    assert received == [{"StreamName": "s", "Data": b"\x1f\x8b\x00", "PartitionKey": "k"}]


# --------------------------------------------------------------------------------------
# Java regex translation
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        # Whole-value match, as Java's Matcher.matches().
        (GROUP_PATTERN, "/aws/lambda/fn", True),
        (GROUP_PATTERN, "a b", False),
        (GROUP_PATTERN, "ok\n", False),
        (STREAM_PATTERN, "", True),
        (STREAM_PATTERN, "i-0abc/2024", True),
        (STREAM_PATTERN, "a*", False),
        # \p{..} categories, Unicode-aware; \w stays ASCII as in Java.
        (TAG_KEY_PATTERN, "Ünïcödé 名前", True),
        (TAG_KEY_PATTERN, "tab\there", False),
        (r"[\w-]+", "é", False),
        (r"\p{Lu}\P{Lu}", "Éx", True),
        (r"^\P{C}*$", "a\u200b", False),
        (r"\p{Print}+", "é", False),
        # Java's '.' and '$' know every line terminator.
        (".{1,3}", "a\u2028", False),
        ("(?s).{1,3}", "a\u2028", True),
        ("a$", "a\u2028", False),
        ("(?=.{0,3}$).*", "ab", True),
        # Lenient '-' after a class escape, nested classes and intersections (Java).
        (r"[\w-\/.]+", "a-b/c.d", True),
        (r"[\p{Print}&&[^|:/]]+", "a|b", False),
        (r"[\p{Print}&&[^|:/]]+", "abc", True),
        ("[^a[b]]", "b", False),
        ("[a[^b]]", "c", True),
        # Inline flags in the middle and alternation after them (Java).
        ("x(?i)ab|c", "C", True),
        ("x(?i)ab|c", "xAB", True),
        ("x(?i)ab|c", "XAB", False),
        (r"^(?![^:\\]*/action/|(?i).*<script>.*</script>.*)[^:\\]+$", "a<SCRIPT>x</script>", False),
        # Surrogate pairs, octal, quantified anchors, a second {n,m} (ignored by Java), \z.
        (r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\r\n\t]*", "ok😀\n", True),
        (r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\r\n\t]*", "\x01", False),
        (r"[^/:|\000-\037]+", "a\x05", False),
        (r"([\p{L}\p{Z}\p{N}_.:\/=+\-@]*)${1,256}", "héllo wörld", True),
        ("a{2}{2}", "aa", True),
        ("a{2}{2}", "aaaa", False),
        (r"\Asnap-([0-9A-Fa-f]{8})\z", "snap-0123abcd", True),
        (r"\Qa.b\E+", "a.bb", True),
        (r"\Qa.b\E+", "axb", False),
    ],
)
def test_java_regex_semantics(pattern: str, value: str, matches: bool) -> None:
    compiled = re.compile(java_regex_to_python(pattern), re.ASCII)
    assert (compiled.fullmatch(value) is not None) is matches


@pytest.mark.parametrize("pattern", [r"\p{IsLatin}", r"\G", "[a", "(a", "*a", "a{2}*"])
def test_untranslatable_patterns_raise(pattern: str) -> None:
    with pytest.raises(ValueError):
        java_regex_to_python(pattern)


def test_every_pattern_of_the_json_services_translates() -> None:
    loader = botocore.loaders.create_loader()
    patterns: set[str] = set()
    for name in ("logs", "kinesis", "firehose", "dynamodb", "sqs", "cognito-idp", "kms"):
        shapes = loader.load_service_model(name, "service-2")["shapes"]
        patterns.update(s["pattern"] for s in shapes.values() if "pattern" in s)
    assert len(patterns) > 100
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for pattern in patterns:
            re.compile(java_regex_to_python(pattern), re.ASCII)


# --------------------------------------------------------------------------------------
# Property tests
# --------------------------------------------------------------------------------------

_INT_RANGE = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


def _strategy(shape: botocore.model.Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """Type-correct values for a shape (constraints are botocore's business, not ours)."""
    kind = shape.type_name
    meta = shape.metadata
    if kind == "string":
        if meta.get("enum"):
            return st.sampled_from(meta["enum"]) | st.text(max_size=12)
        return st.text(max_size=12)
    if kind in _INT_RANGE:
        low, high = _INT_RANGE[kind]
        return st.integers(low, high) | st.integers(-3, 60)
    if kind in ("double", "float"):
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "blob":
        return st.binary(max_size=16)
    if kind == "timestamp":
        return st.integers(0, 2**31)
    if kind == "list":
        return st.lists(_strategy(shape.member, depth + 1), max_size=3)
    if kind == "map":
        return st.dictionaries(st.text(max_size=6), _strategy(shape.value, depth + 1), max_size=3)
    if kind == "structure":
        if depth > 4:
            return st.just({})
        required = {n: _strategy(shape.members[n], depth + 1) for n in shape.required_members}
        optional = {
            n: _strategy(s, depth + 1)
            for n, s in shape.members.items()
            if n not in required and not s.metadata.get("document")
        }
        return st.fixed_dictionaries(required, optional=optional)
    return st.none()


_LOGS_OPS = (
    "CreateLogGroup",
    "PutLogEvents",
    "DescribeLogStreams",
    "FilterLogEvents",
    "TagResource",
    "UntagResource",
    "PutMetricFilter",
    "PutSubscriptionFilter",
)
_KINESIS_OPS = ("PutRecords", "CreateStream", "GetShardIterator")


@st.composite
def _requests(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    service, operation = draw(
        st.sampled_from(
            [("logs", op) for op in _LOGS_OPS] + [("kinesis", op) for op in _KINESIS_OPS]
        )
    )
    model = _models()[service].operation_model(operation)
    return service, operation, draw(_strategy(model.input_shape))


@pytest.fixture(scope="module")
def protocols(logs: JsonProtocol, kinesis: JsonProtocol) -> dict[str, JsonProtocol]:
    return {"logs": logs, "kinesis": kinesis}


@functools.cache
def _models() -> dict[str, botocore.model.ServiceModel]:
    session = botocore.session.get_session()
    return {name: session.get_service_model(name) for name in ("logs", "kinesis")}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=_requests())
def test_botocore_valid_requests_never_fail_to_deserialize(
    protocols: dict[str, JsonProtocol], request: tuple[str, str, dict[str, Any]]
) -> None:
    service, operation, params = request
    proto = protocols[service]
    model = proto.service_model.operation_model(operation)
    report = botocore.validate.ParamValidator().validate(params, model.input_shape)
    assume(not report.has_errors())
    wire = botocore.serialize.create_serializer("json").serialize_to_request(params, model)
    try:
        parsed = proto.parse_request(operation, wire["body"])
    except ServiceError as error:
        assert error.code != "SerializationException", error.message
        assert error.code == proto.validation_error_code
        assert "validation error" in error.message
        return
    if operation != "GetShardIterator":  # its Timestamp goes out as epoch seconds
        assert plain(parsed) == params


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    operation=st.sampled_from(_LOGS_OPS),
    members=st.dictionaries(
        st.sampled_from(
            ["logGroupName", "logStreamName", "logEvents", "limit", "tags", "tagKeys", "x"]
        ),
        _json,
    ),
)
def test_arbitrary_json_only_raises_service_errors(
    logs: JsonProtocol, operation: str, members: dict[str, Any]
) -> None:
    try:
        logs.parse_request(operation, orjson.dumps(members))
    except ServiceError as error:
        assert error.code in ("SerializationException", "InvalidParameterException")


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(max_size=40))
def test_arbitrary_bytes_only_raise_service_errors(logs: JsonProtocol, raw: bytes) -> None:
    try:
        logs.parse_request("PutLogEvents", raw)
    except ServiceError as error:
        assert error.code in ("SerializationException", "InvalidParameterException")
