"""Subscription filters delivering to a Lambda-style handler, end to end with boto3."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import botocore.exceptions
import pytest

from tests.server import ACCESS_KEY, SECRET_KEY
from tests.waiting import wait_for

from .harness import ACCOUNT, Setup, function_arn, put, start

FLOW = (
    "2 123456789012 eni-0a1b2c3d4e5f60718 {src} 10.0.1.5 {sport} {dport} 6 3 180 "
    "1700000000 1700000060 {action} OK"
)
FLOW_PATTERN = (
    "[version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport, protocol, "
    "packets, bytes, start, end, action = REJECT, log_status]"
)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):
    running = start(tmp_path_factory.mktemp("lambda-delivery"))
    yield running
    running.server.stop()


def make_group(setup: Setup, group: str, *streams: str):
    logs = setup.logs()
    logs.create_log_group(logGroupName=group)
    for stream in streams:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    return logs


def test_payload_is_exactly_what_aws_sends(setup: Setup) -> None:
    group = "/vpc/flow-exact"
    logs = make_group(setup, group, "eni-a-all", "eni-b-all")
    logs.put_subscription_filter(
        logGroupName=group, filterName="rejects", filterPattern=FLOW_PATTERN,
        destinationArn=function_arn(),
    )  # fmt: skip
    put(logs, group, "eni-a-all", [
        FLOW.format(src="198.51.100.7", sport=4444, dport=23, action="REJECT"),
        FLOW.format(src="198.51.100.8", sport=5555, dport=443, action="ACCEPT"),
        FLOW.format(src="198.51.100.9", sport=6666, dport=22, action="REJECT"),
    ])  # fmt: skip
    put(logs, group, "eni-b-all", [FLOW.format(src="192.0.2.1", sport=1, dport=3389,
                                               action="REJECT")])  # fmt: skip
    payloads = wait_for(
        lambda: [p for p in setup.received() if p["logGroup"] == group and
                 sum(len(q["logEvents"]) for q in setup.received() if q["logGroup"] == group) >= 3],
        what="three rejected flows",
    )  # fmt: skip
    stored = logs.filter_log_events(logGroupName=group, filterPattern=FLOW_PATTERN)["events"]
    ids = {e["message"]: e["eventId"] for e in stored}
    for payload in payloads:
        assert list(payload) == [
            "messageType", "owner", "logGroup", "logStream", "subscriptionFilters", "logEvents",
        ]  # fmt: skip
        assert payload["messageType"] == "DATA_MESSAGE"
        assert payload["owner"] == ACCOUNT
        assert payload["subscriptionFilters"] == ["rejects"]
        for event in payload["logEvents"]:
            assert list(event) == ["id", "timestamp", "message", "extractedFields"]
            assert event["id"] == ids[event["message"]]
            assert int(event["id"]) >> 144 == event["timestamp"]
            fields = event["extractedFields"]
            assert fields["action"] == "REJECT"
            assert " ".join(fields.values()) == event["message"]
    by_stream = {p["logStream"]: [e["message"] for e in p["logEvents"]] for p in payloads}
    assert sorted(by_stream) == ["eni-a-all", "eni-b-all"]  # one payload never mixes streams
    assert [m.split()[3] for m in by_stream["eni-a-all"]] == ["198.51.100.7", "198.51.100.9"]


def test_json_pattern_has_no_extracted_fields(setup: Setup) -> None:
    group = "/vpn/json"
    logs = make_group(setup, group, "cvpn-endpoint-0123-ap-northeast-1-2024/01/01-abcdef")
    logs.put_subscription_filter(
        logGroupName=group, filterName="connected",
        filterPattern='{ $.connection-attempt-status = "successful" }',
        destinationArn=function_arn(),
    )  # fmt: skip
    records = [
        {"connection-id": "cvpn-connection-1", "connection-attempt-status": "successful"},
        {"connection-id": "cvpn-connection-2", "connection-attempt-status": "failed"},
    ]
    put(logs, group, "cvpn-endpoint-0123-ap-northeast-1-2024/01/01-abcdef",
        [json.dumps(r) for r in records])  # fmt: skip
    (payload,) = wait_for(lambda: [p for p in setup.received() if p["logGroup"] == group])
    (event,) = payload["logEvents"]
    assert list(event) == ["id", "timestamp", "message"]
    assert json.loads(event["message"])["connection-id"] == "cvpn-connection-1"


def test_two_filters_each_deliver_with_their_own_name(setup: Setup) -> None:
    group = "/app/two-filters"
    logs = make_group(setup, group, "s")
    for name, pattern in (("errors", "ERROR"), ("everything", "")):
        logs.put_subscription_filter(logGroupName=group, filterName=name, filterPattern=pattern,
                                     destinationArn=function_arn())  # fmt: skip
    put(logs, group, "s", ["INFO starting", "ERROR disk full"])
    wait_for(
        lambda: sum(len(p["logEvents"]) for p in setup.received() if p["logGroup"] == group) == 3,
        what="1 + 2 events",
    )
    by_filter: dict[str, list[str]] = {}
    for payload in setup.received():
        if payload["logGroup"] == group:
            (name,) = payload["subscriptionFilters"]
            by_filter.setdefault(name, []).extend(e["message"] for e in payload["logEvents"])
    assert by_filter == {"errors": ["ERROR disk full"],
                         "everything": ["INFO starting", "ERROR disk full"]}  # fmt: skip


def test_an_updated_filter_delivers_with_its_new_pattern(setup: Setup) -> None:
    """The update restarts the filter's pump under the same name (and the same lease)."""
    group = "/app/updated"
    logs = make_group(setup, group, "s")
    for pattern in ("ERROR", "FATAL"):
        logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern=pattern,
                                     destinationArn=function_arn())  # fmt: skip
    put(logs, group, "s", ["ERROR old pattern", "FATAL new pattern"])
    wait_for(lambda: any(p["logGroup"] == group for p in setup.received()), what="a delivery")
    messages = [e["message"] for p in setup.received() if p["logGroup"] == group
                for e in p["logEvents"]]  # fmt: skip
    assert messages == ["FATAL new pattern"]


def test_only_events_after_the_filter_was_created_are_delivered(setup: Setup) -> None:
    group = "/app/before-after"
    logs = make_group(setup, group, "s")
    put(logs, group, "s", ["before the filter"])
    logs.put_subscription_filter(logGroupName=group, filterName="all", filterPattern="",
                                 destinationArn=function_arn())  # fmt: skip
    put(logs, group, "s", ["after the filter"])
    wait_for(lambda: any(p["logGroup"] == group for p in setup.received()))
    messages = [e["message"] for p in setup.received() if p["logGroup"] == group
                for e in p["logEvents"]]  # fmt: skip
    assert messages == ["after the filter"]


def test_describe_update_delete_and_aws_rules(setup: Setup) -> None:
    group = "/rules/subs"
    logs = make_group(setup, group, "s")
    arn = function_arn()
    logs.put_subscription_filter(logGroupName=group, filterName="b", filterPattern="ERROR",
                                 destinationArn=arn)  # fmt: skip
    logs.put_subscription_filter(logGroupName=group, filterName="a", filterPattern="WARN",
                                 destinationArn=arn, distribution="Random")  # fmt: skip
    # Same name updates in place (does not count against the limit of 2).
    logs.put_subscription_filter(logGroupName=group, filterName="b", filterPattern="FATAL",
                                 destinationArn=arn)  # fmt: skip
    described = logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    assert [(f["filterName"], f["filterPattern"], f["distribution"]) for f in described] == [
        ("a", "WARN", "Random"), ("b", "FATAL", "ByLogStream"),
    ]  # fmt: skip
    assert all(f["logGroupName"] == group and f["destinationArn"] == arn for f in described)
    assert all(isinstance(f["creationTime"], int) and "roleArn" not in f for f in described)
    page = logs.describe_subscription_filters(logGroupName=group, limit=1)
    assert [f["filterName"] for f in page["subscriptionFilters"]] == ["a"]
    rest = logs.describe_subscription_filters(logGroupName=group, nextToken=page["nextToken"])
    assert [f["filterName"] for f in rest["subscriptionFilters"]] == ["b"]
    assert "nextToken" not in rest
    prefixed = logs.describe_subscription_filters(logGroupName=group, filterNamePrefix="b")
    assert [f["filterName"] for f in prefixed["subscriptionFilters"]] == ["b"]

    def error(**kwargs) -> tuple[str, str]:
        params = {"logGroupName": group, "filterName": "c", "filterPattern": "",
                  "destinationArn": arn, **kwargs}  # fmt: skip
        with pytest.raises(botocore.exceptions.ClientError) as failure:
            logs.put_subscription_filter(**params)
        return failure.value.response["Error"]["Code"], failure.value.response["Error"]["Message"]

    assert error() == ("LimitExceededException", "Resource limit exceeded.")
    logs.delete_subscription_filter(logGroupName=group, filterName="a")
    code, message = error(filterPattern='{ $.x = "unclosed }')
    assert code == "InvalidParameterException" and message.startswith("Invalid filter pattern")
    kinesis_arn = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/nowhere"
    assert error(destinationArn=kinesis_arn) == (
        "InvalidParameterException",
        "destinationArn for vendor kinesis cannot be used without roleArn",
    )
    assert error(destinationArn=kinesis_arn, roleArn="arn:aws:iam::123456789012:role/r") == (
        "InvalidParameterException",
        "Could not deliver test message to specified destination. Check if the destination "
        "is valid.",
    )
    assert error(destinationArn=function_arn("missing"))[1].startswith(
        "Could not execute the lambda function."
    )
    assert error(destinationArn="arn:aws:sns:us-east-1:123456789012:topic")[0] == (
        "InvalidParameterException"
    )
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.delete_subscription_filter(logGroupName=group, filterName="a")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.describe_subscription_filters(logGroupName="/no/such/group")
    logs.delete_log_group(logGroupName=group)
    logs.create_log_group(logGroupName=group)
    assert logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"] == []


def test_status_endpoint_and_cli(setup: Setup) -> None:
    group = "/status/group"
    logs = make_group(setup, group, "s")
    logs.put_subscription_filter(logGroupName=group, filterName="all", filterPattern="",
                                 destinationArn=function_arn())  # fmt: skip
    put(logs, group, "s", ["one", "two", "three"])
    env = {"LOGSIEVE_ACCESS_KEY_ID": ACCESS_KEY, "LOGSIEVE_SECRET_ACCESS_KEY": SECRET_KEY,
           "LOGSIEVE_CONFIG": "", "PATH": "/usr/bin:/bin"}  # fmt: skip

    def status() -> dict:
        return next(s for s in _status(setup) if s["logGroupName"] == group)

    mine = wait_for(lambda: (s := status())["deliveredEvents"] == 3 and s, what="3 delivered")
    assert mine["lagEvents"] == 0 and mine["deadLetteredEvents"] == 0
    assert mine["destinationArn"] == function_arn() and mine["lastError"] is None
    table = subprocess.run(
        [sys.executable, "-m", "logsieve", "subscriptions", "--endpoint-url", setup.server.url],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert f"{group} / all" in table and "DELIVERED" in table
    unsigned = subprocess.run(
        [sys.executable, "-m", "logsieve", "subscriptions", "--endpoint-url", setup.server.url],
        env={**env, "LOGSIEVE_SECRET_ACCESS_KEY": "wrong"}, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert unsigned.returncode != 0 and "InvalidSignatureException" in unsigned.stderr


def test_handler_logs_land_in_its_log_group(setup: Setup, tmp_path: Path) -> None:
    logs = setup.logs()
    groups = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/recorder")["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/aws/lambda/recorder"]
    events = logs.filter_log_events(logGroupName="/aws/lambda/recorder",
                                    filterPattern="REPORT")["events"]  # fmt: skip
    assert events and events[0]["message"].startswith("REPORT RequestId: ")


def test_api_deployed_function_needs_the_logs_permission_as_on_aws(setup: Setup) -> None:
    """The AWS setup script: create-function, add-permission for logs, put-subscription-filter."""
    import io
    import zipfile

    from tests.server import client

    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("app.py", (setup.root / "recorder" / "recorder.py").read_text())
    lambdas = client(setup.server, "lambda")
    lambdas.create_function(
        FunctionName="deployed", Runtime="python3.11", Handler="app.handler",
        Role="arn:aws:iam::123456789012:role/lambda", Code={"ZipFile": bundle.getvalue()},
        Environment={"Variables": {"OUT_FILE": str(setup.out_file)}},
    )  # fmt: skip
    group = "/deployed/fn"
    logs = make_group(setup, group, "s")
    arn = function_arn("deployed")
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="",
                                     destinationArn=arn)  # fmt: skip
    assert refused.value.response["Error"]["Message"] == (
        "Could not execute the lambda function. Make sure you have given CloudWatch Logs "
        "permission to execute your function."
    )
    lambdas.add_permission(
        FunctionName="deployed", StatementId="logs", Action="lambda:InvokeFunction",
        Principal="logs.amazonaws.com",
        SourceArn=f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}:*",
    )  # fmt: skip
    logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="",
                                 destinationArn=arn)  # fmt: skip
    put(logs, group, "s", ["through the deployed function"])
    wait_for(lambda: any(p["logGroup"] == group for p in setup.received()))
    # Deleting the function makes further deliveries fail permanently: dead letters.
    lambdas.delete_function(FunctionName="deployed")
    put(logs, group, "s", ["after the function is gone"])
    wait_for(lambda: "no longer exists" in json.dumps(
        [s for s in _status(setup) if s["logGroupName"] == group]), what="dead letter")  # fmt: skip


def _status(setup: Setup) -> list[dict]:
    env = {"LOGSIEVE_ACCESS_KEY_ID": ACCESS_KEY, "LOGSIEVE_SECRET_ACCESS_KEY": SECRET_KEY,
           "LOGSIEVE_CONFIG": "", "PATH": "/usr/bin:/bin"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "logsieve", "subscriptions", "--json",
         "--endpoint-url", setup.server.url],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return json.loads(result.stdout)["subscriptions"]
