"""STS GetCallerIdentity on the server, through boto3 and the aws CLI: the principal of the
signing key, the same one CloudTrail records for its calls (and records this call as)."""

from __future__ import annotations

import json
import os

import botocore.exceptions
import httpx
import pytest

from tests.cloudtrail.conftest import ACCOUNT, ALICE_KEY, ALICE_SECRET, make_client
from tests.e2e.helpers import AwsCli
from tests.server import ACCESS_KEY, SECRET_KEY
from tests.waiting import wait_for


def test_a_named_key_is_its_iam_user(ct_server) -> None:
    sts = make_client(ct_server, "sts", ALICE_KEY, ALICE_SECRET)
    answer = sts.get_caller_identity()
    assert answer["Account"] == ACCOUNT
    assert answer["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert answer["UserId"].startswith("AIDA") and len(answer["UserId"]) == 21
    assert answer["ResponseMetadata"]["HTTPHeaders"]["content-type"].startswith("text/xml")
    assert sts.get_caller_identity()["UserId"] == answer["UserId"]  # stable


def test_a_key_without_a_user_name_is_the_logsieve_user(ct_server) -> None:
    answer = make_client(ct_server, "sts", ACCESS_KEY, SECRET_KEY).get_caller_identity()
    assert (answer["Account"], answer["Arn"]) == (ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/logsieve")
    assert answer["UserId"].startswith("AIDA")


def test_the_answer_is_awss_xml(ct_server) -> None:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = "Action=GetCallerIdentity&Version=2011-06-15"
    request = AWSRequest(
        "POST", ct_server.url + "/", data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )  # fmt: skip
    SigV4Auth(Credentials(ALICE_KEY, ALICE_SECRET), "sts", "us-east-1").add_auth(request)
    answer = httpx.post(ct_server.url + "/", content=body, headers=dict(request.headers))
    assert answer.status_code == 200
    text = answer.text
    assert text.startswith(
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
    )
    assert "<GetCallerIdentityResult>" in text and "<ResponseMetadata>" in text
    assert f"<Arn>arn:aws:iam::{ACCOUNT}:user/alice</Arn>" in text
    assert f"<Account>{ACCOUNT}</Account>" in text


def test_an_unknown_key_is_refused_as_sts_refuses_it(ct_server) -> None:
    sts = make_client(ct_server, "sts", "AKIANOBODY0000000000", "nope")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        sts.get_caller_identity()
    assert excinfo.value.response["Error"]["Code"] == "InvalidClientTokenId"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_calls_are_recorded_in_cloudtrail_as_read_events(ct_server, trail_client) -> None:
    make_client(ct_server, "sts", ACCESS_KEY, SECRET_KEY).get_caller_identity()

    def own_call() -> list:
        events = trail_client.lookup_events(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetCallerIdentity"}]
        )["Events"]
        return [e for e in events if e.get("Username") == "logsieve"]

    event = wait_for(own_call, what="GetCallerIdentity in LookupEvents")[0]
    assert event["EventSource"] == "sts.amazonaws.com" and event["ReadOnly"] == "true"
    record = json.loads(event["CloudTrailEvent"])
    assert record["userIdentity"]["type"] == "IAMUser"
    assert record["userIdentity"]["arn"] == f"arn:aws:iam::{ACCOUNT}:user/logsieve"


def test_the_aws_cli_asks_who_it_is(ct_server, tmp_path) -> None:
    (tmp_path / "config").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=ALICE_KEY, AWS_SECRET_ACCESS_KEY=ALICE_SECRET,
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "config"),
        AWS_EC2_METADATA_DISABLED="true", HOME=str(tmp_path),
    )  # fmt: skip
    answer = AwsCli(ct_server, env, "sts")("get-caller-identity")
    assert answer["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert answer["Account"] == ACCOUNT
