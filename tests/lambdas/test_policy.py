"""Resource policies: the documents AddPermission builds and who they let invoke."""

from __future__ import annotations

from typing import Any

import pytest

from logsieve.errors import ServiceError
from logsieve.lambdas import policy

FN = "arn:aws:lambda:us-east-1:123456789012:function:f"
GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:/app/web:*"
LOGS = ("logs.amazonaws.com", "logs.us-east-1.amazonaws.com")


def permit(**params: Any) -> dict[str, Any]:
    base = {
        "StatementId": "s1",
        "Action": "lambda:InvokeFunction",
        "Principal": "logs.amazonaws.com",
    }
    return policy.add(None, policy.statement({**base, **params}, FN))


def test_statement_shape() -> None:
    document = permit(SourceArn="arn:aws:logs:us-east-1:123456789012:log-group:*",
                      SourceAccount="123456789012")  # fmt: skip
    assert document == {
        "Version": "2012-10-17",
        "Id": "default",
        "Statement": [
            {
                "Sid": "s1",
                "Effect": "Allow",
                "Principal": {"Service": "logs.amazonaws.com"},
                "Action": "lambda:InvokeFunction",
                "Resource": FN,
                "Condition": {
                    "StringEquals": {"AWS:SourceAccount": "123456789012"},
                    "ArnLike": {"AWS:SourceArn": "arn:aws:logs:us-east-1:123456789012:log-group:*"},
                },
            }
        ],
    }
    assert policy.dumps(document).startswith('{"Version":"2012-10-17","Id":"default"')


@pytest.mark.parametrize(
    ("principal", "shown"),
    [
        ("*", "*"),
        ("123456789012", {"AWS": "arn:aws:iam::123456789012:root"}),
        ("arn:aws:iam::123456789012:role/r", {"AWS": "arn:aws:iam::123456789012:role/r"}),
        ("s3.amazonaws.com", {"Service": "s3.amazonaws.com"}),
    ],
)
def test_principals(principal: str, shown: Any) -> None:
    assert permit(Principal=principal)["Statement"][0]["Principal"] == shown


def test_duplicate_sid_conflicts_and_remove() -> None:
    document = permit()
    with pytest.raises(ServiceError) as info:
        policy.add(document, policy.statement(
            {"StatementId": "s1", "Action": "lambda:*", "Principal": "*"}, FN))  # fmt: skip
    assert (info.value.code, info.value.status) == ("ResourceConflictException", 409)
    assert info.value.message == (
        "The statement id (s1) provided already exists. Please provide a new statement id, "
        "or remove the existing statement."
    )
    with pytest.raises(ServiceError) as missing:
        policy.remove(document, "nope")
    assert missing.value.message == "Statement nope is not found in resource policy."
    assert policy.remove(document, "s1") is None
    assert len(document["Statement"]) == 1  # the input is not modified


def test_policy_size_limit() -> None:
    document = permit()
    with pytest.raises(ServiceError) as info:
        for n in range(200):
            document = policy.add(document, policy.statement(
                {"StatementId": f"s{n + 2}", "Action": "lambda:InvokeFunction",
                 "Principal": "logs.amazonaws.com", "SourceArn": "arn:aws:logs:" + "x" * 100},
                FN))  # fmt: skip
    assert info.value.code == "PolicyLengthExceededException"


@pytest.mark.parametrize(
    ("params", "source", "allowed"),
    [
        ({}, GROUP, True),
        ({"Principal": "logs.us-east-1.amazonaws.com"}, GROUP, True),
        ({"Principal": "logs.eu-west-1.amazonaws.com"}, GROUP, False),
        ({"Principal": "s3.amazonaws.com"}, GROUP, False),
        ({"Principal": "*"}, GROUP, True),
        ({"Action": "lambda:*"}, GROUP, True),
        ({"Action": "lambda:GetFunction"}, GROUP, False),
        ({"SourceArn": "arn:aws:logs:us-east-1:123456789012:log-group:*"}, GROUP, True),
        ({"SourceArn": "arn:aws:logs:us-east-1:123456789012:log-group:/app/*"}, GROUP, True),
        ({"SourceArn": "arn:aws:logs:us-east-1:123456789012:log-group:/other/*"}, GROUP, False),
        ({"SourceArn": "arn:aws:logs:us-east-1:123456789012:log-group:/app/we?:*"}, GROUP, True),
        ({"SourceArn": GROUP}, GROUP, True),
        ({"SourceArn": "arn:aws:logs:*:*:log-group:*"}, GROUP, True),
        ({"SourceAccount": "123456789012"}, GROUP, True),
        ({"SourceAccount": "999999999999"}, GROUP, False),
        ({"EventSourceToken": "t"}, GROUP, False),  # a condition that is not about CWL
    ],
)
def test_allows_logs(params: dict[str, Any], source: str, allowed: bool) -> None:
    document = permit(**params)
    assert policy.allows_service(document, LOGS, source, "123456789012") is allowed


def test_no_policy_allows_nothing() -> None:
    assert not policy.allows_service(None, LOGS, GROUP, "123456789012")


def test_hand_written_statements() -> None:
    document = {
        "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "*"},
            {"Effect": "Allow", "Principal": {"Service": ["sns.amazonaws.com", LOGS[0]]},
             "Action": ["lambda:InvokeFunction"],
             "Condition": {"StringLike": {"aws:SourceArn": ["arn:aws:logs:*:*:log-group:/x*",
                                                            "arn:aws:logs:*:*:log-group:/app*"]}}},
        ]
    }  # fmt: skip
    assert policy.allows_service(document, LOGS, GROUP, None)
    assert not policy.allows_service(document, LOGS, GROUP.replace("/app", "/zzz"), None)
