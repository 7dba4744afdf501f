"""The client connect handler: a real Lambda function on the real server decides each
simulated connection attempt, and the connection log shows what it decided."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from logsieve.formats import client_vpn as records
from tests.lambdas.helpers import ROLE, make_zip
from tests.server import ACCESS_KEY, SECRET_KEY, Server, client
from tests.waiting import wait_for

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f6b8e1e-1111-2222-3333-444455556666"
AUTH = [{"Type": "certificate-authentication",
         "MutualAuthentication": {"ClientRootCertificateChainArn": CERT}}]  # fmt: skip
# Allows alice, denies the others with a message, and prints every request it gets (so the
# test reads the fields Client VPN sent from the function's own log group).
DECIDING = """
import json

def handler(event, context):
    print("REQUEST " + json.dumps(event))
    allowed = event["username"] in ("alice",)
    return {"allow": allowed, "error-msg-on-denied-connection": "" if allowed else
            "user " + event["username"] + " is not on the allow-list",
            "posture-compliance-statuses": [], "schema-version": "v3"}
"""
MALFORMED = """
def handler(event, context):
    return "yes please"
"""
RAISING = """
def handler(event, context):
    raise RuntimeError("boom")
"""


def connect(server: Server, endpoint_id: str, **attempt: Any) -> dict[str, Any]:
    url = f"{server.url}/_logsieve/client-vpn/{endpoint_id}/connect"
    body = json.dumps(attempt).encode()
    request = AWSRequest(method="POST", url=url, data=body,
                         headers={"Content-Type": "application/json"})  # fmt: skip
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "logs", "us-east-1").add_auth(request)
    response = httpx.post(url, content=body, headers=dict(request.headers.items()), timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def lam(ec2_server: Server):
    return client(ec2_server, "lambda", retries=0)


@pytest.fixture(scope="module")
def logs(ec2_server: Server):
    return client(ec2_server, "logs", retries=0)


def function(lam, code: str) -> str:
    name = f"AWSClientVPN-{uuid.uuid4().hex[:8]}"
    return lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": code})},
    )["FunctionArn"]  # fmt: skip


def endpoint(ec2, arn: str | None, group: str | None) -> str:
    logging = {"Enabled": True, "CloudwatchLogGroup": group} if group else {"Enabled": False}
    extra = {"ClientConnectOptions": {"Enabled": True, "LambdaFunctionArn": arn}} if arn else {}
    return ec2.create_client_vpn_endpoint(
        ClientCidrBlock="10.200.0.0/22", ServerCertificateArn=CERT, AuthenticationOptions=AUTH,
        ConnectionLogOptions=logging, **extra,
    )["ClientVpnEndpointId"]  # fmt: skip


def logged(logs, group: str, stream: str) -> list[dict[str, Any]]:
    events = logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]
    return [records.parse(e["message"]).fields for e in events]


def test_handler_allows_and_denies_with_its_reason_in_the_connection_log(
    ec2, ec2_server, lam, logs
) -> None:
    group = f"vpn-{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=group)
    endpoint_id = endpoint(ec2, function(lam, DECIDING), group)
    [shown] = ec2.describe_client_vpn_endpoints(ClientVpnEndpointIds=[endpoint_id])[
        "ClientVpnEndpoints"
    ]
    assert shown["ClientConnectOptions"]["Status"] == {"Code": "applied"}

    alice = connect(ec2_server, endpoint_id, username="alice", **{"public-ip": "203.0.113.9"})
    bob = connect(ec2_server, endpoint_id, username="bob")
    assert alice["allowed"] is True and alice["reason"] == "NA"
    assert bob["allowed"] is False
    assert bob["reason"] == "user bob is not on the allow-list"

    stream = alice["logStream"]
    assert stream.startswith(f"{endpoint_id}-us-east-1-") and bob["logStream"] == stream
    first, second = logged(logs, group, stream)
    assert first["connection-attempt-status"] == "successful"
    assert first["username"] == "alice" and first["device-ip"] == "203.0.113.9"
    assert second["connection-attempt-status"] == "failed"
    assert second["connection-attempt-failure-reason"] == "user bob is not on the allow-list"

    connections = ec2.describe_client_vpn_connections(ClientVpnEndpointId=endpoint_id)[
        "Connections"
    ]
    assert [c["ConnectionId"] for c in connections] == [alice["connectionId"]]
    assert connections[0]["Status"] == {"Code": "active"}
    assert connections[0]["ConnectionEndTime"] == "-"


def test_the_handler_gets_awss_request_fields(ec2, ec2_server, lam, logs) -> None:
    arn = function(lam, DECIDING)  # prints the request it gets to its own log group
    endpoint_id = endpoint(ec2, arn, None)
    outcome = connect(ec2_server, endpoint_id, username="alice", groups="admins")
    group = f"/aws/lambda/{arn.rsplit(':', 1)[1]}"

    def request() -> dict[str, Any] | None:
        try:
            found = logs.filter_log_events(logGroupName=group, filterPattern='"REQUEST"')
        except ClientError:
            return None
        lines = [e["message"] for e in found["events"]]
        return json.loads(lines[0].split("REQUEST ", 1)[1]) if lines else None

    seen = wait_for(request, what="the handler's log line")
    assert seen == {
        "connection-id": outcome["connectionId"], "endpoint-id": endpoint_id,
        "common-name": "client1", "username": "alice", "platform": "mac",
        "platform-version": "14.4.1", "public-ip": "198.51.100.7",
        "client-openvpn-version": "2.6.8", "aws-client-version": "4.1.0",
        "groups": "admins", "schema-version": "v3",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("code", "reason"),
    [(MALFORMED, "client-connect-handler-invalid-response"),
     (RAISING, "client-connect-handler-other-execution-error")],
)  # fmt: skip
def test_a_malformed_or_failing_handler_denies(ec2, ec2_server, lam, logs, code, reason) -> None:
    group = f"vpn-{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=group)
    endpoint_id = endpoint(ec2, function(lam, code), group)
    outcome = connect(ec2_server, endpoint_id, username="carol")
    assert outcome["allowed"] is False and outcome["reason"] == reason
    [record] = logged(logs, group, outcome["logStream"])
    assert record["connection-attempt-failure-reason"] == reason
    assert ec2.describe_client_vpn_connections(ClientVpnEndpointId=endpoint_id)["Connections"] == []


def test_a_handler_function_that_does_not_exist_denies(ec2, ec2_server) -> None:
    missing = "arn:aws:lambda:us-east-1:123456789012:function:AWSClientVPN-missing"
    endpoint_id = endpoint(ec2, missing, None)
    outcome = connect(ec2_server, endpoint_id, username="dave")
    assert outcome["allowed"] is False and outcome["logStream"] is None


def test_without_a_handler_every_attempt_connects_and_terminate_ends_it(ec2, ec2_server) -> None:
    endpoint_id = endpoint(ec2, None, None)
    first = connect(ec2_server, endpoint_id, username="erin")
    connect(ec2_server, endpoint_id, username="frank")
    assert first["allowed"] is True
    ended = ec2.terminate_client_vpn_connections(ClientVpnEndpointId=endpoint_id, Username="erin")
    assert ended["ConnectionStatuses"] == [
        {"ConnectionId": first["connectionId"], "PreviousStatus": {"Code": "active"},
         "CurrentStatus": {"Code": "terminating"}}
    ]  # fmt: skip
    listed = ec2.describe_client_vpn_connections(
        ClientVpnEndpointId=endpoint_id, Filters=[{"Name": "username", "Values": ["erin"]}]
    )["Connections"]
    assert [c["Status"]["Code"] for c in listed] == ["terminated"]
    with pytest.raises(ClientError):
        ec2.terminate_client_vpn_connections(
            ClientVpnEndpointId=endpoint_id, ConnectionId=first["connectionId"]
        )


def test_logging_to_a_group_that_does_not_exist_loses_the_records(ec2, ec2_server, logs) -> None:
    group = f"gone-{uuid.uuid4().hex[:8]}"  # Client VPN does not create the group
    endpoint_id = endpoint(ec2, None, group)
    outcome = connect(ec2_server, endpoint_id, username="gina")
    assert outcome["allowed"] is True
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []
