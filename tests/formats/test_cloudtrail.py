"""CloudTrail records (src/logsieve/formats/cloudtrail.py)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from logsieve.formats import cloudtrail
from logsieve.formats.cloudtrail import Identity, parse, who

ACCT = "123456789012"


@pytest.fixture(scope="module")
def records(samples: Path) -> list[dict[str, Any]]:
    lines = (samples / "cloudtrail-events.jsonl").read_text().splitlines()
    return [parse(line) for line in lines]


def _first(records: list[dict[str, Any]], **match: str) -> dict[str, Any]:
    for r in records:
        ui = r["userIdentity"]
        if all(ui.get(k) == v for k, v in match.items()):
            return r
    raise AssertionError(f"no sample record with {match}")


def test_every_sample_parses(records: list[dict[str, Any]]) -> None:
    assert len(records) == 80
    for r in records:
        ident = who(r)
        assert isinstance(ident, Identity) and ident.display


def test_counts_match_readme(records: list[dict[str, Any]]) -> None:
    assert sum(cloudtrail.is_read_only(r) for r in records) == 43
    assert sum(not cloudtrail.is_read_only(r) for r in records) == 37
    assert sum(cloudtrail.is_error(r) for r in records) == 11
    # 7 API errors with errorCode + 4 sign-in failures with only errorMessage.
    assert sum("errorCode" in r for r in records) == 7
    logins = [r for r in records if cloudtrail.is_console_login(r)]
    assert len(logins) == 8
    assert all(r["eventVersion"] == "1.05" and "requestID" not in r for r in logins)
    failed = [r for r in logins if cloudtrail.is_error(r)]
    assert len(failed) == 4
    assert all(r["responseElements"] == {"ConsoleLogin": "Failure"} for r in failed)


def test_who_counts_over_the_sample(records: list[dict[str, Any]]) -> None:
    displays = Counter(who(r).display for r in records)
    assert displays == {
        "alice (IAMUser)": 23,
        "ops-admin (IAMUser)": 18,
        "bob via ReadOnlyAccess (AssumedRole, IAM Identity Center)": 10,
        "GitHubActionsDeployRole/gha-run-8812 (AssumedRole)": 19,
        "root": 4,
        "ec2.amazonaws.com (AWSService)": 4,
        "<hidden> (IAMUser)": 2,
    }


def test_who_iam_user(records: list[dict[str, Any]]) -> None:
    ident = who(_first(records, userName="alice", arn=f"arn:aws:iam::{ACCT}:user/alice"))
    assert ident == Identity(
        type="IAMUser",
        name="alice",
        arn=f"arn:aws:iam::{ACCT}:user/alice",
        account_id=ACCT,
        display="alice (IAMUser)",
        principal_id="AIDAEXAMPLEALICE00001",
    )
    ops = who(_first(records, userName="ops-admin"))
    assert (ops.name, ops.type, ops.account_id) == ("ops-admin", "IAMUser", ACCT)
    assert ops.display == "ops-admin (IAMUser)"


def test_who_wrong_password_login_keeps_real_name(records: list[dict[str, Any]]) -> None:
    r = next(
        r
        for r in records
        if r.get("errorMessage") == "Failed authentication"
        and r["userIdentity"]["userName"] == "alice"
    )
    assert "arn" not in r["userIdentity"]
    ident = who(r)
    assert (ident.name, ident.arn, ident.account_id) == ("alice", None, ACCT)
    assert not ident.hidden


def test_who_hidden_user(records: list[dict[str, Any]]) -> None:
    hidden = [r for r in records if r["userIdentity"].get("userName") == cloudtrail.HIDDEN_USER]
    assert len(hidden) == 2
    for r in hidden:
        ident = who(r)
        assert ident.hidden and ident.name is None and ident.type == "IAMUser"
        assert ident.display == "<hidden> (IAMUser)"
        assert ident.account_id == ACCT and ident.principal_id is None
        assert cloudtrail.is_console_login(r) and cloudtrail.is_error(r)


def test_who_assumed_role_session(records: list[dict[str, Any]]) -> None:
    ident = who(
        _first(records, type="AssumedRole", principalId="AROAEXAMPLEGHADEPLOY01:gha-run-8812")
    )
    assert ident.type == "AssumedRole"
    assert ident.name == "GitHubActionsDeployRole/gha-run-8812"
    assert ident.issuer == "GitHubActionsDeployRole"
    assert ident.session_name == "gha-run-8812"
    assert ident.permission_set is None
    assert ident.arn == f"arn:aws:sts::{ACCT}:assumed-role/GitHubActionsDeployRole/gha-run-8812"
    assert ident.account_id == ACCT
    assert ident.display == "GitHubActionsDeployRole/gha-run-8812 (AssumedRole)"


def test_who_identity_center_user_via_assumed_role(records: list[dict[str, Any]]) -> None:
    ident = who(_first(records, type="AssumedRole", principalId="AROAEXAMPLESSOREADONLY:bob"))
    assert ident.session_name == "bob"
    assert ident.issuer == "AWSReservedSSO_ReadOnlyAccess_0123456789abcdef"
    assert ident.name == "AWSReservedSSO_ReadOnlyAccess_0123456789abcdef/bob"
    assert ident.permission_set == "ReadOnlyAccess"
    assert ident.display == "bob via ReadOnlyAccess (AssumedRole, IAM Identity Center)"


def test_who_root(records: list[dict[str, Any]]) -> None:
    ident = who(_first(records, type="Root"))
    assert (ident.type, ident.name, ident.display) == ("Root", "root", "root")
    assert ident.arn == f"arn:aws:iam::{ACCT}:root" and ident.account_id == ACCT


def test_who_aws_service(records: list[dict[str, Any]]) -> None:
    r = _first(records, type="AWSService")
    ident = who(r)
    assert (ident.type, ident.name, ident.invoked_by) == (
        "AWSService",
        "ec2.amazonaws.com",
        "ec2.amazonaws.com",
    )
    assert ident.display == "ec2.amazonaws.com (AWSService)"
    assert ident.arn is None and ident.account_id is None


def _record(user_identity: dict[str, Any]) -> dict[str, Any]:
    return {
        "eventVersion": "1.11",
        "userIdentity": user_identity,
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
    }


@pytest.mark.parametrize(
    ("user_identity", "expected"),
    [
        (  # AssumedRole without sessionIssuer: role and session from the ARN alone.
            {
                "type": "AssumedRole",
                "principalId": "AROAEXAMPLE:deploy",
                "arn": f"arn:aws:sts::{ACCT}:assumed-role/Builder/deploy",
            },
            ("Builder/deploy", "Builder/deploy (AssumedRole)", ACCT),
        ),
        (
            {
                "type": "Root",
                "principalId": ACCT,
                "arn": f"arn:aws:iam::{ACCT}:root",
                "accountId": ACCT,
                "userName": "corp-prod",
            },
            ("root", "root (corp-prod)", ACCT),
        ),
        (
            {
                "type": "FederatedUser",
                "principalId": f"{ACCT}:Carol",
                "arn": f"arn:aws:sts::{ACCT}:federated-user/Carol",
                "accountId": ACCT,
                "accessKeyId": "ASIAEXAMPLE",
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "IAMUser",
                        "principalId": "AIDAEXAMPLEBROKER",
                        "arn": f"arn:aws:iam::{ACCT}:user/token-broker",
                        "accountId": ACCT,
                        "userName": "token-broker",
                    }
                },
            },
            ("Carol", "Carol (FederatedUser via token-broker)", ACCT),
        ),
        (
            {"type": "AWSAccount", "principalId": "AIDAEXAMPLEOTHER", "accountId": "111122223333"},
            ("111122223333", "111122223333 (AWSAccount)", "111122223333"),
        ),
        (
            {
                "type": "AWSAccount",
                "principalId": "AIDAEXAMPLEOTHER",
                "accountId": "111122223333",
                "invokedBy": "s3.amazonaws.com",
            },
            ("111122223333", "111122223333 (AWSAccount via s3.amazonaws.com)", "111122223333"),
        ),
        (
            {
                "type": "IdentityCenterUser",
                "accountId": ACCT,
                "onBehalfOf": {
                    "userId": "94482488-3041-7026-18f3-be45837cd0e4",
                    "identityStoreArn": "arn:aws:identitystore::123456789012:identitystore/d-1",
                },
                "credentialId": "EXAMPLEVHULjJdTUdPJfofVa1sufHDoj7aYcOYcxFVllWR_Whr1fEXAMPLE",
            },
            (
                "94482488-3041-7026-18f3-be45837cd0e4",
                "94482488-3041-7026-18f3-be45837cd0e4 (IdentityCenterUser)",
                ACCT,
            ),
        ),
        (
            {"type": "IdentityCenterUser", "accountId": ACCT, "userName": "dana@example.com"},
            ("dana@example.com", "dana@example.com (IdentityCenterUser)", ACCT),
        ),
        (
            {
                "type": "SAMLUser",
                "principalId": "SampleUkh1i4+ExamplexL/jEvs=:SamlExample",
                "userName": "SamlExample",
                "identityProvider": "bdGOnTesti4+ExamplexL/jEvs=",
            },
            ("SamlExample", "SamlExample (SAMLUser from bdGOnTesti4+ExamplexL/jEvs=)", None),
        ),
        (
            {
                "type": "WebIdentityUser",
                "principalId": "accounts.google.com:1234567890",
                "identityProvider": "accounts.google.com",
            },
            ("1234567890", "1234567890 (WebIdentityUser from accounts.google.com)", None),
        ),
        (
            {
                "type": "Role",
                "principalId": "AROAEXAMPLEROLE",
                "arn": f"arn:aws:iam::{ACCT}:role/service-role/Worker",
                "accountId": ACCT,
            },
            ("Worker", "Worker (Role)", ACCT),
        ),
        (
            {"type": "Unknown", "principalId": "someone"},
            ("someone", "someone (Unknown)", None),
        ),
    ],
    ids=lambda v: v["type"] if isinstance(v, dict) else None,
)
def test_who_constructed_kinds(
    user_identity: dict[str, Any], expected: tuple[str, str, str | None]
) -> None:
    ident = who(_record(user_identity))
    assert ident.type == user_identity["type"]
    assert (ident.name, ident.display, ident.account_id) == expected


def test_who_without_user_identity() -> None:
    ident = who({"eventVersion": "1.11", "eventName": "X", "eventSource": "x.amazonaws.com"})
    assert (ident.type, ident.name, ident.display) == ("Unknown", None, "<unknown> (Unknown)")


def test_helpers() -> None:
    base = _record({"type": "Root"})
    assert not cloudtrail.is_error(base)
    assert cloudtrail.is_error({**base, "errorCode": "AccessDenied"})
    assert cloudtrail.is_error({**base, "errorMessage": "Failed authentication"})
    assert not cloudtrail.is_read_only(base)
    assert cloudtrail.is_read_only({**base, "readOnly": True})
    assert not cloudtrail.is_read_only({**base, "readOnly": False})
    assert not cloudtrail.is_console_login(base)
    assert cloudtrail.is_console_login(
        {**base, "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin"}
    )
    assert not cloudtrail.is_console_login(
        {**base, "eventSource": "signin.amazonaws.com", "eventName": "SwitchRole"}
    )
    assert cloudtrail.log_stream_name(ACCT, "us-east-1") == "123456789012_CloudTrail_us-east-1"


@pytest.mark.parametrize(
    "message",
    [
        "",
        "not json",
        "[]",
        "null",
        '{"Records": []}',
        '{"eventVersion": "1.11", "eventName": "X"}',
        '{"eventName": "X", "eventSource": "x.amazonaws.com"}',
        '{"eventVersion": 1.11, "eventName": "X", "eventSource": "x.amazonaws.com"}',
    ],
)
def test_parse_rejects_non_records(message: str) -> None:
    with pytest.raises(ValueError):
        parse(message)


def test_parse_returns_the_record_as_is(samples: Path) -> None:
    line = (samples / "cloudtrail-events.jsonl").read_text().splitlines()[0]
    assert parse(line) == json.loads(line)
