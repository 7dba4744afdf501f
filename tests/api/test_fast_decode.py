"""The PutLogEvents shortcut (``api.fast_decode``) answers exactly as the generic path does.

The generic path (orjson, then the model walk) is the oracle: for any body, valid or not, the
protocol with the shortcut must return the same parameters or raise the same AWS error as the
protocol without it.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logsieve.api.awsjson import JsonProtocol
from logsieve.elements import CheckedList, column
from logsieve.errors import ServiceError

from .plain import plain


@pytest.fixture(scope="module")
def fast() -> JsonProtocol:
    return JsonProtocol("logs", validation_error_code="InvalidParameterException")


@pytest.fixture(scope="module")
def generic(fast: JsonProtocol) -> JsonProtocol:
    proto = copy.copy(fast)
    proto._fast = {}
    return proto


def outcome(proto: JsonProtocol, body: bytes) -> Any:
    try:
        params = proto.parse_request("PutLogEvents", body)
    except ServiceError as error:
        return ("error", error.code, error.status, error.message)
    return ("ok", plain(params))


def test_only_put_log_events_has_a_shortcut(fast: JsonProtocol) -> None:
    assert set(fast._fast) == {"PutLogEvents"}


def test_valid_batch_takes_the_shortcut(fast: JsonProtocol) -> None:
    events = [{"timestamp": 1_700_000_000_000 + i, "message": f"m{i}"} for i in range(5)]
    body = orjson.dumps({"logGroupName": "g", "logStreamName": "s", "logEvents": events})
    params = fast.parse_request("PutLogEvents", body)
    assert type(params["logEvents"]) is CheckedList
    assert column(params["logEvents"], "timestamp") == [e["timestamp"] for e in events]
    assert column(params["logEvents"], "message") == [e["message"] for e in events]
    assert column(events, "message") == [e["message"] for e in events]  # dicts read too


EDGE_BODIES = [
    b'{"logGroupName":"g","logStreamName":"s","logEvents":[]}',
    b'{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":1,"message":"a"}]}',
    b'{"logGroupName":"g","logStreamName":"s","logEvents":[{"message":"a","timestamp":1}]}',
    b'{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":true,"message":"a"}]}',
    b'{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":1.0,"message":"a"}]}',
    b'{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":-1,"message":"a"}]}',
    b'{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":"1","message":"a"}]}',
    b'{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":1,"message":""}]}',
    b'{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":1,"message":null}]}',
    b'{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":1}]}',
    b'{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":1,"message":"a","x":1}]}',
    b'{"logGroupName":"g","logStreamName":"s","logEvents":[null]}',
    b'{"logGroupName":"g","logStreamName":"s","logEvents":null}',
    b'{"logGroupName":"g","logStreamName":"s","logEvents":{}}',
    b'{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":'
    + b"9" * 30
    + b',"message":"a"}]}',
    b'{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":1,"message":"\\ud800"}]}',
    b'{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":1,"message":"\xff"}]}',
    b'{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":1,"message":"\\ud83d\\ude00"}]}',
    b'{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":1,"message":"a"}]} x',
    b'{"logGroupName":123,"logStreamName":"s","logEvents":[{"timestamp":1,"message":"a"}]}',
    b'{"logGroupName":"bad name!","logStreamName":"s","logEvents":[]}',
    b'{"logGroupName":null,"logStreamName":"s","logEvents":[]}',
    b'{"logGroupName":' + b"9" * 30 + b',"logStreamName":"s","logEvents":[]}',
    b'{"logStreamName":"s","logEvents":[{"timestamp":1,"message":"a"}]}',
    b'{"logGroupName":"g","logStreamName":"s","logEvents":[],"entity":{"keyAttributes":1}}',
    b'{"logGroupName":"g","logStreamName":"s","unknown":[[[[{"a":1}]]]],"logEvents":[]}',
    b'{"logGroupName":"g","logGroupName":"h","logStreamName":"s","logEvents":[]}',
    b'{"logGroupName":"g","logStreamName":"s","logEvents":' + b"[" * 2000 + b"]" * 2000 + b"}",
    b'{"logGroupName":"g","logStreamName":"s","x":' + b"[" * 2000 + b"]" * 2000 + b"}",
    b"[]",
    b"",
    b"null",
    b"\xef\xbb\xbf{}",
]


@pytest.mark.parametrize("body", EDGE_BODIES, ids=range(len(EDGE_BODIES)))
def test_edge_cases_answer_as_the_generic_path(
    fast: JsonProtocol, generic: JsonProtocol, body: bytes
) -> None:
    assert outcome(fast, body) == outcome(generic, body)


def test_too_many_events_are_worded_as_aws_words_them(fast: JsonProtocol) -> None:
    events = [{"timestamp": 1, "message": "m"}] * 10_001
    body = orjson.dumps({"logGroupName": "g", "logStreamName": "s", "logEvents": events})
    with pytest.raises(ServiceError) as info:
        fast.parse_request("PutLogEvents", body)
    assert info.value.message.endswith("Member must have length less than or equal to 10000")
    assert ".InputLogEvent@" in info.value.message


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),  # what orjson writes; beyond: above
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
)
events = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {"timestamp": st.integers(min_value=-5, max_value=2**63 + 5), "message": st.text()}
        ),
        st.dictionaries(st.sampled_from(["timestamp", "message", "other"]), scalars),
        scalars,
    ),
    max_size=6,
)
requests = st.fixed_dictionaries(
    {},
    optional={
        "logGroupName": st.one_of(st.sampled_from(["g", "a/b", "no spaces!"]), scalars),
        "logStreamName": st.one_of(st.just("s"), scalars),
        "logEvents": st.one_of(events, scalars),
        "sequenceToken": scalars,
    },
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests)
def test_any_request_answers_as_the_generic_path(
    fast: JsonProtocol, generic: JsonProtocol, request: dict[str, Any]
) -> None:
    try:
        body = orjson.dumps(request)
    except orjson.JSONEncodeError:  # lone surrogates in generated text: not JSON orjson writes
        return
    assert outcome(fast, body) == outcome(generic, body)
