"""The REST-JSON protocol layer, checked against botocore's own serializer and parser."""

from __future__ import annotations

import base64
import functools
import io
from typing import Any
from urllib.parse import urlencode, urlsplit

import boto3
import botocore.parsers
import botocore.serialize
import orjson
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from starlette.datastructures import Headers
from urllib3 import HTTPHeaderDict

from logsieve.api.restjson import RestJsonProtocol, RouteMatch
from logsieve.errors import ServiceError


@functools.cache
def protocol(service: str = "lambda") -> RestJsonProtocol:
    return RestJsonProtocol(service)


@pytest.fixture(scope="module")
def lam() -> RestJsonProtocol:
    return protocol()


def serialize(proto: RestJsonProtocol, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """The HTTP request botocore would send for ``params``."""
    model = proto.service_model.operation_model(operation)
    return botocore.serialize.create_serializer("rest-json").serialize_to_request(params, model)


def parse(proto: RestJsonProtocol, request: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Route and parse a botocore request dict the way the server does."""
    query = urlencode(request["query_string"], doseq=True)
    found = proto.route(request["method"], request["url_path"], query)
    assert found is not None, f"no route for {request['method']} {request['url_path']}"
    headers = Headers(headers={k: str(v) for k, v in request["headers"].items()})
    body = request["body"] if isinstance(request["body"], bytes) else request["body"].encode()
    return found.operation, proto.parse_request(found, query, headers, body)


def round_trip(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    lam = protocol()
    name, parsed = parse(lam, serialize(lam, operation, params))
    assert name == operation
    return parsed


def botocore_reads(
    proto: RestJsonProtocol, operation: str, status: int, headers: dict[str, str], body: bytes
) -> dict[str, Any]:
    model = proto.service_model.operation_model(operation)
    return botocore.parsers.create_parser("rest-json").parse(
        {"status_code": status, "headers": HTTPHeaderDict(headers), "body": body},
        model.output_shape,
    )


# --- routing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "query", "operation", "labels"),
    [
        ("GET", "/2015-03-31/functions", "", "ListFunctions", {}),
        ("GET", "/2015-03-31/functions/", "", None, None),
        ("POST", "/2015-03-31/functions", "", "CreateFunction", {}),
        ("GET", "/2015-03-31/functions/f1", "", "GetFunction", {"FunctionName": "f1"}),
        ("DELETE", "/2015-03-31/functions/f1", "", "DeleteFunction", {"FunctionName": "f1"}),
        (
            "GET",
            "/2015-03-31/functions/f1/configuration",
            "",
            "GetFunctionConfiguration",
            {"FunctionName": "f1"},
        ),
        (
            "DELETE",
            "/2015-03-31/functions/f1/policy/my-sid",
            "",
            "RemovePermission",
            {"FunctionName": "f1", "StatementId": "my-sid"},
        ),
        (
            "POST",
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af1"
            "/invocations",
            "",
            "Invoke",
            {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:f1"},
        ),
        # A literal query part picks the more specific operation.
        (
            "GET",
            "/2019-09-30/functions/f1/provisioned-concurrency",
            "List=ALL",
            "ListProvisionedConcurrencyConfigs",
            {"FunctionName": "f1"},
        ),
        (
            "GET",
            "/2019-09-30/functions/f1/provisioned-concurrency",
            "Qualifier=live",
            "GetProvisionedConcurrencyConfig",
            {"FunctionName": "f1"},
        ),
        ("PATCH", "/2015-03-31/functions/f1", "", None, None),
        ("GET", "/nope", "", None, None),
        # An encoded slash stays inside its label.
        ("GET", "/2015-03-31/functions/a%2Fb", "", "GetFunction", {"FunctionName": "a/b"}),
        ("GET", "/2015-03-31/functions/a/b", "", None, None),
    ],
)
def test_match(
    lam: RestJsonProtocol,
    method: str,
    path: str,
    query: str,
    operation: str | None,
    labels: dict[str, str] | None,
) -> None:
    found = lam.route(method, path, query)
    if operation is None:
        assert found is None
    else:
        assert found == RouteMatch(operation, labels or {})


def test_greedy_label_takes_slashes() -> None:
    greengrass = protocol("greengrassv2")
    found = greengrass.route(
        "GET", "/greengrass/v2/components/arn%3Ax/artifacts/dir/sub/file.txt", ""
    )
    assert found == RouteMatch(
        "GetComponentVersionArtifact", {"arn": "arn:x", "artifactName": "dir/sub/file.txt"}
    )
    request = serialize(
        greengrass,
        "GetComponentVersionArtifact",
        {"arn": "arn:aws:greengrass:x:1:components:c:versions:1.0.0", "artifactName": "a/b c.zip"},
    )
    operation, params = parse(greengrass, request)
    assert operation == "GetComponentVersionArtifact"
    assert params["artifactName"] == "a/b c.zip"


def test_only_rest_json_models() -> None:
    with pytest.raises(ValueError, match="REST-JSON"):
        RestJsonProtocol("logs")


# --- requests -----------------------------------------------------------------------------


def test_members_from_path_query_headers_and_raw_payload() -> None:
    params = round_trip(
        "Invoke",
        {
            "FunctionName": "my-fn",
            "InvocationType": "Event",
            "LogType": "Tail",
            "Qualifier": "$LATEST",
            "Payload": b'{"a": [1, 2]}',
        },
    )
    assert params == {
        "FunctionName": "my-fn",
        "InvocationType": "Event",
        "LogType": "Tail",
        "Qualifier": "$LATEST",
        "Payload": b'{"a": [1, 2]}',
    }


def test_json_body_members_and_blobs() -> None:
    params = round_trip(
        "CreateFunction",
        {
            "FunctionName": "f",
            "Role": "arn:aws:iam::123456789012:role/r",
            "Runtime": "python3.12",
            "Handler": "app.handler",
            "Code": {"ZipFile": b"PK\x03\x04 binary \xff"},
            "Timeout": 30,
            "Environment": {"Variables": {"A_B": "1"}},
            "Publish": False,
        },
    )
    assert params["Code"] == {"ZipFile": b"PK\x03\x04 binary \xff"}
    assert params["Timeout"] == 30
    assert params["Publish"] is False
    assert params["Environment"] == {"Variables": {"A_B": "1"}}


def test_integer_query_and_uri_members() -> None:
    assert round_trip("ListFunctions", {"MaxItems": 7, "Marker": "abc"}) == {
        "MaxItems": 7,
        "Marker": "abc",
    }
    assert round_trip(
        "RemovePermission", {"FunctionName": "f", "StatementId": "s-1", "RevisionId": "r"}
    ) == {"FunctionName": "f", "StatementId": "s-1", "RevisionId": "r"}


def test_body_members_cannot_override_path_members(lam: RestJsonProtocol) -> None:
    found = lam.route("POST", "/2015-03-31/functions/real/policy", "")
    assert found is not None
    body = orjson.dumps(
        {"FunctionName": "other", "StatementId": "s", "Action": "lambda:*", "Principal": "*"}
    )
    params = lam.parse_request(found, "", Headers(), body)
    assert params["FunctionName"] == "real"


def test_wrong_text_type_is_a_serialization_error(lam: RestJsonProtocol) -> None:
    found = lam.route("GET", "/2015-03-31/functions", "MaxItems=lots")
    assert found is not None
    with pytest.raises(ServiceError) as info:
        lam.parse_request(found, "MaxItems=lots", Headers(), b"")
    assert info.value.code == "SerializationException"
    assert "maxItems" in info.value.message


def test_constraints_are_validated_with_aws_wording(lam: RestJsonProtocol) -> None:
    found = lam.route("GET", "/2015-03-31/functions", "MaxItems=0")
    assert found is not None
    with pytest.raises(ServiceError) as info:
        lam.parse_request(found, "MaxItems=0", Headers(), b"")
    assert info.value.code == "ValidationException"
    assert info.value.message == (
        "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )
    found = lam.route("POST", "/2015-03-31/functions", "")
    assert found is not None
    with pytest.raises(ServiceError) as info:
        lam.parse_request(found, "", Headers(), b'{"FunctionName": "f", "Timeout": 0}')
    assert info.value.message.startswith("3 validation errors detected: ")
    assert "'timeout' failed to satisfy constraint" in info.value.message
    assert "Value null at 'role' failed to satisfy constraint: Member must not be null" in (
        info.value.message
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"{", ""), (b"[1]", "Start of list found where not expected"), (b'"x"', "")],
)
def test_bad_json_bodies(lam: RestJsonProtocol, body: bytes, message: str) -> None:
    found = lam.route("POST", "/2015-03-31/functions", "")
    assert found is not None
    with pytest.raises(ServiceError) as info:
        lam.parse_request(found, "", Headers(), body)
    assert (info.value.code, info.value.message) == ("SerializationException", message)


def test_json_type_errors_name_the_member(lam: RestJsonProtocol) -> None:
    found = lam.route("POST", "/2015-03-31/functions", "")
    assert found is not None
    with pytest.raises(ServiceError) as info:
        lam.parse_request(found, "", Headers(), b'{"Timeout": "soon"}')
    assert info.value.code == "SerializationException"
    assert info.value.message == "STRING_VALUE can not be converted to an Integer (at 'timeout')"


# --- responses ----------------------------------------------------------------------------


def test_headers_status_and_raw_payload(lam: RestJsonProtocol) -> None:
    result = {
        "StatusCode": 200,
        "FunctionError": "Unhandled",
        "LogResult": base64.b64encode(b"log").decode(),
        "ExecutedVersion": "$LATEST",
        "Payload": b'{"errorMessage": "boom"}',
    }
    status, headers, body = lam.serialize_response("Invoke", result)
    assert status == 200
    assert body == b'{"errorMessage": "boom"}'
    assert headers["X-Amz-Function-Error"] == "Unhandled"
    assert headers["X-Amz-Executed-Version"] == "$LATEST"
    parsed = botocore_reads(lam, "Invoke", status, headers, body)
    parsed.pop("ResponseMetadata")
    assert parsed == {**result, "Payload": result["Payload"].decode()}


def test_status_member_and_empty_bodies(lam: RestJsonProtocol) -> None:
    assert lam.serialize_response("Invoke", {"StatusCode": 202, "Payload": b""}) == (202, {
        "Content-Type": "application/octet-stream"
    }, b"")  # fmt: skip
    assert lam.serialize_response("Invoke", {"StatusCode": 204}) == (204, {}, b"")
    assert lam.serialize_response("DeleteFunction", {"StatusCode": 204}) == (204, {}, b"")
    # No output shape: the operation's responseCode and no body.
    assert lam.serialize_response("RemovePermission", None) == (204, {}, b"")


def test_json_body_with_declared_members_only(lam: RestJsonProtocol) -> None:
    status, headers, body = lam.serialize_response("AddPermission", {"Statement": "{}", "Junk": 1})
    assert (status, headers["Content-Type"], orjson.loads(body)) == (
        201,
        "application/json",
        {"Statement": "{}"},
    )


# --- errors -------------------------------------------------------------------------------


def test_modeled_errors_take_status_and_member_names_from_the_model(
    lam: RestJsonProtocol,
) -> None:
    status, headers, body = lam.error_response(
        ServiceError("ResourceNotFoundException", "Function not found: x")
    )
    assert status == 404
    assert headers["X-Amzn-ErrorType"] == "ResourceNotFoundException"
    assert orjson.loads(body) == {"Type": "User", "Message": "Function not found: x"}

    status, _, body = lam.error_response(ServiceError("InvalidParameterValueException", "bad"))
    assert (status, orjson.loads(body)) == (400, {"Type": "User", "message": "bad"})

    status, _, body = lam.error_response(ServiceError("ServiceException", "oops", 500))
    assert (status, orjson.loads(body)) == (500, {"Type": "Service", "Message": "oops"})

    status, headers, body = lam.error_response(
        ServiceError(
            "TooManyRequestsException",
            "Rate Exceeded.",
            extra={"retryAfterSeconds": "3", "Reason": "CallerRateLimitExceeded"},
        )
    )
    assert status == 429
    assert headers["Retry-After"] == "3"
    assert orjson.loads(body) == {
        "Type": "User",
        "message": "Rate Exceeded.",
        "Reason": "CallerRateLimitExceeded",
    }


def test_unmodeled_errors(lam: RestJsonProtocol) -> None:
    status, headers, body = lam.error_response(ServiceError("ValidationException", "v"))
    assert (status, headers["X-Amzn-ErrorType"], orjson.loads(body)) == (
        400,
        "ValidationException",
        {"message": "v"},
    )
    status, _, _ = lam.error_response(ServiceError("UnrecognizedClientException", "who?"))
    assert status == 403
    status, _, _ = lam.error_response(lam.too_large("CreateFunction", 10))
    assert status == 413


@pytest.mark.parametrize(
    "error",
    [
        ServiceError("ResourceNotFoundException", "Function not found: arn:x"),
        ServiceError("ResourceConflictException", "Function already exist: f"),
        ServiceError("ValidationException", "1 validation error detected: ..."),
        ServiceError("UnknownOperationException", "", 404),
    ],
)
def test_botocore_reads_code_and_message(lam: RestJsonProtocol, error: ServiceError) -> None:
    status, headers, body = lam.error_response(error)
    parsed = botocore_reads(lam, "GetFunction", status, headers, body)
    assert parsed["Error"]["Code"] == error.code
    assert parsed["Error"]["Message"] == error.message


# --- boto3 through the protocol, in process -----------------------------------------------


class _Raw(io.BytesIO):
    """The slice of a urllib3 response botocore reads (whole, or as a stream)."""

    def stream(self, *_: Any, **__: Any) -> Any:
        yield self.getvalue()


def test_boto3_end_to_end(lam: RestJsonProtocol) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    def before_send(request: Any, **_: Any) -> AWSResponse:
        url = urlsplit(request.url)
        headers = Headers(headers={k: v.decode() if isinstance(v, bytes) else v
                                   for k, v in request.headers.items()})  # fmt: skip
        try:
            found = lam.route(request.method, url.path, url.query)
            if found is None:
                raise lam.unknown_operation(request.method, url.path)
            params = lam.parse_request(found, url.query, headers, request.body or b"")
            seen.append((found.operation, params))
            if params.get("FunctionName") == "missing":
                raise ServiceError("ResourceNotFoundException", "Function not found: missing")
            result = {"StatusCode": 200, "Payload": b'{"ok": 1}', "ExecutedVersion": "$LATEST"}
            status, out_headers, raw = lam.serialize_response(found.operation, result)
        except ServiceError as error:
            status, out_headers, raw = lam.error_response(error)
        return AWSResponse(request.url, status, out_headers, _Raw(raw))

    client = boto3.client(
        "lambda", region_name="us-east-1", aws_access_key_id="AKID", aws_secret_access_key="s"
    )
    client.meta.events.register("before-send.lambda.*", before_send)
    result = client.invoke(FunctionName="arn:aws:lambda:us-east-1:123456789012:function:f:x",
                           Payload=b"[1]")  # fmt: skip
    assert result["StatusCode"] == 200
    assert result["Payload"].read() == b'{"ok": 1}'
    assert seen[-1] == (
        "Invoke",
        {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:f:x", "Payload": b"[1]"},
    )
    with pytest.raises(client.exceptions.ResourceNotFoundException) as info:
        client.get_function(FunctionName="missing")
    assert info.value.response["Error"]["Message"] == "Function not found: missing"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as other:
        client.get_function(FunctionName="no spaces allowed")
    assert other.value.response["Error"]["Code"] == "ValidationException"
    assert "at 'functionName' failed to satisfy constraint" in str(other.value)
