"""Client VPN connection-log records (src/logsieve/formats/client_vpn.py)."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from logsieve.formats import client_vpn
from logsieve.formats.client_vpn import FIELDS, ConnectionRecord, parse, to_message

SAML_ENDPOINT = "cvpn-endpoint-0a1b2c3d4e5f67890"
CERT_ENDPOINT = "cvpn-endpoint-0f9e8d7c6b5a43210"


@pytest.fixture(scope="module")
def lines(samples: Path) -> list[str]:
    return (samples / "client-vpn-connections.jsonl").read_text().splitlines()


@pytest.fixture(scope="module")
def records(lines: list[str]) -> list[ConnectionRecord]:
    return [parse(line) for line in lines]


def test_every_sample_parses_and_round_trips_byte_identically(lines: list[str]) -> None:
    assert len(lines) == 50
    for line in lines:
        record = parse(line)
        assert to_message(record) == line
        assert record.to_message() == line


def test_sample_keys_follow_fields_order(records: list[ConnectionRecord]) -> None:
    for record in records:
        keys = list(record.fields)
        assert set(keys) <= set(FIELDS)
        assert keys == sorted(keys, key=FIELDS.index)
        assert set(client_vpn.REQUIRED_FIELDS) <= set(keys)


def test_fields_constant() -> None:
    assert FIELDS[0] == "connection-log-type"
    assert FIELDS[-1] == "connection-duration-seconds"
    assert len(FIELDS) == len(set(FIELDS))
    assert "username" in client_vpn.OPTIONAL_FIELDS
    assert "username" not in client_vpn.REQUIRED_FIELDS


def test_record_kinds_match_readme(records: list[ConnectionRecord]) -> None:
    kinds = Counter((r.log_type, r.status) for r in records)
    assert kinds == {
        ("connection-attempt", "successful"): 21,
        ("connection-reset", None): 14,
        ("connection-attempt", "failed"): 12,
        ("connection-attempt", "waiting-for-assertion"): 3,
    }
    assert all(r.status in client_vpn.STATUSES for r in records if r.status)
    # Seven sessions are still connected at the end: a connect record without a reset.
    connected = {r.connection_id for r in records if r.status == "successful"}
    reset = {r.connection_id for r in records if r.is_reset}
    assert reset <= connected
    assert len(connected - reset) == 7


def test_usernames_only_on_the_saml_endpoint(records: list[ConnectionRecord]) -> None:
    by_endpoint = Counter((r.endpoint_id, r.username is not None) for r in records)
    assert by_endpoint == {(SAML_ENDPOINT, True): 21, (CERT_ENDPOINT, False): 29}
    assert {r.username for r in records if r.username} == {"alice", "bob", "ops-admin"}
    cert_only = [r for r in records if r.endpoint_id == CERT_ENDPOINT]
    assert all("username" not in r.fields for r in cert_only)


def test_connect_records(records: list[ConnectionRecord]) -> None:
    for r in (r for r in records if r.status == "successful"):
        assert r.is_attempt and not r.is_reset
        assert (r.ingress_bytes, r.egress_bytes, r.ingress_packets, r.egress_packets) == (
            0,
            0,
            0,
            0,
        )
        assert r.end_time is None
        assert r.duration_seconds == 0
        assert r.start_time == r.last_update_time
        assert r.client_ip is not None
        assert r.failure_reason is None


def test_disconnect_records(records: list[ConnectionRecord]) -> None:
    resets = [r for r in records if r.is_reset]
    assert len(resets) == 14
    for r in resets:
        assert r.status is None and r.reset_status is None
        assert r.end_time is not None and r.start_time is not None
        assert r.duration_seconds == (r.end_time - r.start_time).total_seconds()
        assert r.ingress_bytes and r.egress_bytes and r.ingress_packets and r.egress_packets


def test_saml_waiting_records(records: list[ConnectionRecord]) -> None:
    waiting = [r for r in records if r.status == "waiting-for-assertion"]
    assert len(waiting) == 3
    for r in waiting:
        assert r.endpoint_id == SAML_ENDPOINT
        assert r.client_ip is None and r.start_time is None and r.duration_seconds is None
        assert r.username is not None


def test_failed_records(records: list[ConnectionRecord]) -> None:
    failed = [r for r in records if r.status == "failed"]
    reasons = Counter(r.failure_reason for r in failed)
    assert reasons == {
        "client-connect-failed": 5,
        "client-connect-handler-timed-out": 2,
        "client-connect-handler-throttled": 1,
        "client-connect-handler-invalid-response": 1,
        "client-connect-handler-other-execution-error": 1,
        "client-connect-handler-service-error": 1,
        "authorization-policy-deny": 1,
    }
    assert set(reasons) <= set(client_vpn.FAILURE_REASONS)
    for r in failed:
        assert r.start_time is None and r.client_ip is None
        assert r.end_time is None and r.duration_seconds is None
        assert r.device_ip is not None and isinstance(r.port, int)
        if r.failure_reason == "authorization-policy-deny":
            assert r.authorization_policy_evaluation == {
                "result": "deny",
                "evaluation-type": "connection-attempt",
                "shadow-mode": "disabled",
                "reason": "policy-deny",
            }
        else:
            assert r.authorization_policy_evaluation is None


def test_typed_values_of_one_record(lines: list[str]) -> None:
    r = parse(lines[6])  # carol's first disconnect
    assert r.log_type == "connection-reset"
    assert r.connection_id == "cvpn-connection-0fbd1cb2b72757cc7"
    assert r.endpoint_id == CERT_ENDPOINT
    assert r.transport_protocol == "udp"
    assert r.common_name == "carol.tablet.corp.example"
    assert r.device_type == "ios"
    assert r.client_ip == "10.250.0.20"
    assert r.client_ip_v6 is None
    assert r.device_ip == "198.51.100.140"
    assert r.port == 39902
    assert r.ingress_bytes == 46709399 and r.egress_bytes == 56526264
    assert r.ingress_packets == 86339 and r.egress_packets == 69528
    assert r.start_time == datetime(2025, 3, 10, 8, 22, 17, tzinfo=UTC)
    assert r.end_time == datetime(2025, 3, 10, 8, 38, 4, tzinfo=UTC)
    assert r.last_update_time == r.end_time
    assert r.end_time.utcoffset() == timedelta(0)
    assert r.duration_seconds == 947
    assert r.username is None
    assert r.get("connection-reset-status") is None
    assert r.get("no-such-key") is None
    assert r.posture_compliance_statuses is None


def test_aws_guide_example_without_duration_parses() -> None:
    line = (
        '{"connection-log-type":"connection-attempt","connection-attempt-status":"successful",'
        '"connection-reset-status":"NA","connection-attempt-failure-reason":"NA",'
        '"connection-id":"cvpn-connection-abc123abc123abc12",'
        '"client-vpn-endpoint-id":"cvpn-endpoint-aaa111bbb222ccc33","transport-protocol":"udp",'
        '"connection-start-time":"2020-03-26 20:37:15",'
        '"connection-last-update-time":"2020-03-26 20:37:15","client-ip":"10.0.1.2",'
        '"common-name":"client1","device-type":"mac","device-ip":"98.247.202.82","port":"50096",'
        '"ingress-bytes":"0","egress-bytes":"0","ingress-packets":"0","egress-packets":"0",'
        '"connection-end-time":"NA","username":"joe"}'
    )
    r = parse(line)
    assert r.username == "joe" and r.duration_seconds is None
    assert to_message(r) == line


def test_to_message_reorders_into_aws_order(lines: list[str]) -> None:
    original = json.loads(lines[0])
    shuffled = dict(reversed(list(original.items())))
    shuffled["x-unknown"] = "kept"
    out = to_message(shuffled)
    assert out == lines[0][:-1] + ',"x-unknown":"kept"}'
    assert to_message(ConnectionRecord(original)) == lines[0]


@pytest.mark.parametrize(
    "message",
    ["", "not json", "[1, 2]", '"string"', "null", '{"connection-log-type":"connection-attempt"}'],
)
def test_parse_rejects_non_records(message: str) -> None:
    with pytest.raises(ValueError):
        parse(message)


@pytest.mark.parametrize("key", ["connection-id", "port", "connection-end-time", "common-name"])
def test_parse_rejects_missing_required_key(lines: list[str], key: str) -> None:
    obj = json.loads(lines[1])
    del obj[key]
    with pytest.raises(ValueError, match=key):
        parse(json.dumps(obj))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("port", "eighty"),
        ("ingress-bytes", "-1"),
        ("port", 443),
        ("connection-start-time", "2025-03-10T08:00:18Z"),
        ("connection-end-time", "yesterday"),
    ],
)
def test_parse_rejects_malformed_values(lines: list[str], key: str, value: object) -> None:
    obj = json.loads(lines[1])
    obj[key] = value
    with pytest.raises(ValueError, match=key):
        parse(json.dumps(obj))


def test_log_stream_name() -> None:
    assert (
        client_vpn.log_stream_name(
            "cvpn-endpoint-123456789123abcde", "ap-south-1", date(2020, 11, 13), "FCD8HEMVaCcw"
        )
        == "cvpn-endpoint-123456789123abcde-ap-south-1-2020/11/13-FCD8HEMVaCcw"
    )
    late = datetime(2025, 3, 10, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    generated = client_vpn.log_stream_name(SAML_ENDPOINT, "us-east-1", late)
    assert re.fullmatch(rf"{SAML_ENDPOINT}-us-east-1-2025/03/11-[A-Za-z0-9]{{12}}", generated)
    with pytest.raises(ValueError):
        client_vpn.log_stream_name("vpn-123", "us-east-1", date(2025, 3, 10), "FCD8HEMVaCcw")
    with pytest.raises(ValueError):
        client_vpn.log_stream_name(SAML_ENDPOINT, "us-east-1", date(2025, 3, 10), "short")
