"""SigV4 verification, with botocore's own signer as the oracle.

Requests are signed by ``botocore.auth`` (or by a real boto3 client) and fed to ``verify``
exactly as they would appear on the wire: raw path, raw query string, header pairs, body.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, quote, urlsplit

import boto3
import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import normalize_url_path
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from logsieve.api.sigv4 import UNSIGNED_PAYLOAD, SignatureError, VerifiedCaller, verify
from logsieve.errors import ServiceError

KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SECRETS = {KEY: SECRET}
T0 = datetime(2026, 11, 22, 8, 37, 6, tzinfo=UTC)  # 20261122T083706Z
HOST = "logs.us-east-1.amazonaws.com"
ENDPOINT = f"https://{HOST}"
CWL_BODY = (
    b'{"logGroupName": "g", "logStreamName": "s", '
    b'"logEvents": [{"timestamp": 1700000000000, "message": "hi"}]}'
)
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)


@dataclass(frozen=True)
class Wire:
    """A request as our server receives it."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        return next(v for k, v in self.headers if k.lower() == name.lower())

    def with_header(self, name: str, value: str | None) -> Wire:
        """Replace (or with ``None`` drop) every header called ``name``."""
        kept = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        return replace(self, headers=kept if value is None else [*kept, (name, value)])


def check(wire: Wire, now: datetime | None = T0, **kwargs: Any) -> VerifiedCaller:
    return verify(
        wire.method, wire.path, wire.query, wire.headers, wire.body, SECRETS.get, now, **kwargs
    )


def fails(wire: Wire, code: str, now: datetime | None = T0, **kwargs: Any) -> str:
    """Run ``verify`` expecting ``code``; return the message for further checks."""
    with pytest.raises(ServiceError) as caught:
        check(wire, now, **kwargs)
    assert caught.value.code == code, caught.value.message
    assert caught.value.status == 400
    return caught.value.message


@contextmanager
def frozen_signer_clock(when: datetime) -> Iterator[None]:
    with mock.patch.object(
        botocore.auth, "get_current_datetime", return_value=when.replace(tzinfo=None)
    ):
        yield


def sign(
    url: str = f"{ENDPOINT}/",
    *,
    method: str = "POST",
    body: bytes = b"",
    headers: list[tuple[str, str]] | None = None,
    params: list[tuple[str, str]] | None = None,
    service: str = "logs",
    region: str = "us-east-1",
    key: str = KEY,
    secret: str = SECRET,
    token: str | None = None,
    when: datetime = T0,
    presign: int | None = None,
    signer: type[botocore.auth.SigV4Auth] | None = None,
    context: dict[str, Any] | None = None,
    add_host: bool = True,
) -> Wire:
    """Sign with botocore, then return what goes over the wire.

    ``presign`` = X-Amz-Expires for a presigned URL (SigV4QueryAuth). Headers are set one by
    one, so a repeated name really is repeated (botocore signs all values, comma-joined).
    """
    request = AWSRequest(method=method, url=url, data=body, params=params or [])
    for name, value in headers or []:
        request.headers[name] = value
    request.context.update(context or {})
    credentials = Credentials(key, secret, token)
    if presign is not None:
        auth = (signer or botocore.auth.SigV4QueryAuth)(credentials, service, region, presign)
    else:
        auth = (signer or botocore.auth.SigV4Auth)(credentials, service, region)
    with frozen_signer_clock(when):
        auth.add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    wire_headers = [(str(k), str(v)) for k, v in request.headers.items()]
    if add_host and not any(k.lower() == "host" for k, _ in wire_headers):
        wire_headers.append(("Host", parts.netloc))  # the HTTP client adds it
    return Wire(method, parts.path or "/", parts.query, wire_headers, prepared.body or b"")


def cwl_request(**kwargs: Any) -> Wire:
    headers = [
        ("X-Amz-Target", "Logs_20140328.PutLogEvents"),
        ("Content-Type", "application/x-amz-json-1.1"),
        ("User-Agent", "Boto3/1.44.5"),
    ]
    return sign(body=CWL_BODY, headers=headers, **kwargs)


# --- accepted requests ----------------------------------------------------------------------


def test_cwl_put_log_events_verifies() -> None:
    wire = cwl_request()
    assert wire.header("Authorization").startswith(
        f"AWS4-HMAC-SHA256 Credential={KEY}/20261122/us-east-1/logs/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="
    )
    assert check(wire) == VerifiedCaller(KEY, "us-east-1", "logs")


def test_aws_documentation_vectors() -> None:
    """Two published examples, independent of botocore (get-vanilla and IAM ListUsers)."""
    secrets = {"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}.get
    now = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)
    scope = "AKIDEXAMPLE/20150830/us-east-1"
    vanilla = {
        "Host": "example.amazonaws.com",
        "X-Amz-Date": "20150830T123600Z",
        "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    }
    assert verify("GET", "/", "", vanilla, b"", secrets, now).service == "service"
    list_users = {
        "Host": "iam.amazonaws.com",
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "X-Amz-Date": "20150830T123600Z",
        "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}/iam/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
    }
    query = "Action=ListUsers&Version=2010-05-08"
    assert verify("GET", "/", query, list_users, b"", secrets, now).service == "iam"


class _Captured(Exception):
    pass


def _boto3_wire(service: str, call: Callable[[Any], object]) -> Wire:
    """Let a real boto3 client build and sign a request; capture it instead of sending."""
    captured: list[Any] = []

    def grab(request: Any, **_: Any) -> None:
        captured.append(request)
        raise _Captured

    session = boto3.session.Session(
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        aws_session_token="FQoGZXIvYXdzEXAMPLETOKEN",
        region_name="eu-west-1",
    )
    client = session.client(service)
    client.meta.events.register("before-send", grab)
    with pytest.raises(_Captured):
        call(client)
    request = captured[0]
    parts = urlsplit(request.url)
    headers = [
        (k, v.decode("latin-1") if isinstance(v, bytes) else v) for k, v in request.headers.items()
    ]
    body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
    return Wire(request.method, parts.path, parts.query, [*headers, ("Host", parts.netloc)], body)


@pytest.mark.parametrize(
    ("service", "call"),
    [
        ("logs", lambda c: c.create_log_group(logGroupName="/aws/lambda/fn")),
        (
            "lambda",  # rest-json: ARN percent-encoded in the path, query string
            lambda c: c.invoke(
                FunctionName="arn:aws:lambda:eu-west-1:123456789012:function:fn",
                Qualifier="$LATEST",
                Payload=b'{"k": "v"}',
            ),
        ),
        ("lambda", lambda c: c.list_functions(Marker="a b+c=d~é", MaxItems=5)),
        (
            "sns",  # query protocol: form-encoded body
            lambda c: c.publish(TopicArn="arn:aws:sns:eu-west-1:1:t", Message="hé + = ~ & x"),
        ),
        ("kinesis", lambda c: c.put_record(StreamName="s", Data=b"\x00\xff", PartitionKey="p")),
    ],
)
def test_real_boto3_clients_verify(service: str, call: Callable[[Any], object]) -> None:
    wire = _boto3_wire(service, call)
    assert check(wire, now=None) == VerifiedCaller(KEY, "eu-west-1", service)


def test_mapping_and_pair_list_headers_agree() -> None:
    wire = cwl_request()
    as_dict = {k.upper(): v for k, v in wire.headers}
    assert verify(wire.method, wire.path, wire.query, as_dict, wire.body, SECRETS.get, T0) == check(
        wire
    )


def test_starlette_headers_keep_repeated_values() -> None:
    from starlette.datastructures import Headers

    wire = sign(headers=[("X-Multi", "one"), ("X-Multi", "  two   three ")])
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in wire.headers]
    assert [v for k, v in raw if k == b"x-multi"] == [b"one", b"  two   three "]
    headers = Headers(raw=raw)
    assert verify(wire.method, wire.path, wire.query, headers, wire.body, SECRETS.get, T0)


def test_header_values_with_extra_whitespace_and_repeats() -> None:
    wire = sign(
        headers=[
            ("X-Spaces", "   a    b  c   "),
            ("X-Tabs", "\ta \t\t b\t"),
            ("X-Empty", ""),
            ("X-Multi", " first  value "),
            ("X-Multi", "second"),
        ]
    )
    assert "x-multi;x-spaces;x-tabs" in wire.header("Authorization")
    check(wire)
    # Order of repeated values is significant; so is every value.
    swapped = [h for h in wire.headers if h[0] != "X-Multi"]
    swapped += [("X-Multi", "second"), ("X-Multi", " first  value ")]
    fails(replace(wire, headers=swapped), "InvalidSignatureException")
    fails(wire.with_header("X-Spaces", "a b"), "InvalidSignatureException")
    # Only whitespace runs collapse: the same words spaced differently still verify.
    check(wire.with_header("X-Spaces", "a b      c"))


def test_unsigned_headers_may_change() -> None:
    wire = cwl_request()  # User-Agent is never signed by botocore
    assert "user-agent" not in wire.header("Authorization")
    check(wire.with_header("User-Agent", "something else").with_header("X-New", "1"))


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "",
        "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af/invocations",
        "/a%20b/%E2%82%AC/~tilde/x=y/+plus/a%2Fslash",
        "/with$special!chars*'(),;:@",
        "/a/./b//c/../d/",
        "/%2e%2e/dots-stay-encoded",
        "/trailing/",
    ],
)
def test_paths_needing_encoding(path: str) -> None:
    wire = sign(f"{ENDPOINT}{path}", method="GET")
    check(wire)
    assert check(replace(wire, path=path or "/")) == check(wire)


def test_path_is_double_encoded_like_botocore() -> None:
    """``%3A`` on the wire is signed as ``%253A``: decoding it first would not verify."""
    wire = sign(f"{ENDPOINT}/functions/arn%3Aaws%3Alambda/invocations")
    check(wire)
    fails(replace(wire, path="/functions/arn:aws:lambda/invocations"), "InvalidSignatureException")


@pytest.mark.parametrize(
    "params",
    [
        [("a", "b c"), ("a", "b+c"), ("a", "="), ("a", "")],
        [("Marker", "a b+c=d~é"), ("Qualifier", "$LATEST"), ("z", "~!*'();:@&=+$,/?#[]")],
        [("ünï", "cödé"), ("ünï", "€"), ("space key", "x")],
        [("", ""), ("k", "")],
    ],
)
def test_query_params_needing_encoding(params: list[tuple[str, str]]) -> None:
    check(sign(method="GET", params=params))


def test_equivalent_query_encodings_verify() -> None:
    """Order, ``+`` for space, escape case and needless escapes do not change the meaning."""
    wire = sign(f"{ENDPOINT}/?a=0&a=1&b=2&flag=&x=a%20b&y=~%2A", method="GET")
    check(wire)
    for query in ["b=2&a=1&a=0&flag&x=a+b&y=%7e%2a", "flag=&y=%7E*&x=a%20b&a=%30&a=1&b=2&&"]:
        check(replace(wire, query=query))
    fails(
        replace(wire, query=wire.query.replace("x=a%20b", "x=a%2Bb")), "InvalidSignatureException"
    )


def test_date_header_instead_of_x_amz_date() -> None:
    wire = sign(headers=[("Date", "placeholder")])
    assert wire.header("Date") == "Sun, 22 Nov 2026 08:37:06 -0000"
    assert not any(k.lower() == "x-amz-date" for k, _ in wire.headers)
    assert check(wire).access_key_id == KEY


def test_session_token_is_accepted_when_signed() -> None:
    wire = cwl_request(token="FQoGZXIvYXdzEXAMPLE")
    assert "x-amz-security-token" in wire.header("Authorization")
    check(wire)
    fails(wire.with_header("X-Amz-Security-Token", "other"), "InvalidSignatureException")


def test_unsigned_payload_is_refused_for_a_body() -> None:
    """A signature over UNSIGNED-PAYLOAD covers no body: anyone holding the request could
    send any body with it, so only a request without a body may use it."""
    wire = cwl_request(context={"payload_signing_enabled": False})
    assert wire.header("X-Amz-Content-SHA256") == UNSIGNED_PAYLOAD
    message = fails(wire, "InvalidSignatureException")
    assert message.startswith("UNSIGNED-PAYLOAD is not accepted for a request with a body")
    fails(replace(wire, body=b"anything"), "InvalidSignatureException")
    empty = sign(method="GET", context={"payload_signing_enabled": False})
    assert empty.header("X-Amz-Content-SHA256") == UNSIGNED_PAYLOAD
    check(empty)


def test_content_sha256_header_must_match_body() -> None:
    wire = sign(body=CWL_BODY, headers=[("X-Amz-Content-Sha256", sha256(CWL_BODY).hexdigest())])
    check(wire)
    message = fails(replace(wire, body=CWL_BODY + b" "), "InvalidSignatureException")
    assert message == "The provided 'x-amz-content-sha256' header does not match what was computed."


def test_streaming_payloads_are_refused() -> None:
    streaming = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    wire = sign(body=b"x", headers=[("X-Amz-Content-Sha256", streaming)])
    message = fails(wire, "InvalidSignatureException")
    assert "streaming payloads are not supported" in message


@pytest.mark.parametrize(
    "header",
    [
        ("X-Amz-Target", "Logs_20140328.DeleteLogGroup"),
        ("X-Amz-Content-Sha256", UNSIGNED_PAYLOAD),
        ("X-Amz-Security-Token", "FQoGZXIvYXdzEXAMPLE"),
        ("x-amz-anything", "1"),
    ],
)
def test_unsigned_amz_headers_are_refused(header: tuple[str, str]) -> None:
    """Every x-amz-* header present must be signed: an unsigned X-Amz-Target could be
    swapped on a captured request (PutLogEvents replayed as DeleteLogGroup)."""
    wire = sign(body=CWL_BODY).with_header(*header)
    message = fails(wire, "IncompleteSignatureException")
    assert message == (
        f"There were headers present in the request which were not signed: {header[0].lower()}."
    )


def test_unsigned_x_amzn_trace_id_is_fine() -> None:
    """SDKs leave X-Amzn-Trace-Id (x-amzn-, not x-amz-) and User-Agent unsigned."""
    check(cwl_request().with_header("X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793"))


def test_swapped_target_is_refused() -> None:
    wire = cwl_request()
    swapped = wire.with_header("X-Amz-Target", "Logs_20140328.DeleteLogGroup")
    assert fails(swapped, "InvalidSignatureException") == MISMATCH


def test_region_and_service_must_be_the_expected_ones() -> None:
    wire = cwl_request(region="eu-west-1")
    assert check(wire, region=None).region == "eu-west-1"  # no expectation: any region
    check(cwl_request(), region="us-east-1", service="logs")
    message = fails(wire, "InvalidSignatureException", region="us-east-1")
    assert message == "Credential should be scoped to a valid region, not 'eu-west-1'."
    message = fails(cwl_request(), "InvalidSignatureException", service="kinesis")
    assert message == "Credential should be scoped to correct service: 'kinesis'."


@pytest.mark.parametrize(
    ("wire", "reason", "key"),
    [
        (lambda: cwl_request(secret="wrong"), "mismatch", KEY),
        (lambda: cwl_request(key="AKIAUNKNOWN"), "unknown-key", "AKIAUNKNOWN"),
        (lambda: cwl_request(region="eu-west-1"), "wrong-region", KEY),
        (lambda: cwl_request(service="kinesis"), "wrong-service", KEY),
        (lambda: cwl_request(when=T0 - timedelta(hours=1)), "expired", KEY),
        (lambda: cwl_request().with_header("Authorization", None), "no-signature", None),
    ],
)
def test_refusals_name_the_key_and_the_reason(
    wire: Callable[[], Wire], reason: str, key: str | None
) -> None:
    request = wire()
    with pytest.raises(SignatureError) as caught:
        check(request, region="us-east-1", service="logs")
    assert (caught.value.reason, caught.value.access_key_id) == (reason, key)


def test_presigned_url() -> None:
    wire = sign(
        f"{ENDPOINT}/a%20b/c",
        method="GET",
        params=[("x", "1"), ("y", "= +~é"), ("y", "again")],
        presign=300,
        token="SESSION/TOKEN+=",
    )
    assert "X-Amz-Signature=" in wire.query
    assert "X-Amz-Security-Token=" in wire.query
    assert not any(k.lower() == "authorization" for k, _ in wire.headers)
    assert check(wire) == VerifiedCaller(KEY, "us-east-1", "logs")
    check(wire, now=T0 + timedelta(seconds=300))
    fails(replace(wire, query=wire.query.replace("x=1", "x=2")), "InvalidSignatureException")


def test_presigned_url_with_unsigned_payload() -> None:
    """S3-style presigners sign UNSIGNED-PAYLOAD; botocore's generic one signs the body.
    An UNSIGNED-PAYLOAD URL is good only without a body (it would cover any body)."""
    wire = sign(
        f"{ENDPOINT}/bucket/key", method="PUT", presign=60, signer=botocore.auth.S3SigV4QueryAuth
    )
    check(wire)
    fails(replace(wire, body=b"any body at all"), "InvalidSignatureException")
    generic = sign(f"{ENDPOINT}/bucket/key", method="PUT", presign=60)
    check(generic)
    fails(replace(generic, body=b"changed"), "InvalidSignatureException")


class _DeclaredHashQueryAuth(botocore.auth.SigV4QueryAuth):
    """botocore's presigner, signing a declared payload hash instead of the (empty) body."""

    def payload(self, request: AWSRequest) -> str:
        return sha256(b"payload").hexdigest()


def test_presigned_content_sha256_query_parameter() -> None:
    params = [("X-Amz-Content-Sha256", sha256(b"payload").hexdigest())]
    signed = sign(method="PUT", params=params, presign=60, signer=_DeclaredHashQueryAuth)
    check(replace(signed, body=b"payload"))
    message = fails(replace(signed, body=b"other"), "InvalidSignatureException")
    assert message == "The provided 'x-amz-content-sha256' header does not match what was computed."


# --- error codes and messages ---------------------------------------------------------------


def test_missing_authentication_token() -> None:
    wire = cwl_request().with_header("Authorization", None)
    assert fails(wire, "MissingAuthenticationTokenException") == "Missing Authentication Token"
    blank = wire.with_header("Authorization", "   ")
    assert fails(blank, "MissingAuthenticationTokenException") == "Missing Authentication Token"


def _with_auth(value: str) -> Wire:
    return cwl_request().with_header("Authorization", value)


def _auth_fields(wire: Wire) -> dict[str, str]:
    rest = wire.header("Authorization").split(" ", 1)[1]
    return dict(part.strip().split("=", 1) for part in rest.split(","))


def test_incomplete_missing_signature() -> None:
    fields = _auth_fields(cwl_request())
    value = f"AWS4-HMAC-SHA256 Credential={fields['Credential']}, SignedHeaders=host"
    message = fails(_with_auth(value), "IncompleteSignatureException")
    assert message == (
        "Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256"
    )


def test_incomplete_lists_everything_missing() -> None:
    wire = cwl_request().with_header("X-Amz-Date", None)
    message = fails(
        wire.with_header("Authorization", "AWS4-HMAC-SHA256"), "IncompleteSignatureException"
    )
    assert message == (
        "Authorization header requires 'Credential' parameter. "
        "Authorization header requires 'Signature' parameter. "
        "Authorization header requires 'SignedHeaders' parameter. "
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        "Authorization=AWS4-HMAC-SHA256"
    )


def test_incomplete_missing_date() -> None:
    message = fails(cwl_request().with_header("X-Amz-Date", None), "IncompleteSignatureException")
    assert message == (
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        "Authorization=AWS4-HMAC-SHA256"
    )


def test_non_sigv4_authorization_does_not_echo_credentials() -> None:
    message = fails(_with_auth("Bearer secret-token-value"), "IncompleteSignatureException")
    assert message.startswith("Authorization header requires 'Credential' parameter.")
    assert message.endswith("Authorization=Bearer")
    assert "secret-token-value" not in message


def test_unsupported_algorithm() -> None:
    value = "AWS4-ECDSA-P256-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=00"
    message = fails(_with_auth(value), "IncompleteSignatureException")
    assert message == "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'."


def test_missing_equal_sign() -> None:
    """A stray space after ``Credential=`` (a pasted key) splits the pair, as on AWS."""
    credential = f"{KEY}/20261122/us-east-1/logs/aws4_request"
    value = f"AWS4-HMAC-SHA256 Credential= {credential}, SignedHeaders=host, Signature=ab"
    message = fails(_with_auth(value), "IncompleteSignatureException")
    assert message == (
        f"'{credential}' not a valid key=value pair (missing equal-sign) in "
        f"Authorization header: '{value}'."
    )


def test_bad_x_amz_date() -> None:
    for bad in ["2026-11-22T08:37:06Z", "20261322T083706Z", "20261122T083706"]:
        message = fails(
            cwl_request().with_header("X-Amz-Date", bad), "IncompleteSignatureException"
        )
        assert message == (
            f"Date must be in ISO-8601 'basic format'. Got '{bad}'. "
            "See http://en.wikipedia.org/wiki/ISO_8601"
        )


def test_scope_date_must_match_x_amz_date() -> None:
    wire = cwl_request().with_header("X-Amz-Date", "20261123T083706Z")
    message = fails(wire, "IncompleteSignatureException")
    assert message == (
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
        "HTTP: '20261122' != '20261123', from '20261123T083706Z'."
    )


def test_host_must_be_signed() -> None:
    wire = sign(add_host=False, url="https://logs.us-east-1.amazonaws.com/")
    fields = _auth_fields(wire)
    value = (
        f"AWS4-HMAC-SHA256 Credential={fields['Credential']}, "
        f"SignedHeaders=x-amz-date, Signature={fields['Signature']}"
    )
    message = fails(wire.with_header("Authorization", value), "IncompleteSignatureException")
    assert message == "'Host' must be a 'SignedHeader' in the AWS Authorization."


@pytest.mark.parametrize(
    ("credential", "expected"),
    [
        (
            f"{KEY}/20261122/us-east-1/logs",
            "Credential must have exactly 5 slash-delimited elements, e.g. "
            f"keyid/date/region/service/term, got '{KEY}/20261122/us-east-1/logs'",
        ),
        (
            f"{KEY}/20261122/us-east-1/logs/aws5_request",
            "Credential should be scoped with a valid terminator: 'aws4_request', "
            "not 'aws5_request'.",
        ),
        (
            f"{KEY}/20261122//logs/aws4_request",
            "Credential should be scoped to a valid region, not ''.",
        ),
        (
            f"{KEY}/20261122/us-east-1//aws4_request",
            "Credential should be scoped to a valid service, not ''.",
        ),
    ],
)
def test_malformed_credential(credential: str, expected: str) -> None:
    fields = _auth_fields(cwl_request())
    value = (
        f"AWS4-HMAC-SHA256 Credential={credential}, "
        f"SignedHeaders={fields['SignedHeaders']}, Signature={fields['Signature']}"
    )
    assert fails(_with_auth(value), "IncompleteSignatureException") == expected


def test_two_authorization_headers() -> None:
    wire = cwl_request()
    doubled = replace(
        wire, headers=[*wire.headers, ("authorization", wire.header("Authorization"))]
    )
    assert fails(doubled, "IncompleteSignatureException") == (
        "Only one Authorization header is allowed."
    )


def test_header_and_query_auth_together() -> None:
    presigned = sign(method="GET", presign=60)
    wire = presigned.with_header("Authorization", cwl_request().header("Authorization"))
    message = fails(wire, "IncompleteSignatureException")
    assert message.startswith("Only one auth mechanism allowed")


def test_presigned_missing_parameters() -> None:
    wire = sign(method="GET", presign=60)
    kept = [p for p in wire.query.split("&") if not p.startswith(("X-Amz-Signature", "X-Amz-Date"))]
    message = fails(replace(wire, query="&".join(kept)), "IncompleteSignatureException")
    assert message == (
        "AWS query-string parameters must include 'X-Amz-Signature'. "
        "AWS query-string parameters must include 'X-Amz-Date'. "
        "Re-examine the query-string parameters."
    )


@pytest.mark.parametrize(
    ("replacement", "expected"),
    [
        ("X-Amz-Algorithm=AWS4-HMAC-SHA1", "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1'."),
        ("X-Amz-Expires=soon", "X-Amz-Expires should be a number."),
        ("X-Amz-Expires=-5", "X-Amz-Expires must be non-negative."),
        (
            "X-Amz-Expires=604801",
            "X-Amz-Expires must be less than a week (in seconds) that is 604800.",
        ),
    ],
)
def test_presigned_bad_parameters(replacement: str, expected: str) -> None:
    wire = sign(method="GET", presign=60)
    name = replacement.split("=")[0]
    query = "&".join(replacement if p.startswith(name + "=") else p for p in wire.query.split("&"))
    assert fails(replace(wire, query=query), "IncompleteSignatureException") == expected


def test_unknown_access_key() -> None:
    wire = cwl_request(key="AKIDUNKNOWN", secret="whatever")
    message = fails(wire, "UnrecognizedClientException")
    assert message == "The security token included in the request is invalid."


def test_signature_expired_message_matches_aws() -> None:
    now = datetime(2026, 11, 22, 8, 57, 6, tzinfo=UTC)
    assert fails(cwl_request(), "InvalidSignatureException", now=now) == (
        "Signature expired: 20261122T083706Z is now earlier than 20261122T084206Z "
        "(20261122T085706Z - 15 min.)"
    )


def test_signature_not_yet_current() -> None:
    now = datetime(2026, 11, 22, 8, 17, 6, tzinfo=UTC)
    assert fails(cwl_request(), "InvalidSignatureException", now=now) == (
        "Signature not yet current: 20261122T083706Z is still later than 20261122T083206Z "
        "(20261122T081706Z + 15 min.)"
    )


def test_skew_boundaries_and_custom_skew() -> None:
    wire = cwl_request()
    check(wire, now=T0 + timedelta(minutes=15))
    check(wire, now=T0 - timedelta(minutes=15))
    check(wire, now=(T0 + timedelta(minutes=10)).replace(tzinfo=None))  # naive = UTC
    message = fails(
        wire,
        "InvalidSignatureException",
        now=T0 + timedelta(seconds=91),
        max_skew=timedelta(seconds=90),
    )
    assert message.endswith("(20261122T083837Z - 90 sec.)")


def test_presigned_expiry() -> None:
    wire = sign(method="GET", presign=3600)
    check(wire, now=T0 + timedelta(hours=1))  # older than max_skew but within X-Amz-Expires
    message = fails(wire, "InvalidSignatureException", now=T0 + timedelta(hours=1, seconds=1))
    assert message == (
        "Signature expired: 20261122T083706Z is now earlier than 20261122T083707Z "
        "(20261122T093707Z - 60 min.)"
    )
    fails(wire, "InvalidSignatureException", now=T0 - timedelta(minutes=16))


def test_signature_mismatch() -> None:
    wrong_secret = cwl_request(secret="not-the-secret")
    assert fails(wrong_secret, "InvalidSignatureException") == MISMATCH
    wire = cwl_request()
    fields = _auth_fields(wire)
    bad = "0" * 64 if fields["Signature"] != "0" * 64 else "1" * 64
    value = wire.header("Authorization").replace(fields["Signature"], bad)
    assert fails(wire.with_header("Authorization", value), "InvalidSignatureException") == MISMATCH
    assert fails(replace(wire, method="PUT"), "InvalidSignatureException") == MISMATCH


def test_scope_is_bound_into_signature() -> None:
    """Region and service from the scope are signed: rewriting them breaks the signature."""
    wire = cwl_request()
    for old, new in [("/us-east-1/", "/us-west-2/"), ("/logs/", "/kinesis/")]:
        tampered = wire.with_header("Authorization", wire.header("Authorization").replace(old, new))
        assert fails(tampered, "InvalidSignatureException") == MISMATCH


def test_upper_case_signature_hex_is_accepted() -> None:
    wire = cwl_request()
    signature = _auth_fields(wire)["Signature"]
    check(
        wire.with_header(
            "Authorization", wire.header("Authorization").replace(signature, signature.upper())
        )
    )


# --- properties -----------------------------------------------------------------------------

PRINTABLE = string.ascii_letters + string.digits + string.punctuation
_segment_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=10
)
# Safe sets: fully encoded, RFC 3986 sub-delims left raw (legal in paths), or dot segments.
_segment = st.one_of(
    st.builds(lambda s: quote(s, safe=""), _segment_text),
    st.builds(lambda s: quote(s, safe="!$&'()*+,;=:@~"), _segment_text),
    st.sampled_from([".", "..", ""]),
)
_paths = st.lists(_segment, max_size=5).map(lambda segs: "/" + "/".join(segs))
_param_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
_params = st.lists(
    st.tuples(_param_text.filter(lambda k: not k.startswith("X-Amz-")), _param_text), max_size=5
)
_header_values = st.lists(st.text(st.sampled_from(PRINTABLE + "  \t"), max_size=12), max_size=4)
_bodies = st.binary(max_size=128)

fast = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _random_request(
    path: str, params: list[tuple[str, str]], values: list[str], body: bytes
) -> Wire:
    headers = [(f"X-Test-{i}", value) for i, value in enumerate(values)]
    if values:
        headers.append(("X-Test-0", values[-1]))  # a repeated header
    return sign(f"{ENDPOINT}{path}", body=body, params=params, headers=headers)


@fast
@given(path=_paths, params=_params, values=_header_values, body=_bodies)
def test_botocore_signed_requests_always_verify(
    path: str, params: list[tuple[str, str]], values: list[str], body: bytes
) -> None:
    assert check(_random_request(path, params, values, body)).service == "logs"


@fast
@given(path=_paths, params=_params)
def test_botocore_presigned_urls_always_verify(path: str, params: list[tuple[str, str]]) -> None:
    wire = sign(f"{ENDPOINT}{path}", method="GET", params=params, presign=900)
    assert check(wire, now=T0 + timedelta(minutes=14)).access_key_id == KEY


@fast
@given(body=_bodies, data=st.data())
def test_any_body_change_is_detected(body: bytes, data: st.DataObject) -> None:
    wire = sign(body=body)
    if body:
        index = data.draw(st.integers(0, len(body) - 1))
        flip = data.draw(st.integers(1, 255))
        changed = body[:index] + bytes([body[index] ^ flip]) + body[index + 1 :]
    else:
        changed = data.draw(st.binary(min_size=1, max_size=1))
    assert fails(replace(wire, body=changed), "InvalidSignatureException") == MISMATCH


@fast
@given(values=_header_values.filter(bool), data=st.data())
def test_any_signed_header_change_is_detected(values: list[str], data: st.DataObject) -> None:
    wire = _random_request("/", [], values, b"{}")
    custom = [i for i, (name, _) in enumerate(wire.headers) if name.startswith("X-Test-")]
    which = data.draw(st.sampled_from(custom))
    name, value = wire.headers[which]
    new_char = data.draw(st.sampled_from(PRINTABLE))
    if value:
        index = data.draw(st.integers(0, len(value) - 1))
        assume(value[index] != new_char)
        changed = value[:index] + new_char + value[index + 1 :]
    else:
        changed = new_char
    headers = list(wire.headers)
    headers[which] = (name, changed)
    assert fails(replace(wire, headers=headers), "InvalidSignatureException") == MISMATCH


@fast
@given(path=_paths, data=st.data())
def test_any_path_change_is_detected(path: str, data: st.DataObject) -> None:
    wire = sign(f"{ENDPOINT}{path}")
    index = data.draw(st.integers(0, len(wire.path) - 1))
    new_char = data.draw(st.sampled_from(string.ascii_letters + string.digits + "-._~%/=+:@"))
    changed = wire.path[:index] + new_char + wire.path[index + 1 :]
    assume(normalize_url_path(changed) != normalize_url_path(wire.path))
    assert fails(replace(wire, path=changed), "InvalidSignatureException") == MISMATCH


def _query_meaning(query: str) -> list[tuple[str, str]]:
    """What an application reads from a query string (latin-1 keeps every byte distinct)."""
    return sorted(parse_qsl(query, keep_blank_values=True, encoding="latin-1"))


@fast
@given(params=_params, data=st.data())
def test_any_query_change_is_detected(params: list[tuple[str, str]], data: st.DataObject) -> None:
    wire = sign(method="GET", params=params)
    new_char = data.draw(st.sampled_from(string.ascii_letters + string.digits + "-._~%&=+"))
    if wire.query:
        index = data.draw(st.integers(0, len(wire.query) - 1))
        changed = wire.query[:index] + new_char + wire.query[index + 1 :]
    else:
        changed = new_char
    assume(_query_meaning(changed) != _query_meaning(wire.query))
    assume("X-Amz-Algorithm" not in changed)
    assert fails(replace(wire, query=changed), "InvalidSignatureException") == MISMATCH
