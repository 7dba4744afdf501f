"""Request fuzzing against botocore's model of CloudWatch Logs.

Bodies for the implemented operations are generated from their input shapes in botocore's
``logs`` model: well-typed values that respect the shape's constraints, well-typed values that
break them (length, pattern, enum, range, list and map sizes, missing required members), and
ill-typed values (a number where a string goes, a list where a structure goes...). Each body is
SigV4-signed and sent to the real server. Whatever is sent, the answer is either a 200 whose
JSON fits the operation's output shape, or a 4xx in AWS's error shape whose ``__type`` the model
lists for the operation (or one of the generic protocol errors): never a 5xx.

Requests also name a few real resources (a log group with a stream, events and a metric filter)
so that they get past "does not exist" into the operations' own logic.
"""

from __future__ import annotations

import base64
import json
import re
import time
from functools import cache
from typing import Any

import botocore.auth
import botocore.session
import httpx
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.model import Shape
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from tests.server import ACCESS_KEY, SECRET_KEY

MODEL = botocore.session.get_session().get_service_model("logs")
OPERATIONS = (
    "CreateLogGroup",
    "DeleteLogGroup",
    "DescribeLogGroups",
    "CreateLogStream",
    "DeleteLogStream",
    "DescribeLogStreams",
    "PutRetentionPolicy",
    "DeleteRetentionPolicy",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "TagLogGroup",
    "UntagLogGroup",
    "ListTagsLogGroup",
    "PutLogEvents",
    "GetLogEvents",
    "FilterLogEvents",
    "PutMetricFilter",
    "DeleteMetricFilter",
    "DescribeMetricFilters",
    "TestMetricFilter",
)
# Protocol-level errors any operation may answer with, besides the ones the model lists.
GENERIC_ERRORS = frozenset(
    {
        "SerializationException",
        "InvalidParameterException",
        "ResourceNotFoundException",
        "ResourceAlreadyExistsException",
        "LimitExceededException",
        "UnknownOperationException",
        "TooManyTagsException",
    }
)
ACCOUNT = "123456789012"
TARGET_GROUP = "/fuzz/target"  # never deleted by the fuzzer
VICTIM_GROUP = "/fuzz/victim"  # the Delete* operations may remove (and Create* recreate) it
STREAM = "stream-1"
FILTER = "fuzz-filter"
HOUR = 3_600_000
NOW = int(time.time() * 1000)


def arn(group: str) -> str:
    return f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}"


# --- values a member of a given name may take besides generated ones ----------------------------

FILTER_PATTERNS = [
    "",
    " ",
    "ERROR",
    '"exact phrase"',
    "?ERROR ?WARN -DEBUG",
    '{ $.level = "error" }',
    "{ $.latency > 100 && $.user.id = * }",
    "{ ($.a IS NULL) || ($.b NOT EXISTS) }",
    "{ $.arr[0] = 1.5e3 }",
    "[ip, user, ..., status = 4*, bytes > 1000]",
    "[w1, w2 = %[0-9]+%, ...]",
    "%ERR(OR)?%",
    "{ $.x = %a+% }",
    "[a, b, c]",
]
MESSAGES = [
    "ERROR something failed",
    '{"level": "error", "latency": 250, "user": {"id": 7}, "arr": [1500]}',
    '127.0.0.1 frank - "GET /x" 404 2048',
    "plain text ✓ with unicode",
]
KNOWN: dict[str, list[Any]] = {
    "logGroupName": [TARGET_GROUP, VICTIM_GROUP],
    "logGroupNamePrefix": ["/fuzz", "/fuzz/t"],
    "logGroupIdentifier": [TARGET_GROUP, arn(TARGET_GROUP), arn(TARGET_GROUP) + ":*"],
    "logGroupIdentifiers": [[TARGET_GROUP, arn(VICTIM_GROUP)]],
    "logStreamName": [STREAM],
    "logStreamNamePrefix": ["stream"],
    "logStreamNames": [[STREAM], [STREAM, "stream-2", "nope"]],
    "resourceArn": [arn(TARGET_GROUP), arn(VICTIM_GROUP), arn(TARGET_GROUP) + ":*"],
    "filterName": [FILTER, "other-filter"],
    "filterNamePrefix": ["fuzz"],
    "filterPattern": FILTER_PATTERNS,
    "metricValue": ["1", "$.latency", "$bytes", "$status"],
    "logEventMessages": [MESSAGES],
    "startTime": [NOW - HOUR, 1_704_067_200_000],
    "endTime": [NOW + HOUR],
    "retentionInDays": [1, 7, 30, 3653],
}
DELETIONS = frozenset({"DeleteLogGroup", "DeleteLogStream", "DeleteMetricFilter"})


# --- strategies from shapes ---------------------------------------------------------------------

# A VALID request has only well-typed values that respect their constraints; in a BROKEN one
# each value may also break its constraints or have the wrong JSON type altogether.
VALID, BROKEN = "valid", "broken"

ill_typed = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.booleans(),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    st.none(),
)


def _tag_text(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    """``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]``: Java's Unicode classes, which ``re`` lacks."""
    alphabet = st.one_of(
        st.characters(categories=["L", "Z", "N"], max_codepoint=0xFFFF),
        st.sampled_from("_.:/=+-@"),
    )
    return st.text(alphabet, min_size=min_size, max_size=max_size)


# Model patterns that are one character class repeated: ``[...]+``, ``^([...]*)$``...
_REPEATED_CLASS = re.compile(r"\^?\(?(\[.+\])([*+])\)?\$?")


def _valid_string(shape: Shape) -> st.SearchStrategy[str]:
    meta = shape.metadata
    low, high = meta.get("min", 0), meta.get("max", 256)
    if shape.enum:
        return st.sampled_from(shape.enum)
    pattern = meta.get("pattern")
    cap = max(low, min(high, 40))
    if pattern is None:
        return st.text(min_size=low, max_size=cap)
    if "\\p{" in pattern:
        return _tag_text(low, min(cap, 20))
    repeated = _REPEATED_CLASS.fullmatch(pattern)
    if repeated:
        # Java's \w and \d are ASCII-only, hence re.ASCII.
        char_class = re.compile(repeated.group(1), re.ASCII)
        if repeated.group(1).startswith("[^"):
            alphabet = st.characters(codec="utf-8").filter(char_class.fullmatch)
        else:
            alphabet = st.sampled_from([chr(c) for c in range(128) if char_class.fullmatch(chr(c))])
        shortest = max(low, 1 if repeated.group(2) == "+" else 0)
        return st.text(alphabet, min_size=shortest, max_size=max(shortest, cap))
    regex = re.compile(pattern, re.ASCII)
    return st.from_regex(regex, fullmatch=True).filter(lambda s: low <= len(s) <= high)


def _broken_string(shape: Shape) -> st.SearchStrategy[str]:
    meta = shape.metadata
    low, high = meta.get("min", 0), meta.get("max")
    options: list[st.SearchStrategy[str]] = [
        st.text(max_size=30),  # ignores pattern and enum
        st.text(alphabet=":*$ \t\n\x00{}[]%\"'\\é✓\U0001f600", min_size=1, max_size=10),
    ]
    if low > 0:
        options.append(st.just(""))
    if high is not None and high <= 4096:
        options.append(st.integers(1, 3).map(lambda extra: "x" * (high + extra)))
    return st.one_of(options)


def _integers(shape: Shape, valid: bool) -> st.SearchStrategy[int]:
    meta = shape.metadata
    java = (-(2**31), 2**31 - 1) if shape.type_name == "integer" else (-(2**63), 2**63 - 1)
    low, high = meta.get("min", java[0]), meta.get("max", java[1])
    if valid:
        inside = st.integers(low, high)
        if shape.name == "Timestamp":  # mostly near now, where events are accepted
            return st.one_of(st.integers(NOW - 15 * 24 * HOUR, NOW + 3 * HOUR), inside)
        return inside
    return st.one_of(
        st.sampled_from([low - 1, high + 1, java[0] - 1, java[1] + 1, 0, -1]),
        st.integers(),
    )


def _event_list(valid: bool) -> st.SearchStrategy[list[dict[str, Any]]]:
    """PutLogEvents batches: sorted, near now, small, mostly acceptable."""
    messages = st.one_of(st.sampled_from(MESSAGES), st.text(min_size=1, max_size=50), log_lines)
    stamp = st.one_of(
        st.integers(NOW - HOUR, NOW + HOUR), st.integers(NOW - 15 * 24 * HOUR, NOW + 3 * HOUR)
    )
    stamps = st.lists(stamp, min_size=1, max_size=6).map(sorted)
    sorted_events = stamps.flatmap(
        lambda ts: st.tuples(*[messages for _ in ts]).map(
            lambda ms: [{"timestamp": t, "message": m} for t, m in zip(ts, ms, strict=True)]
        )
    )
    return sorted_events if valid else st.one_of(sorted_events, st.just([]))


@cache
def value_of(shape: Shape, name: str, mode: str, depth: int) -> st.SearchStrategy[Any]:
    """One member's value: valid, or (in ``BROKEN`` mode) also broken or ill-typed."""
    valid = _well_typed(shape, name, True, depth)
    if mode == VALID:
        return valid
    return st.one_of(valid, _well_typed(shape, name, False, depth), ill_typed)


def _mostly(known: list[Any] | None, own: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A known value (a real resource, a meaningful pattern) 3 times in 4, else ``own``."""
    if not known:
        return own
    return st.integers(0, 3).flatmap(lambda n: st.sampled_from(known) if n else own)


def _well_typed(shape: Shape, name: str, valid: bool, depth: int) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    mode = VALID if valid else BROKEN
    known = KNOWN.get(name)
    if kind == "string":
        own = _valid_string(shape) if valid else _broken_string(shape)
        if name in SYNTAX:
            own = st.one_of(SYNTAX[name], own)
        if name == "nextToken":
            own = st.one_of(forged_tokens, own)
        return _mostly(known, own)
    if kind in ("integer", "long"):
        own = _integers(shape, valid)
        return _mostly(known, own) if valid else own
    if kind in ("double", "float"):
        return st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-9, 9))
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        return st.integers(0, 2**40)
    if kind == "list":
        if name == "logEvents":
            return _event_list(valid)
        meta = shape.metadata
        low, high = meta.get("min", 0), meta.get("max", 5)
        member = value_of(shape.member, name + "[]", mode, depth + 1)
        own = st.lists(member, min_size=low, max_size=max(low, min(high, 4)))
        if not valid:
            sizes = [n for n in (low - 1, high + 1) if 0 <= n <= 60]
            if sizes:
                own = st.one_of(
                    own,
                    st.sampled_from(sizes).flatmap(
                        lambda n: st.lists(member, min_size=n, max_size=n)
                    ),
                )
        return _mostly(known, own)
    if kind == "map":
        meta = shape.metadata
        low, high = meta.get("min", 0), meta.get("max", 5)
        keys = (_valid_string if valid else _broken_string)(shape.key)
        values = value_of(shape.value, name + "{}", mode, depth + 1)
        sizes = (low, max(low, min(high, 4))) if valid else (0, min(high + 1, 60))
        return st.dictionaries(keys, values, min_size=sizes[0], max_size=sizes[1])
    if kind == "structure":
        return structure(shape, mode, depth)
    return ill_typed


def structure(shape: Shape, mode: str, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """A structure's members by its shape; BROKEN ones may lack required or add unknown ones."""
    members = {
        member: value_of(member_shape, member, mode, depth + 1)
        for member, member_shape in shape.members.items()
        if depth < 4
    }
    required = [m for m in shape.required_members if m in members]
    optional = {m: s for m, s in members.items() if m not in required}
    body = st.fixed_dictionaries({m: members[m] for m in required}, optional=optional)
    if mode == VALID:
        return body

    @st.composite
    def mangled(draw) -> dict[str, Any]:
        value = draw(body)
        if required and draw(st.booleans()):  # drop a required member
            value.pop(draw(st.sampled_from(required)), None)
        if draw(st.booleans()):  # members the model does not know are ignored
            value[draw(st.text(max_size=10))] = draw(ill_typed)
        return value

    return mangled()


def _b64_json(state: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64), 2**64) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)
# Pagination tokens are opaque strings, but a client can hand back anything: shapes like the
# server's own tokens with values that are out of range or of the wrong type.
forged_tokens = st.one_of(
    st.builds(
        lambda d, digits, s: f"{d}/{digits}{s}",
        st.sampled_from("fb"),
        st.integers(0, 10**56 - 1).map(str),
        st.sampled_from(["", "/s"]),
    ),
    st.fixed_dictionaries(
        {},
        optional={"after": json_values, "t": json_values, "s": json_values, "d": json_values},
    ).map(_b64_json),
    json_values.map(_b64_json),
)

# Text in the filter-pattern language's own alphabet, and known patterns with a piece cut out
# or spliced in, to reach deep into the pattern compiler rather than fail in its lexer.
PATTERN_CHARS = '{}[]()$.=!<>&|"%?-*,_ \\:/^+0123456789eERORxyz\t'


def _splice(pattern: str, at: int, cut: int, insert: str) -> str:
    at = at % (len(pattern) + 1)
    return pattern[:at] + insert + pattern[at + cut :]


filter_patterns = st.one_of(
    st.sampled_from(FILTER_PATTERNS),
    st.text(alphabet=PATTERN_CHARS, max_size=60),
    st.builds(
        _splice,
        st.sampled_from(FILTER_PATTERNS),
        st.integers(0, 60),
        st.integers(0, 8),
        st.text(alphabet=PATTERN_CHARS, max_size=6),
    ),
)
log_lines = st.one_of(
    json_values.map(json.dumps),
    st.lists(
        st.text(alphabet='abc 123"[]-.{}', min_size=1, max_size=6), min_size=1, max_size=8
    ).map(" ".join),
)
SYNTAX: dict[str, st.SearchStrategy[str]] = {
    "filterPattern": filter_patterns,
    "metricValue": st.text(alphabet="$.[]0123abc_-*", max_size=15),
    "logEventMessages[]": log_lines,
}


@st.composite
def requests(draw) -> tuple[str, str, dict[str, Any]]:
    operation = draw(st.sampled_from(OPERATIONS))
    mode = draw(st.sampled_from([VALID, VALID, BROKEN]))
    shape = MODEL.operation_model(operation).input_shape
    body = draw(structure(shape, mode))
    if mode == VALID and "logGroupIdentifier" in shape.members:
        # Exactly one of logGroupName and logGroupIdentifier, or the request cannot succeed.
        if "logGroupName" in body and "logGroupIdentifier" in body:
            del body[draw(st.sampled_from(["logGroupName", "logGroupIdentifier"]))]
        elif "logGroupName" not in body and "logGroupIdentifier" not in body:
            body["logGroupName"] = draw(st.sampled_from(KNOWN["logGroupName"]))
    if operation in DELETIONS and body.get("logGroupName") == TARGET_GROUP:
        body["logGroupName"] = VICTIM_GROUP
    return operation, mode, body


# --- checking answers ---------------------------------------------------------------------------


def conforms(value: Any, shape: Shape, path: str = "") -> str | None:
    """Why ``value`` does not fit ``shape`` (None when it does)."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return f"{path}: expected an object, got {value!r:.80}"
        for key, item in value.items():
            if key not in shape.members:
                return f"{path}.{key}: not in the model"
            if (why := conforms(item, shape.members[key], f"{path}.{key}")) is not None:
                return why
        return None
    if kind == "list":
        if not isinstance(value, list):
            return f"{path}: expected a list, got {value!r:.80}"
        for i, item in enumerate(value):
            if (why := conforms(item, shape.member, f"{path}[{i}]")) is not None:
                return why
        return None
    if kind == "map":
        if not isinstance(value, dict):
            return f"{path}: expected a map, got {value!r:.80}"
        for key, item in value.items():
            if (why := conforms(item, shape.value, f"{path}.{key}")) is not None:
                return why
        return None
    expected = {
        "string": (str,),
        "integer": (int,),
        "long": (int,),
        "boolean": (bool,),
        "double": (int, float),
        "float": (int, float),
        "timestamp": (int, float),
    }.get(kind)
    if expected is None:
        return None
    if not isinstance(value, expected) or (kind != "boolean" and isinstance(value, bool)):
        return f"{path}: expected {kind}, got {value!r:.80}"
    return None


def sign(url: str, operation: str, body: bytes) -> dict[str, str]:
    request = AWSRequest(
        method="POST",
        url=url + "/",
        data=body,
        headers={
            "X-Amz-Target": f"Logs_20140328.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    botocore.auth.SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "logs", "us-east-1").add_auth(
        request
    )
    return dict(request.headers.items())


def check(operation: str, mode: str, response: httpx.Response) -> None:
    status = response.status_code
    assert status < 500, f"{status}: {response.text[:500]}"
    try:
        data = response.json()
    except ValueError:
        raise AssertionError(f"{status}, body not JSON: {response.text[:300]!r}") from None
    model = MODEL.operation_model(operation)
    if status == 200:
        output = model.output_shape
        if output is None:
            assert data == {}, data
        else:
            assert (why := conforms(data, output)) is None, why
        return
    assert 400 <= status < 500, status
    assert isinstance(data, dict) and isinstance(data.get("__type"), str), data
    code = data["__type"]
    assert response.headers.get("x-amzn-errortype") == code
    assert isinstance(data.get("message", ""), str), data
    allowed = GENERIC_ERRORS | {e.name for e in model.error_shapes}
    assert code in allowed, f"{operation} answered {code}, which is not modeled: {data}"
    if mode == VALID:  # every value had the right JSON type
        assert code != "SerializationException", data


@pytest.fixture(scope="module")
def http(server, logs):
    """A keep-alive HTTP client, after creating the resources the requests refer to."""
    for group in (TARGET_GROUP, VICTIM_GROUP):
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName=STREAM)
        logs.put_log_events(
            logGroupName=group,
            logStreamName=STREAM,
            logEvents=[{"timestamp": NOW - 1000 + i, "message": m} for i, m in enumerate(MESSAGES)],
        )
    logs.put_metric_filter(
        logGroupName=TARGET_GROUP,
        filterName=FILTER,
        filterPattern="[ip, user, ..., status, bytes]",
        metricTransformations=[
            {"metricName": "bytes", "metricNamespace": "fuzz", "metricValue": "$bytes"}
        ],
    )
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@settings(
    max_examples=400,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(request=requests())
def test_any_request_gets_a_modeled_answer(server, http, request) -> None:
    operation, mode, body = request
    data = json.dumps(body).encode()
    response = http.post("/", content=data, headers=sign(server.url, operation, data))
    code = response.headers.get("x-amzn-errortype", "")
    event(f"{operation} {response.status_code} {code}".rstrip())
    check(operation, mode, response)


PAGINATED = {
    "DescribeLogGroups": {},
    "DescribeLogStreams": {"logGroupName": TARGET_GROUP},
    "GetLogEvents": {"logGroupName": TARGET_GROUP, "logStreamName": STREAM},
    "FilterLogEvents": {"logGroupName": TARGET_GROUP},
    "DescribeMetricFilters": {},
}


@settings(
    max_examples=200,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)
@given(
    operation=st.sampled_from(sorted(PAGINATED)),
    token=st.one_of(forged_tokens, st.text(min_size=1, max_size=30)),
    start_from_head=st.sampled_from([None, True, False]),
)
def test_any_pagination_token_gets_a_modeled_answer(
    server, http, operation, token, start_from_head
) -> None:
    """Tokens are opaque to clients, so a client can send back anything: never a 5xx."""
    body = PAGINATED[operation] | {"nextToken": token}
    if start_from_head is not None and operation in ("GetLogEvents", "FilterLogEvents"):
        body["startFromHead"] = start_from_head
    data = json.dumps(body).encode()
    response = http.post("/", content=data, headers=sign(server.url, operation, data))
    check(operation, VALID, response)
