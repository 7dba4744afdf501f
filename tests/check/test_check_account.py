"""``logsieve check`` names the account it checked (sts:GetCallerIdentity) in the table, the
JSON and the SARIF run, and still runs when STS refuses, saying which permission was missing."""

from __future__ import annotations

import json

import boto3
from botocore.stub import Stubber

from logsieve.check import Account, Caller, Result, as_json, sarif, table
from tests.check.conftest import run_check
from tests.server import ACCESS_KEY, SECRET_KEY

KEYS = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
USER = "arn:aws:iam::123456789012:user/logsieve"  # the test key has no user_name


def test_the_table_json_and_sarif_name_the_account(server) -> None:
    only = "--check=LS-TRAIL-1"
    shown = run_check(server.url, only, env=KEYS)
    assert shown.output.splitlines()[0] == f"account: 123456789012 as {USER}"
    # The fix names the real account instead of a placeholder.
    assert "arn:aws:logs:us-east-1:123456789012:log-group:cloudtrail:*" in shown.output
    assert "<account>" not in shown.output
    document = json.loads(run_check(server.url, "--json", only, env=KEYS).output)
    caller_id = document["account"]["user_id"]
    assert caller_id.startswith("AIDA")
    assert document["account"] == {
        "account": "123456789012", "arn": USER, "user_id": caller_id, "unknown": "",
    }  # fmt: skip
    assert [r["id"] for r in document["results"]] == ["LS-TRAIL-1"]
    run = json.loads(run_check(server.url, "--output=sarif", only, env=KEYS).output)["runs"][0]
    assert run["properties"] == {
        "account": "123456789012", "callerArn": USER, "callerUserId": caller_id,
    }  # fmt: skip


def _stubbed_account(code: str, message: str, status: int) -> tuple[Account, Stubber]:
    session = boto3.Session(
        aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="x", region_name="us-east-1"
    )
    account = Account(session, "us-east-1")
    stubber = Stubber(account.client("sts"))  # real AWS's refusal, as botocore parses it
    stubber.add_client_error("get_caller_identity", code, message, status)
    stubber.activate()
    return account, stubber


def test_a_refused_identity_read_leaves_the_account_unknown_naming_the_permission() -> None:
    account, stubber = _stubbed_account(
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/x is not authorized to perform: "
        "sts:GetCallerIdentity with an explicit deny in a service control policy",
        403,
    )
    caller = account.caller()
    stubber.assert_no_pending_responses()
    assert caller.account == "" and account.account_id == ""
    assert caller.unknown.startswith("missing permission sts:GetCallerIdentity (")
    assert "explicit deny" in caller.unknown
    result = Result("LS-X", "a check", "low", "why", "pass", "us-east-1")
    assert table([result], caller).splitlines()[0] == f"account: unknown ({caller.unknown})"
    assert json.loads(as_json([result], caller))["account"]["unknown"] == caller.unknown
    run = json.loads(sarif([result], "1", caller))["runs"][0]
    assert run["properties"] == {"accountUnknown": caller.unknown}


def test_an_endpoint_without_sts_leaves_the_account_unknown() -> None:
    account, _ = _stubbed_account("InvalidAction", "Could not find operation", 400)
    caller = account.caller()
    assert caller == Caller(unknown="sts:GetCallerIdentity is not offered by this endpoint")
