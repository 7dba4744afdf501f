"""Pagination tokens and shard iterators decode strictly, on the real server: a valid token
with garbage before or after it, an unknown field, a value of the wrong type or any second
spelling is refused with the service's AWS error, and no mutation of a token is ever a 500.

Each kind of token is taken from a real first page, then mutated by hypothesis."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server import Server, client


@dataclass(frozen=True)
class Kind:
    """A token kind: a valid token, how to send one, and the refusal AWS gives."""

    token: str
    send: Callable[[str], Any]
    code: str
    message: Callable[[str], str]  # the exact message for a refused token
    json: bool = True  # base64url JSON (so JSON-level mutations apply)


def _b64(state: Any, raw: bytes | None = None) -> str:
    data = raw if raw is not None else _dumps(state)
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _dumps(state: Any) -> bytes:
    """Compact JSON as the server writes it (stdlib: any int size, unlike orjson)."""
    return json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode()


def _state(token: str) -> Any:
    return orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


@pytest.fixture(scope="module")
def kinds(server: Server) -> Iterator[dict[str, Kind]]:
    logs = client(server, "logs", retries=0)
    kinesis = client(server, "kinesis", retries=0)
    lam = client(server, "lambda", retries=0)
    sns = client(server, "sns", retries=0)
    prefix = f"tokens-{uuid.uuid4().hex[:8]}"
    groups = [f"{prefix}-{i}" for i in range(3)]
    for group in groups:
        logs.create_log_group(logGroupName=group)
    for name in ("a", "b"):
        logs.create_log_stream(logGroupName=groups[0], logStreamName=name)
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=groups[0],
        logStreamName="a",
        logEvents=[{"timestamp": now + i, "message": f"m{i}"} for i in range(3)],
    )
    streams = [f"{prefix}-s{i}" for i in range(2)]
    for stream in streams:
        kinesis.create_stream(StreamName=stream, ShardCount=2)

    def first(call: Callable[..., dict], key: str, **kwargs: Any) -> str:
        token = call(**kwargs).get(key)
        assert token, f"{call.__name__} gave no {key}"
        return token

    logs_invalid = ("InvalidParameterException", lambda _: "The specified nextToken is invalid.")
    shard_iterator = kinesis.get_shard_iterator(
        StreamName=streams[0], ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    yield {
        "DescribeLogGroups": Kind(
            first(logs.describe_log_groups, "nextToken", logGroupNamePrefix=prefix, limit=1),
            lambda t: logs.describe_log_groups(logGroupNamePrefix=prefix, limit=1, nextToken=t),
            *logs_invalid,
        ),
        "DescribeLogStreams": Kind(
            first(logs.describe_log_streams, "nextToken", logGroupName=groups[0], limit=1),
            lambda t: logs.describe_log_streams(logGroupName=groups[0], limit=1, nextToken=t),
            *logs_invalid,
        ),
        "FilterLogEvents": Kind(
            first(logs.filter_log_events, "nextToken", logGroupName=groups[0], limit=1),
            lambda t: logs.filter_log_events(logGroupName=groups[0], limit=1, nextToken=t),
            *logs_invalid,
        ),
        "GetLogEvents": Kind(
            first(
                logs.get_log_events,
                "nextForwardToken",
                logGroupName=groups[0],
                logStreamName="a",
                limit=1,
                startFromHead=True,
            ),
            lambda t: logs.get_log_events(
                logGroupName=groups[0], logStreamName="a", limit=1, nextToken=t
            ),
            *logs_invalid,
            json=False,
        ),
        "ListStreams": Kind(
            first(kinesis.list_streams, "NextToken", Limit=1),
            lambda t: kinesis.list_streams(Limit=1, NextToken=t),
            "InvalidArgumentException",
            lambda t: f"Invalid NextToken: {t}",
        ),
        "ListShards": Kind(
            first(kinesis.list_shards, "NextToken", StreamName=streams[0], MaxResults=1),
            lambda t: kinesis.list_shards(NextToken=t, MaxResults=1),
            "InvalidArgumentException",
            lambda t: f"Invalid NextToken: {t}",
        ),
        "GetRecords": Kind(
            shard_iterator,
            lambda t: kinesis.get_records(ShardIterator=t),
            "InvalidArgumentException",
            lambda _: "Invalid ShardIterator.",
            json=False,
        ),
        "ListTopics": Kind(
            base64.urlsafe_b64encode(b"seq:0").decode(),
            lambda t: sns.list_topics(NextToken=t),
            "InvalidParameter",
            lambda _: "Invalid parameter: NextToken",
            json=False,
        ),
        "ListFunctions": Kind(
            base64.urlsafe_b64encode(b"some-function").decode(),
            lambda t: lam.list_functions(Marker=t),
            "InvalidParameterValueException",
            lambda t: f"Invalid Marker: {t}",
            json=False,
        ),
    }
    for stream in streams:
        kinesis.delete_stream(StreamName=stream)
    for group in groups:
        logs.delete_log_group(logGroupName=group)


KINDS = [
    "DescribeLogGroups",
    "DescribeLogStreams",
    "FilterLogEvents",
    "GetLogEvents",
    "ListStreams",
    "ListShards",
    "GetRecords",
    "ListTopics",
    "ListFunctions",
]
JSON_KINDS = KINDS[:3] + KINDS[4:6]


def _refused(kind: Kind, token: str) -> None:
    with pytest.raises(ClientError) as caught:
        kind.send(token)
    error = caught.value.response["Error"]
    status = caught.value.response["ResponseMetadata"]["HTTPStatusCode"]
    assert (status, error["Code"], error["Message"]) == (400, kind.code, kind.message(token))


def _accepted_or_refused(kind: Kind, token: str) -> None:
    """Never a 5xx: either a page, or exactly the service's refusal."""
    try:
        kind.send(token)
    except ClientError as caught:
        error = caught.response["Error"]
        status = caught.response["ResponseMetadata"]["HTTPStatusCode"]
        assert status < 500, caught.response
        if error["Code"] == kind.code:
            assert error["Message"] == kind.message(token)


@pytest.mark.parametrize("name", KINDS)
def test_the_valid_token_is_accepted(kinds: dict[str, Kind], name: str) -> None:
    kinds[name].send(kinds[name].token)


_garbage = st.text(min_size=1, max_size=12)
property_settings = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("name", KINDS)
@property_settings
@given(garbage=_garbage, before=st.booleans())
def test_garbage_before_or_after_a_token_is_refused(
    kinds: dict[str, Kind], name: str, garbage: str, before: bool
) -> None:
    kind = kinds[name]
    _refused(kind, garbage + kind.token if before else kind.token + garbage)


@pytest.mark.parametrize("name", KINDS)
@property_settings
@given(data=st.data())
def test_any_edit_of_a_token_is_a_page_or_the_aws_error(
    kinds: dict[str, Kind], name: str, data: st.DataObject
) -> None:
    token = kinds[name].token
    at = data.draw(st.integers(0, len(token) - 1))
    char = data.draw(st.characters(codec="utf-8", exclude_categories=("Cs",)))
    edit = data.draw(st.sampled_from(["insert", "replace", "delete"]))
    if edit == "insert":
        mutated = token[:at] + char + token[at:]
    elif edit == "replace":
        mutated = token[:at] + char + token[at + 1 :]
    else:
        mutated = token[:at] + token[at + 1 :]
    if mutated:
        _accepted_or_refused(kinds[name], mutated)


_json_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@pytest.mark.parametrize("name", JSON_KINDS)
@property_settings
@given(field=st.text(min_size=1, max_size=8), value=_json_values)
def test_an_unknown_field_is_refused(
    kinds: dict[str, Kind], name: str, field: str, value: Any
) -> None:
    kind = kinds[name]
    state = _state(kind.token)
    if field in state:
        return
    _refused(kind, _b64({**state, field: value}))


@pytest.mark.parametrize("name", JSON_KINDS)
@property_settings
@given(data=st.data())
def test_a_value_of_the_wrong_type_is_refused(
    kinds: dict[str, Kind], name: str, data: st.DataObject
) -> None:
    kind = kinds[name]
    state = _state(kind.token)
    key = data.draw(st.sampled_from(sorted(state)))
    value = data.draw(_json_values.filter(lambda v: type(v) is not type(state[key])))
    _refused(kind, _b64({**state, key: value}))


@pytest.mark.parametrize("name", JSON_KINDS)
def test_second_spellings_of_a_token_are_refused(kinds: dict[str, Kind], name: str) -> None:
    kind = kinds[name]
    state = _state(kind.token)
    raw = _dumps(state)
    first_key = next(iter(state))
    for spelling in [
        kind.token + "=" * (-len(kind.token) % 4 or 4),  # padding
        base64.b64encode(raw).decode().rstrip("="),  # standard alphabet (+ and /)
        _b64(None, raw.replace(b":", b": ")),  # whitespace
        _b64(None, b" " + raw),
        _b64(None, raw[:-1] + b"," + _dumps({first_key: state[first_key]})[1:]),  # twice
        _b64(None, raw + b"\n"),
        "!" + kind.token,
    ]:
        if spelling != kind.token:
            _refused(kind, spelling)


def test_numbers_beyond_64_bits_are_refused(kinds: dict[str, Kind]) -> None:
    """They would overflow SQLite's integers (a 500) if they reached the store."""
    filter_state = _state(kinds["FilterLogEvents"].token)
    _refused(kinds["FilterLogEvents"], _b64({**filter_state, "s": 2**63}))
    _refused(kinds["ListTopics"], base64.urlsafe_b64encode(f"seq:{2**63}".encode()).decode())
    _refused(kinds["GetLogEvents"], "f/" + "9" * 56 + "/s")
