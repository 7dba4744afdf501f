"""Server-side verification of AWS Signature Version 4 (``AWS4-HMAC-SHA256``).

Every AWS API we speak (CloudWatch Logs, Kinesis, SNS, Lambda) authenticates requests the
same way, so this module knows nothing about any one service: it rebuilds the canonical
request exactly as the SDK signer did, derives the signing key from the caller's secret and
compares signatures in constant time. Failures raise :class:`SignatureError` with the codes and
(as far as we know them) the message wording AWS uses, because SDKs and users match on them.

Canonicalization follows the SigV4 rules for non-S3 services, checked against botocore's
signer (``botocore.auth.SigV4Auth``), which is the reference client:

* URI: the path *as sent on the wire* (still percent-encoded), with ``.``/``..`` and empty
  segments removed, percent-encoded once more (AWS: "each path segment must be URI-encoded
  twice" -- once by the client for the wire, once for the canonical form). So ``%3A`` in a
  Lambda ARN becomes ``%253A``. Decoding first would break every such request.
* Query: ``&``-separated pairs, each key and value decoded (``+`` is a space, as HTML forms
  and our HTTP framework read it) and re-encoded keeping only RFC 3986 unreserved
  characters, sorted by key then value. Presigned requests leave out ``X-Amz-Signature``.
* Headers: the names listed in SignedHeaders, in the client's order; values trimmed with
  inner whitespace runs collapsed to one space; repeated headers joined with ``,``.
* Payload: hex SHA-256 of the body, or the signed ``X-Amz-Content-Sha256`` value (a hash
  that must match the body; ``UNSIGNED-PAYLOAD`` only for a request without a body, since
  these services, unlike S3, never leave a body unsigned: a signature that does not cover
  the body would let whoever holds a captured request send any body with it).

Stricter than the signature alone, as AWS is: every ``x-amz-*`` header present must be
signed (``X-Amz-Target`` picks the operation; an unsigned one could be swapped on a captured
request), and the credential scope must name the configured region and the called service.
Every refusal is a :class:`SignatureError` carrying the access key id (when the request
names one) and a short ``reason``, so the server can log who failed and why.

Status codes: AWS answers ``MissingAuthenticationTokenException`` with 403 on some
front ends (API Gateway, REST services); JSON-protocol services answer auth errors with 400,
so every error here is 400 for consistency with the rest of our JSON APIs.

Not supported: SigV4a (``AWS4-ECDSA-P256-SHA256``), streaming ``aws-chunked`` payloads
(``STREAMING-*`` payload hashes), S3's single-encoding path rules, browser POST policies.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import quote, quote_from_bytes, unquote_to_bytes

from logsieve.errors import ServiceError

__all__ = ["UNSIGNED_PAYLOAD", "SignatureError", "VerifiedCaller", "precheck", "verify"]

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
#: Longest lifetime AWS allows for a presigned URL (7 days), in seconds.
MAX_PRESIGNED_EXPIRES = 604800

_MISSING_TOKEN = "MissingAuthenticationTokenException"
_INCOMPLETE = "IncompleteSignatureException"
_INVALID = "InvalidSignatureException"
_UNRECOGNIZED = "UnrecognizedClientException"

_MSG_MISSING_TOKEN = "Missing Authentication Token"
_MSG_UNRECOGNIZED = "The security token included in the request is invalid."
_MSG_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)

_TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
_TIMESTAMP_RE = re.compile(r"[0-9]{8}T[0-9]{6}Z\Z")
_SHA256_HEX_RE = re.compile(r"[0-9a-fA-F]{64}\Z")
_AUTH_SEPARATORS = re.compile(r"[,\s]+")
# The key id in an Authorization header's Credential=KEY/date/region/service/aws4_request.
_CREDENTIAL_KEY = re.compile(r"Credential=([^/,\s]+)/")
# RFC 3986 unreserved characters; everything else is percent-encoded in canonical strings.
_UNRESERVED = "-_.~"

_Q_ALGORITHM = "X-Amz-Algorithm"
_Q_CREDENTIAL = "X-Amz-Credential"
_Q_DATE = "X-Amz-Date"
_Q_EXPIRES = "X-Amz-Expires"
_Q_SIGNED_HEADERS = "X-Amz-SignedHeaders"
_Q_SIGNATURE = "X-Amz-Signature"
_Q_CONTENT_SHA256 = "X-Amz-Content-Sha256"

HeadersInput = Mapping[str, str] | Iterable[tuple[str, str]]


class SignatureError(ServiceError):
    """A refused signature: AWS's code and message, plus what the server log needs.

    ``reason`` is a short stable tag (``mismatch``, ``unknown-key``, ``expired``,
    ``wrong-region``...) and ``access_key_id`` the key the request named, if any.
    """

    def __init__(
        self, code: str, message: str, reason: str, access_key_id: str | None = None
    ) -> None:
        super().__init__(code, message)
        self.reason = reason
        self.access_key_id = access_key_id


@dataclass(frozen=True)
class VerifiedCaller:
    """Who signed the request, and for which region and service (from the credential scope).

    The verifier accepts any region/service in the scope; callers that serve one service
    should compare ``service`` (and ``region``) with their own.
    """

    access_key_id: str
    region: str
    service: str


@dataclass(frozen=True)
class _AuthParams:
    """The signature inputs, from the Authorization header or the presigned query."""

    credential: str
    signed_headers: str  # exactly as the client sent it: it is part of the canonical request
    signature: str
    timestamp: str  # as written by the client (X-Amz-Date) or as given by the Date header
    presigned: bool
    expires: int | None = None  # presigned lifetime in seconds
    from_date_header: bool = False  # timestamp came from ``Date``, not ``X-Amz-Date``


def verify(
    method: str,
    path: str,
    query: str,
    headers: HeadersInput,
    body: bytes,
    secret_for: Callable[[str], str | None],
    now: datetime | None = None,
    max_skew: timedelta = timedelta(minutes=15),
    *,
    region: str | None = None,
    service: str | None = None,
) -> VerifiedCaller:
    """Check a request's SigV4 signature; return the caller or raise ``SignatureError``.

    ``path`` and ``query`` must be the raw strings from the request line (ASGI
    ``raw_path``/``query_string``), not decoded ones: the signature covers the wire form.
    ``headers`` is a mapping or a list of ``(name, value)`` pairs; names are matched
    case-insensitively and repeated names are kept in order (a mapping's ``items()`` is
    used, so multi-value mappings such as Starlette's ``Headers`` keep their repeats).
    ``secret_for`` maps an access key id to its secret, or ``None`` when it is unknown.
    With ``region`` / ``service``, the credential scope must name exactly them.
    """
    access_key_id: str | None = None
    try:
        now = _as_utc(now or datetime.now(UTC))
        header_map = _header_map(headers)
        query_pairs = _parse_query(query)
        query_params: dict[str, list[str]] = {}
        for key, value in query_pairs:
            query_params.setdefault(_text(key), []).append(_text(value))
        params = _auth_params(header_map, query_params)
        access_key_id = params.credential.split("/", 1)[0] or None

        signed_names = params.signed_headers.split(";")
        signed_set = {name.strip().lower() for name in signed_names}
        _check_signed_headers(signed_set, header_map)

        request_time = _parse_timestamp(params.timestamp, params.from_date_header)
        amz_date = request_time.strftime(_TIMESTAMP_FORMAT)
        access_key_id, scope = _parse_credential(params.credential, amz_date)
        _, scope_region, scope_service, _ = scope.split("/")

        secret = secret_for(access_key_id)
        if secret is None:
            raise SignatureError(_UNRECOGNIZED, _MSG_UNRECOGNIZED, "unknown-key")
        _check_scope(scope_region, scope_service, region, service)
        _check_time(request_time, now, max_skew, params.expires)
        payload_hashes = _payload_hashes(
            body, header_map, signed_set, query_params, params.presigned
        )

        canonical_prefix = "\n".join(
            [
                method.upper(),
                _canonical_uri(path),
                _canonical_query(query_pairs, drop_signature=params.presigned),
                _canonical_headers(signed_names, header_map),
                params.signed_headers,
            ]
        )
        signing_key = _signing_key(secret, scope)
        provided = params.signature.strip().lower().encode("utf-8", "replace")
        for payload_hash in payload_hashes:
            canonical_request = f"{canonical_prefix}\n{payload_hash}"
            string_to_sign = "\n".join(
                [ALGORITHM, amz_date, scope, _sha256_hex(canonical_request.encode("utf-8"))]
            )
            expected = hmac.new(signing_key, string_to_sign.encode("utf-8"), hashlib.sha256)
            if hmac.compare_digest(expected.hexdigest().encode("ascii"), provided):
                return VerifiedCaller(
                    access_key_id=access_key_id, region=scope_region, service=scope_service
                )
        raise SignatureError(_INVALID, _MSG_MISMATCH, "mismatch")
    except SignatureError as error:
        error.access_key_id = error.access_key_id or access_key_id
        raise


def precheck(headers: HeadersInput, query: str, secret_for: Callable[[str], str | None]) -> None:
    """Refuse, before its body is read, a request that cannot pass ``verify`` whatever its
    body: one without a signature, or signed with an unknown access key id.

    So a caller without a valid key id cannot make the server buffer a body at all. Only
    those two failures are raised here; anything else is left to ``verify``, which reports
    every problem in AWS's order.
    """
    header_map = _header_map(headers)
    auth_values = [v for v in header_map.get("authorization", []) if v.strip()]
    if auth_values:
        found = _CREDENTIAL_KEY.findall(auth_values[0])
        key = found[-1] if found else None  # as in verify, the last Credential= counts
    else:
        query_params = {_text(k): _text(v) for k, v in reversed(_parse_query(query))}
        if _Q_ALGORITHM not in query_params:
            raise SignatureError(_MISSING_TOKEN, _MSG_MISSING_TOKEN, "no-signature")
        key = query_params.get(_Q_CREDENTIAL, "").split("/", 1)[0]
    if key and secret_for(key) is None:
        raise SignatureError(_UNRECOGNIZED, _MSG_UNRECOGNIZED, "unknown-key", key)


def _auth_params(
    header_map: dict[str, list[str]], query_params: dict[str, list[str]]
) -> _AuthParams:
    """The signature inputs from the one auth mechanism the request uses."""
    auth_values = [v for v in header_map.get("authorization", []) if v.strip()]
    presigned = _Q_ALGORITHM in query_params
    if not auth_values and not presigned:
        raise SignatureError(_MISSING_TOKEN, _MSG_MISSING_TOKEN, "no-signature")
    if auth_values and presigned:
        raise _incomplete(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter "
            "or the Authorization header should be specified."
        )
    if presigned:
        return _params_from_query(query_params)
    if len(auth_values) > 1:
        raise _incomplete("Only one Authorization header is allowed.")
    return _params_from_header(auth_values[0], header_map)


def _check_signed_headers(signed_set: set[str], header_map: dict[str, list[str]]) -> None:
    """``Host`` and every ``x-amz-*`` header present must be signed.

    AWS's SigV4 rules name both; S3 refuses unsigned ``x-amz-*`` headers with "There were
    headers present in the request which were not signed", the wording used here. Without
    this, a captured request could be replayed with its ``X-Amz-Target`` (the operation)
    or its declared payload hash swapped. Every AWS SDK signs all ``x-amz-*`` headers
    (they leave out only ``x-amzn-trace-id``, ``user-agent`` and hop-by-hop headers).
    """
    if "host" not in signed_set:
        raise _incomplete("'Host' must be a 'SignedHeader' in the AWS Authorization.")
    unsigned = sorted(
        name for name in header_map if name.startswith("x-amz-") and name not in signed_set
    )
    if unsigned:
        raise SignatureError(
            _INCOMPLETE,
            "There were headers present in the request which were not signed: "
            f"{', '.join(unsigned)}.",
            "unsigned-headers",
        )


def _check_scope(
    scope_region: str, scope_service: str, region: str | None, service: str | None
) -> None:
    """The credential scope must name this server's region and the called service.

    The signature covers the scope, so a client that signs for another region signs
    correctly and still must be refused, with AWS's words, before it writes resources whose
    ARNs would name a region it did not ask for.
    """
    if region is not None and scope_region != region:
        raise SignatureError(
            _INVALID,
            f"Credential should be scoped to a valid region, not '{scope_region}'.",
            "wrong-region",
        )
    if service is not None and scope_service != service:
        raise SignatureError(
            _INVALID,
            f"Credential should be scoped to correct service: '{service}'.",
            "wrong-service",
        )


# --- auth parameters ------------------------------------------------------------------------


def _params_from_header(value: str, header_map: dict[str, list[str]]) -> _AuthParams:
    """Parse ``AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...``.

    Problems are reported together in one message, as AWS does, so a client sees everything
    that is missing at once.
    """
    value = value.strip()
    scheme, _, rest = value.replace("\t", " ").partition(" ")
    if scheme.startswith("AWS4-") and scheme != ALGORITHM:
        raise _incomplete(f"Unsupported AWS 'algorithm': '{scheme}'.")
    fields: dict[str, str] = {}
    if scheme == ALGORITHM:
        # AWS splits on commas and whitespace alike: "Credential= AKID/..." is two tokens.
        for part in _AUTH_SEPARATORS.split(rest):
            if not part:
                continue
            name, eq, field_value = part.partition("=")
            if not eq:
                raise _incomplete(
                    f"'{part}' not a valid key=value pair (missing equal-sign) in "
                    f"Authorization header: '{value}'.",
                )
            fields[name] = field_value  # AWS: the last occurrence wins

    problems = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not fields.get(name)
    ]
    amz_date = _first(header_map, "x-amz-date")
    timestamp = amz_date if amz_date is not None else _first(header_map, "date")
    if timestamp is None:
        problems.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    if problems:
        # AWS echoes the whole header; we echo only the scheme so bearer tokens and the like
        # sent here by mistake do not end up in error messages and logs.
        raise _incomplete(" ".join([*problems, f"Authorization={scheme}"]))
    assert timestamp is not None
    return _AuthParams(
        credential=fields["Credential"],
        signed_headers=fields["SignedHeaders"],
        signature=fields["Signature"],
        timestamp=timestamp.strip(),
        presigned=False,
        from_date_header=amz_date is None,
    )


def _params_from_query(query_params: dict[str, list[str]]) -> _AuthParams:
    """Read the ``X-Amz-*`` parameters of a presigned URL (first value of each wins)."""
    algorithm = query_params[_Q_ALGORITHM][0]
    if algorithm != ALGORITHM:
        raise _incomplete(f"Unsupported AWS 'algorithm': '{algorithm}'.")
    required = (_Q_CREDENTIAL, _Q_SIGNATURE, _Q_SIGNED_HEADERS, _Q_DATE)
    missing = [name for name in required if not (query_params.get(name) or [""])[0]]
    if missing:
        problems = [f"AWS query-string parameters must include '{name}'." for name in missing]
        raise _incomplete(" ".join([*problems, "Re-examine the query-string parameters."]))
    expires: int | None = None
    if _Q_EXPIRES in query_params:
        raw = query_params[_Q_EXPIRES][0].strip()
        if not raw.isascii() or not raw.lstrip("-").isdigit():
            raise _incomplete("X-Amz-Expires should be a number.")
        expires = int(raw)
        if expires < 0:
            raise _incomplete("X-Amz-Expires must be non-negative.")
        if expires > MAX_PRESIGNED_EXPIRES:
            raise _incomplete(
                "X-Amz-Expires must be less than a week (in seconds) that is "
                f"{MAX_PRESIGNED_EXPIRES}.",
            )
    return _AuthParams(
        credential=query_params[_Q_CREDENTIAL][0],
        signed_headers=query_params[_Q_SIGNED_HEADERS][0],
        signature=query_params[_Q_SIGNATURE][0],
        timestamp=query_params[_Q_DATE][0].strip(),
        presigned=True,
        expires=expires,
    )


def _parse_timestamp(value: str, from_date_header: bool) -> datetime:
    """Read ``20261122T083706Z``; a ``Date`` header may also be an RFC 7231 HTTP-date.

    botocore sends ``Date: Sun, 22 Nov 2026 08:37:06 -0000`` when the caller set a Date
    header, yet signs the ISO basic form of the same instant, which we rebuild from it.
    """
    if _TIMESTAMP_RE.match(value):
        try:
            return datetime.strptime(value, _TIMESTAMP_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            pass
    elif from_date_header:
        try:
            return _as_utc(parsedate_to_datetime(value)).replace(microsecond=0)
        except (TypeError, ValueError, IndexError):
            pass
    raise _incomplete(
        f"Date must be in ISO-8601 'basic format'. Got '{value}'. "
        "See http://en.wikipedia.org/wiki/ISO_8601",
    )


def _parse_credential(credential: str, amz_date: str) -> tuple[str, str]:
    """Split ``AKID/yyyymmdd/region/service/aws4_request`` into the key id and the scope."""
    parts = credential.split("/")
    if len(parts) != 5:
        raise _incomplete(
            "Credential must have exactly 5 slash-delimited elements, "
            f"e.g. keyid/date/region/service/term, got '{credential}'",
        )
    access_key_id, date, region, service, terminator = parts
    problems = []
    if not region:
        problems.append(f"Credential should be scoped to a valid region, not '{region}'.")
    if not service:
        problems.append(f"Credential should be scoped to a valid service, not '{service}'.")
    if terminator != TERMINATOR:
        problems.append(
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', "
            f"not '{terminator}'."
        )
    if date != amz_date[:8]:
        problems.append(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{date}' != '{amz_date[:8]}', from '{amz_date}'."
        )
    if problems:
        raise _incomplete(" ".join(problems))
    return access_key_id, "/".join(parts[1:])


def _check_time(
    request_time: datetime, now: datetime, max_skew: timedelta, expires: int | None
) -> None:
    """Reject replays of old requests and requests from badly wrong clocks.

    Header-signed requests must be within ``max_skew`` of ``now``; presigned URLs are valid
    from their X-Amz-Date until X-Amz-Expires seconds later (``max_skew`` still bounds how
    far in the future X-Amz-Date may lie, and is the lifetime when X-Amz-Expires is absent).
    """
    lifetime = max_skew if expires is None else timedelta(seconds=expires)
    earliest = now - lifetime
    if request_time < earliest:
        raise SignatureError(
            _INVALID,
            f"Signature expired: {_stamp(request_time)} is now earlier than {_stamp(earliest)} "
            f"({_stamp(now)} - {_duration(lifetime)}.)",
            "expired",
        )
    latest = now + max_skew
    if request_time > latest:
        raise SignatureError(
            _INVALID,
            f"Signature not yet current: {_stamp(request_time)} is still later than "
            f"{_stamp(latest)} ({_stamp(now)} + {_duration(max_skew)}.)",
            "not-yet-current",
        )


def _payload_hashes(
    body: bytes,
    header_map: dict[str, list[str]],
    signed_set: set[str],
    query_params: dict[str, list[str]],
    presigned: bool,
) -> list[str]:
    """The payload hash(es) the client may have signed, most likely first.

    A declared hash (signed ``X-Amz-Content-Sha256`` header, or that query parameter of a
    presigned URL) is used as is, after checking it against the body, so the body stays
    covered. ``UNSIGNED-PAYLOAD`` covers nothing, so it is taken only for an empty body: a
    request that carries one must sign it (S3 is the one AWS service that allows otherwise).
    A presigned URL without a declared hash may have been signed over the body (botocore's
    generic presigner) or over ``UNSIGNED-PAYLOAD`` (the S3 convention); the latter is tried
    only without a body, for the same reason.
    """
    body_hash = _sha256_hex(body)
    declared: str | None = None
    if presigned and query_params.get(_Q_CONTENT_SHA256):
        declared = query_params[_Q_CONTENT_SHA256][0].strip()
    elif "x-amz-content-sha256" in signed_set:
        declared = _first(header_map, "x-amz-content-sha256")
        declared = None if declared is None else declared.strip()
    if declared is None:
        return [body_hash, UNSIGNED_PAYLOAD] if presigned and not body else [body_hash]
    if declared == UNSIGNED_PAYLOAD:
        if body:
            raise SignatureError(
                _INVALID,
                "UNSIGNED-PAYLOAD is not accepted for a request with a body: sign the body "
                "(x-amz-content-sha256 must be its SHA-256).",
                "unsigned-payload",
            )
        return [UNSIGNED_PAYLOAD]
    if _SHA256_HEX_RE.match(declared):
        if declared.lower() != body_hash:
            raise SignatureError(
                _INVALID,
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
                "payload-hash-mismatch",
            )
        return [declared]
    raise SignatureError(
        _INVALID,
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a valid sha256 value "
        f"(streaming payloads are not supported), got '{declared}'.",
        "bad-payload-hash",
    )


# --- canonical request ----------------------------------------------------------------------


def _canonical_uri(path: str) -> str:
    """Normalize the wire path like botocore, then percent-encode it (a second time)."""
    return quote(_remove_dot_segments(path), safe="/~")


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 dot-segment removal, plus dropping empty segments (``//``) as AWS does."""
    if not path:
        return "/"
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and segments else ""
    return first + "/".join(segments) + last


def _parse_query(query: str) -> list[tuple[bytes, bytes]]:
    """Split a raw query string into decoded ``(key, value)`` byte pairs, in order.

    Bytes, not text: the canonical form must reproduce exactly the octets the client
    encoded, even when they are not UTF-8.
    """
    pairs = []
    for piece in query.split("&"):
        if not piece:
            continue
        key, _, value = piece.partition("=")
        pairs.append(
            (unquote_to_bytes(key.replace("+", " ")), unquote_to_bytes(value.replace("+", " ")))
        )
    return pairs


def _canonical_query(pairs: list[tuple[bytes, bytes]], drop_signature: bool) -> str:
    """Re-encode each pair with only unreserved characters left bare, sort, join with ``&``."""
    encoded = sorted(
        (quote_from_bytes(key, safe=_UNRESERVED), quote_from_bytes(value, safe=_UNRESERVED))
        for key, value in pairs
        if not (drop_signature and key == _Q_SIGNATURE.encode())
    )
    return "&".join(f"{key}={value}" for key, value in encoded)


def _canonical_headers(signed_names: list[str], header_map: dict[str, list[str]]) -> str:
    """``name:value\\n`` for each signed header, values trimmed and whitespace-collapsed.

    A signed header missing from the request counts as empty: the signature then fails
    unless the client really signed an empty value.
    """
    lines = []
    for name in signed_names:
        values = header_map.get(name.strip().lower(), [])
        lines.append(f"{name}:{','.join(' '.join(value.split()) for value in values)}\n")
    return "".join(lines)


def _signing_key(secret: str, scope: str) -> bytes:
    """kSigning = HMAC chain over the scope's date, region, service and terminator."""
    key = f"AWS4{secret}".encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


# --- small helpers --------------------------------------------------------------------------


def _incomplete(message: str) -> SignatureError:
    return SignatureError(_INCOMPLETE, message, "incomplete")


def _header_map(headers: HeadersInput) -> dict[str, list[str]]:
    """Lower-cased header names mapped to all their values, in the order received."""
    items: Iterable[tuple[str, str]] = headers.items() if isinstance(headers, Mapping) else headers
    result: dict[str, list[str]] = {}
    for name, value in items:
        result.setdefault(name.strip().lower(), []).append(value)
    return result


def _first(header_map: dict[str, list[str]], name: str) -> str | None:
    values = header_map.get(name)
    return values[0] if values else None


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC (botocore and ``-0000`` Date headers produce them)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _stamp(moment: datetime) -> str:
    return moment.strftime(_TIMESTAMP_FORMAT)


def _duration(span: timedelta) -> str:
    """``15 min`` / ``90 sec``, the way AWS words the allowed skew."""
    seconds = int(span.total_seconds())
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} sec"
