"""Client VPN connections carry traffic while active and end with AWS's connection-reset
record: when the client leaves, when TerminateClientVpnConnections ends them, and when the
endpoint loses its last target network."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from logsieve.formats import client_vpn as records
from tests.server import ACCESS_KEY, SECRET_KEY, Server, client
from tests.waiting import wait_for

from .test_client_vpn import make
from .test_connect_handler import connect

COUNTERS = ("IngressBytes", "EgressBytes", "IngressPackets", "EgressPackets")


def disconnect(server: Server, endpoint_id: str, body: dict[str, Any]) -> httpx.Response:
    url = f"{server.url}/_logsieve/client-vpn/{endpoint_id}/disconnect"
    data = json.dumps(body).encode()
    request = AWSRequest(method="POST", url=url, data=data,
                         headers={"Content-Type": "application/json"})  # fmt: skip
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "logs", "us-east-1").add_auth(request)
    return httpx.post(url, content=data, headers=dict(request.headers.items()), timeout=60)


@pytest.fixture
def logged(ec2, ec2_server: Server) -> tuple[str, str]:
    """(endpoint id, log group) of an endpoint logging to its own group and stream ``c``."""
    group = f"vpn-{uuid.uuid4().hex[:8]}"
    client(ec2_server, "logs", retries=0).create_log_group(logGroupName=group)
    options = {"Enabled": True, "CloudwatchLogGroup": group, "CloudwatchLogStream": "c"}
    return make(ec2, ConnectionLogOptions=options), group


def log_records(server: Server, group: str) -> list[dict[str, Any]]:
    logs = client(server, "logs", retries=0)
    events = logs.get_log_events(logGroupName=group, logStreamName="c")["events"]
    return [records.parse(event["message"]).fields for event in events]


def connection(ec2, endpoint_id: str, connection_id: str) -> dict[str, Any]:
    [found] = ec2.describe_client_vpn_connections(
        ClientVpnEndpointId=endpoint_id,
        Filters=[{"Name": "connection-id", "Values": [connection_id]}],
    )["Connections"]
    return found


def test_counters_grow_while_connected_and_the_end_is_logged(ec2, ec2_server, logged) -> None:
    endpoint_id, group = logged
    opened = connect(ec2_server, endpoint_id, username="alice", port=50123)
    connection_id = opened["connectionId"]
    first = connection(ec2, endpoint_id, connection_id)
    assert first["Status"] == {"Code": "active"} and first["ConnectionEndTime"] == "-"

    def grown() -> dict[str, Any] | None:
        now = connection(ec2, endpoint_id, connection_id)
        return now if int(now["IngressBytes"]) > int(first["IngressBytes"]) else None

    later = wait_for(grown, what="the counters to grow")
    assert all(int(later[name]) >= int(first[name]) for name in COUNTERS)
    assert int(later["IngressPackets"]) > 0 and all(isinstance(later[n], str) for n in COUNTERS)

    ended = disconnect(ec2_server, endpoint_id, {"connection-id": connection_id})
    assert ended.status_code == 200, ended.text
    final = connection(ec2, endpoint_id, connection_id)
    assert final["Status"] == {"Code": "terminated"} and final["ConnectionEndTime"] != "-"
    assert all(int(final[name]) >= int(later[name]) for name in COUNTERS)

    connected, reset = log_records(ec2_server, group)
    assert connected["connection-log-type"] == "connection-attempt"
    assert reset == ended.json()["record"]
    assert reset["connection-log-type"] == "connection-reset"
    assert reset["connection-attempt-status"] == "NA"
    assert reset["connection-reset-status"] == "NA"
    assert reset["connection-id"] == connection_id and reset["username"] == "alice"
    assert reset["port"] == "50123" and reset["client-ip"] == connected["client-ip"]
    assert reset["connection-start-time"] == connected["connection-start-time"]
    assert reset["connection-end-time"] == final["ConnectionEndTime"]
    assert reset["connection-last-update-time"] == reset["connection-end-time"]
    assert [reset[k] for k in ("ingress-bytes", "egress-bytes", "ingress-packets",
                               "egress-packets")] == [final[n] for n in COUNTERS]  # fmt: skip
    parsed = records.parse(records.to_message(reset))
    assert parsed.is_reset and parsed.end_time is not None
    assert parsed.duration_seconds == int(
        (parsed.end_time - parsed.start_time).total_seconds()
    )  # fmt: skip

    again = disconnect(ec2_server, endpoint_id, {"connection-id": connection_id})
    assert again.status_code == 400
    assert again.json()["error"] == "InvalidClientVpnConnection.IdNotFound"
    bad = disconnect(ec2_server, endpoint_id, {"connection": connection_id})
    assert bad.status_code == 400 and bad.json()["error"] == "InvalidParameterValue"


def test_terminate_ends_connections_with_the_reset_record(ec2, ec2_server, logged) -> None:
    endpoint_id, group = logged
    alice = connect(ec2_server, endpoint_id, username="alice")["connectionId"]
    bob = connect(ec2_server, endpoint_id, username="bob")["connectionId"]
    answer = ec2.terminate_client_vpn_connections(ClientVpnEndpointId=endpoint_id,
                                                  Username="bob")  # fmt: skip
    assert [s["ConnectionId"] for s in answer["ConnectionStatuses"]] == [bob]
    assert answer["ConnectionStatuses"][0]["CurrentStatus"] == {"Code": "terminating"}
    assert connection(ec2, endpoint_id, alice)["Status"] == {"Code": "active"}
    assert connection(ec2, endpoint_id, bob)["Status"] == {"Code": "terminated"}
    resets = [r for r in log_records(ec2_server, group)
              if r["connection-log-type"] == "connection-reset"]  # fmt: skip
    assert [r["connection-id"] for r in resets] == [bob]
    assert resets[0]["connection-end-time"] != "NA"
    assert resets[0]["connection-duration-seconds"].isdigit()


def test_removing_the_last_target_network_disconnects_everyone(
    ec2, ec2_server, logged, vpc
) -> None:
    endpoint_id, group = logged
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    association = ec2.associate_client_vpn_target_network(
        ClientVpnEndpointId=endpoint_id, SubnetId=subnet
    )["AssociationId"]
    opened = connect(ec2_server, endpoint_id, username="carol")["connectionId"]
    ec2.disassociate_client_vpn_target_network(ClientVpnEndpointId=endpoint_id,
                                               AssociationId=association)  # fmt: skip
    assert connection(ec2, endpoint_id, opened)["Status"] == {"Code": "terminated"}
    assert [r["connection-log-type"] for r in log_records(ec2_server, group)] == [
        "connection-attempt", "connection-reset"
    ]  # fmt: skip
