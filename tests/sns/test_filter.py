"""Subscription filter policies, matched against attributes and bodies as AWS documents."""

from __future__ import annotations

import json
from typing import Any

import pytest

from logsieve.errors import ServiceError
from logsieve.sns.filter import FilterPolicy, FilterPolicyError, compile_policy


def s(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def n(value: str) -> dict[str, str]:
    return {"DataType": "Number", "StringValue": value}


def arr(*values: Any) -> dict[str, str]:
    return {"DataType": "String.Array", "StringValue": json.dumps(list(values))}


def matches(policy: dict[str, Any], attributes: dict[str, Any]) -> bool:
    return FilterPolicy(json.dumps(policy)).matches(attributes, "")


@pytest.mark.parametrize(
    ("policy", "attributes", "expected"),
    [
        ({"severity": ["high", "critical"]}, {"severity": s("high")}, True),
        ({"severity": ["high", "critical"]}, {"severity": s("low")}, False),
        ({"severity": ["high"]}, {}, False),
        ({"severity": ["high"], "env": ["prod"]}, {"severity": s("high")}, False),
        ({"severity": ["high"], "env": ["prod"]}, {"severity": s("high"), "env": s("prod")}, True),
        ({"port": [23]}, {"port": n("23")}, True),
        ({"port": [23]}, {"port": n("23.0")}, True),
        ({"port": [23]}, {"port": s("23")}, False),  # a String never matches a number
        ({"port": ["23"]}, {"port": n("23")}, False),  # nor a Number a string
        ({"port": [{"numeric": [">=", 20, "<", 25]}]}, {"port": n("23")}, True),
        ({"port": [{"numeric": [">=", 20, "<", 25]}]}, {"port": n("25")}, False),
        ({"port": [{"numeric": ["=", 22]}]}, {"port": n("22")}, True),
        ({"src": [{"prefix": "110.53."}]}, {"src": s("110.53.1.2")}, True),
        ({"src": [{"suffix": ".2"}]}, {"src": s("110.53.1.3")}, False),
        ({"user": [{"equals-ignore-case": "ALICE"}]}, {"user": s("alice")}, True),
        ({"env": [{"anything-but": ["test", "dev"]}]}, {"env": s("prod")}, True),
        ({"env": [{"anything-but": ["test", "dev"]}]}, {"env": s("dev")}, False),
        ({"env": [{"anything-but": "dev"}]}, {}, False),
        ({"env": [{"anything-but": {"prefix": "de"}}]}, {"env": s("dev")}, False),
        ({"env": [{"exists": True}]}, {"env": s("x")}, True),
        ({"env": [{"exists": False}]}, {}, True),
        ({"env": [{"exists": False}]}, {"env": s("x")}, False),
        ({"tags": ["red"]}, {"tags": arr("blue", "red")}, True),
        ({"tags": ["red"]}, {"tags": arr("blue")}, False),
        ({"ip": [{"cidr": "10.0.0.0/8"}]}, {"ip": s("10.1.2.3")}, True),
        ({"ip": [{"cidr": "10.0.0.0/8"}]}, {"ip": s("11.1.2.3")}, False),
        ({"$or": [{"a": ["1"]}, {"b": ["2"]}]}, {"b": s("2")}, True),
        ({"$or": [{"a": ["1"]}, {"b": ["2"]}]}, {"c": s("2")}, False),
        ({"bin": ["x"]}, {"bin": {"DataType": "Binary", "BinaryValue": b"x"}}, False),
    ],
)
def test_attribute_policies(policy: dict[str, Any], attributes: dict[str, Any], expected: bool):
    assert matches(policy, attributes) is expected


def test_message_body_scope_nests() -> None:
    policy = FilterPolicy(
        json.dumps({"detail": {"action": ["StopLogging"], "port": [{"numeric": [">", 10]}]}}),
        "MessageBody",
    )
    body = json.dumps({"detail": {"action": "StopLogging", "port": 23}})
    assert policy.matches({}, body)
    assert not policy.matches({}, json.dumps({"detail": {"action": "Start", "port": 23}}))
    assert not policy.matches({}, "not json")


@pytest.mark.parametrize(
    ("text", "scope", "reason"),
    [
        ("{not json", "MessageAttributes", "failed to parse JSON."),
        ('{"a": {"b": ["c"]}}', "MessageAttributes", "does not support nested filter policy"),
        ('{"a": "b"}', "MessageAttributes", '"a" must be an object or an array'),
        ('{"a": [{"exists": "yes"}]}', "MessageAttributes", "exists match pattern"),
        ('{"a": [{"numeric": ["~", 1]}]}', "MessageAttributes", "Unrecognized numeric range"),
        ('{"a": [{"wildcard": "x"}]}', "MessageAttributes", "Unrecognized match type wildcard"),
        (json.dumps({k: ["x"] for k in "abcdef"}), "MessageAttributes", "more than 5 keys"),
    ],
)
def test_invalid_policies(text: str, scope: str, reason: str) -> None:
    with pytest.raises(FilterPolicyError, match=reason):
        FilterPolicy(text, scope)


def test_compile_policy_words_errors_like_aws() -> None:
    assert compile_policy("", "MessageAttributes", "") is None
    assert compile_policy("{}", "MessageAttributes", "") is None
    with pytest.raises(ServiceError) as raised:
        compile_policy("{bad", "MessageAttributes", "Attributes Reason: ")
    assert raised.value.message == (
        "Invalid parameter: Attributes Reason: FilterPolicy: failed to parse JSON."
    )
