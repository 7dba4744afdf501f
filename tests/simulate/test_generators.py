"""The simulators' events parse back with ``logsieve.formats`` and follow AWS's layouts.

Pure: no server. Each generator is drawn for a few thousand events and every event is checked
against the documented shape (aws-compat.md section 7): stream names, timestamps, field values.
"""

from __future__ import annotations

import collections
import ipaddress
import itertools
import re
import time
from datetime import UTC, datetime

import pytest

from logsieve.formats import client_vpn as cv
from logsieve.formats import cloudtrail as ct
from logsieve.formats.vpc_flow import DEFAULT, FlowLogFormat, log_stream_name
from logsieve.simulate import SOURCES, SimEvent, default_group, generate
from logsieve.simulate.fake import uuid4

START = 1_741_615_200_000  # 2025-03-10T14:00:00Z, the samples' day
DOC_NETS = [ipaddress.ip_network(n) for n in
            ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]  # fmt: skip
V5_FORMAT = (
    "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} "
    "${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} "
    "${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} "
    "${az-id} ${sublocation-type} ${sublocation-id} ${pkt-src-aws-service} "
    "${pkt-dst-aws-service} ${flow-direction} ${traffic-path}"
)


def take(source: str, n: int, **kwargs) -> list[SimEvent]:
    kwargs.setdefault("seed", 11)
    kwargs.setdefault("start_ms", START)
    kwargs.setdefault("rate", 100.0)
    return list(itertools.islice(generate(source, **kwargs), n))


def is_public_doc(address) -> bool:
    return any(address in net for net in DOC_NETS)


# -- reproducibility --------------------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_same_seed_same_events(source: str) -> None:
    assert take(source, 3000, seed=5) == take(source, 3000, seed=5)


@pytest.mark.parametrize("source", SOURCES)
def test_other_seed_other_events(source: str) -> None:
    assert take(source, 200, seed=5) != take(source, 200, seed=6)


@pytest.mark.parametrize("source", SOURCES)
def test_timestamps_follow_start_and_rate(source: str) -> None:
    """The simulated clock starts at --start and advances 1/rate per event."""
    rate = 50.0
    events = take(source, 5000, rate=rate)
    span_ms = 5000 / rate * 1000
    # Flow records describe the minute before they are emitted; others are stamped at once.
    assert min(e.timestamp for e in events) >= START - 61_000
    assert max(e.timestamp for e in events) <= START + span_ms
    later = take(source, 5000, rate=rate, start_ms=START + 3_600_000)
    assert [e.timestamp + 3_600_000 for e in events] == [e.timestamp for e in later]


# -- VPC Flow Logs ----------------------------------------------------------------------------


def test_vpc_flow_default_format_layout() -> None:
    events = take("vpc-flow", 20_000)
    statuses, actions = collections.Counter(), collections.Counter()
    streams = set()
    for event in events:
        record = DEFAULT.parse(event.message)
        assert DEFAULT.format(record) == event.message  # canonical, round-trips
        assert record["version"] == 2
        assert record["account-id"] == "123456789012"
        assert event.stream == log_stream_name(record["interface-id"], "ALL")
        assert re.fullmatch(r"eni-[0-9a-f]{17}-all", event.stream)
        assert event.timestamp == record.timestamp_ms == record["start"] * 1000
        assert record["start"] <= record["end"]
        statuses[record["log-status"]] += 1
        streams.add(event.stream)
        if record.is_nodata or record.is_skipdata:
            flow = ("srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets", "bytes",
                    "action")  # fmt: skip
            assert all(record[f] is None for f in flow)
            continue
        actions[record["action"]] += 1
        for address in (record["srcaddr"], record["dstaddr"]):
            assert address.is_private or is_public_doc(address), address
        if record["protocol"] == 1:
            assert record["srcport"] == record["dstport"] == 0
    assert len(streams) == 6
    assert statuses["OK"] > 0 and statuses["NODATA"] > 0 and statuses["SKIPDATA"] > 0
    assert actions["ACCEPT"] > actions["REJECT"] > 0


def test_vpc_flow_has_port_scans_and_probes() -> None:
    records = [DEFAULT.parse(e.message) for e in take("vpc-flow", 20_000)]
    rejected = [r for r in records if r["action"] == "REJECT"]
    assert all(r["srcaddr"] is not None and is_public_doc(r["srcaddr"]) for r in rejected)
    # Probes of the classic ports from the internet...
    assert {22, 23, 3389} <= {r["dstport"] for r in rejected}
    # ...and port scans: one source probing many ports of one interface.
    ports = collections.defaultdict(set)
    for r in rejected:
        ports[(r["srcaddr"], r["interface-id"])].add(r["dstport"])
    assert max(len(p) for p in ports.values()) >= 20
    # A scan that hits an open port gets a SYN-ACK back: accepted, not rejected.
    protocols = {r["protocol"] for r in records if r["protocol"] is not None}
    assert {1, 6, 17} <= protocols


def test_vpc_flow_custom_format() -> None:
    fmt = FlowLogFormat.from_string(V5_FORMAT)
    events = take("vpc-flow", 5000, format=V5_FORMAT)
    directions = collections.Counter()
    for event in events:
        record = fmt.parse(event.message)
        assert fmt.format(record) == event.message
        assert record["version"] == fmt.version == 5
        assert record["region"] == "us-east-1"
        assert event.timestamp == record.timestamp_ms
        if record.is_nodata or record.is_skipdata:
            continue
        directions[record["flow-direction"]] += 1
        assert record["type"] in ("IPv4", "IPv6")
        assert record["vpc-id"].startswith("vpc-") and record["subnet-id"].startswith("subnet-")
        if record["flow-direction"] == "ingress":
            assert record["traffic-path"] is None
    assert directions["ingress"] > 0 and directions["egress"] > 0


def test_vpc_flow_reject_only_flow_log() -> None:
    events = take("vpc-flow", 3000, traffic_type="REJECT")
    for event in events:
        record = DEFAULT.parse(event.message)
        assert event.stream.endswith("-reject")
        assert record["action"] in ("REJECT", None)  # None: NODATA/SKIPDATA windows


# -- Client VPN -------------------------------------------------------------------------------


def test_client_vpn_records_and_layout() -> None:
    events = take("client-vpn", 20_000)
    kinds = collections.Counter()
    streams = {}
    for event in events:
        record = cv.parse(event.message)
        assert cv.to_message(record) == event.message  # AWS's key order, compact JSON
        for key, value in record.fields.items():
            if key != "authorization-policy-evaluation":
                assert isinstance(value, str), (key, value)  # every value a string
        last = record.last_update_time
        assert last is not None
        assert event.timestamp == int(last.timestamp()) * 1000
        day = datetime.fromtimestamp(START / 1000, UTC)
        prefix = f"{record.endpoint_id}-us-east-1-{day:%Y/%m/%d}-"
        assert event.stream.startswith(prefix) and re.fullmatch(
            r"[A-Za-z0-9]{12}", event.stream[len(prefix):]
        )  # fmt: skip
        streams.setdefault(record.endpoint_id, set()).add(event.stream)
        kinds[(record.log_type, record.status)] += 1
        if record.status == "failed":
            assert record.failure_reason
            assert record.start_time is None and record.client_ip is None
            assert record.end_time is None and record.duration_seconds is None
        if record.is_reset:
            assert record.end_time is not None and record.duration_seconds is not None
            assert record.duration_seconds == int(
                (record.end_time - record.start_time).total_seconds()
            )
    assert len(streams) == 3 and all(len(s) == 1 for s in streams.values())
    assert kinds[("connection-attempt", "successful")] > 0
    assert kinds[("connection-attempt", "waiting-for-assertion")] > 0
    assert kinds[("connection-attempt", "failed")] > 0
    assert kinds[("connection-reset", None)] > 0


def test_client_vpn_connection_lifecycle() -> None:
    """Per connection: [waiting-for-assertion], connect, periodic updates, reset -- in that
    order, counters never decreasing, the same start time throughout."""
    by_connection = collections.defaultdict(list)
    for event in take("client-vpn", 20_000):
        record = cv.parse(event.message)
        by_connection[record.connection_id].append(record)
    updated = 0
    for records in by_connection.values():
        statuses = [(r.log_type, r.status) for r in records]
        if statuses[0][1] == "failed":
            assert len(records) == 1
            continue
        if statuses[0][1] == "waiting-for-assertion":
            statuses = statuses[1:]
            records = records[1:]
        assert statuses[0] == ("connection-attempt", "successful")
        assert records[0].duration_seconds == 0 and records[0].ingress_bytes == 0
        resets = [i for i, s in enumerate(statuses) if s[0] == "connection-reset"]
        assert resets in ([], [len(statuses) - 1])
        updated += len(records) > 2
        starts = {r.start_time for r in records}
        assert len(starts) == 1
        ingress = [r.ingress_bytes for r in records]
        assert ingress == sorted(ingress)
    assert updated > 0  # connections are logged more than once while they last


def test_client_vpn_usernames_and_bursts() -> None:
    records = [cv.parse(e.message) for e in take("client-vpn", 20_000)]
    by_endpoint = collections.defaultdict(list)
    for record in records:
        by_endpoint[record.endpoint_id].append(record)
    with_user = [all(r.username for r in rs) for rs in by_endpoint.values()]
    without_key = [all("username" not in r.fields for r in rs) for rs in by_endpoint.values()]
    assert sorted(with_user) == [False, True, True]  # AD and SAML log usernames...
    assert sorted(without_key) == [False, False, True]  # ...certificate-only has no key
    failures = collections.Counter(r.device_ip for r in records if r.status == "failed")
    assert failures.most_common(1)[0][1] >= 5  # a burst from one address
    denied = [r for r in records if r.failure_reason == "authorization-policy-deny"]
    assert denied and all(r.authorization_policy_evaluation["result"] == "deny" for r in denied)
    reasons = {r.failure_reason for r in records if r.failure_reason}
    assert set(cv.FAILURE_REASONS) & reasons >= {"client-connect-failed"}


# -- CloudTrail -------------------------------------------------------------------------------


def test_cloudtrail_records_and_layout() -> None:
    events = take("cloudtrail", 20_000)
    identities = collections.Counter()
    reads = writes = errors = 0
    event_ids = set()
    for event in events:
        record = ct.parse(event.message)
        assert event.stream == ct.log_stream_name("123456789012", "us-east-1")
        when = datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert event.timestamp == int(when.timestamp()) * 1000
        identity = ct.who(record)
        identities[identity.type] += 1
        assert identity.display and "<unknown>" not in identity.display
        assert record["recipientAccountId"] == "123456789012"
        assert record["eventSource"].endswith(".amazonaws.com")
        source_ip = record["sourceIPAddress"]
        if not source_ip.endswith(".amazonaws.com"):
            assert is_public_doc(ipaddress.ip_address(source_ip)), source_ip
        if record["eventSource"] in ("iam.amazonaws.com", "signin.amazonaws.com"):
            assert record["awsRegion"] == "us-east-1"
        if ct.is_read_only(record):
            reads += 1
        else:
            writes += 1
        errors += ct.is_error(record)
        assert record["eventID"] not in event_ids
        event_ids.add(record["eventID"])
    assert {"IAMUser", "AssumedRole", "Root", "AWSService"} <= set(identities)
    assert reads > writes > 0 and errors > 0


def test_cloudtrail_console_logins_and_errors() -> None:
    records = [ct.parse(e.message) for e in take("cloudtrail", 30_000)]
    logins = [r for r in records if ct.is_console_login(r)]
    outcomes = collections.Counter(r["responseElements"]["ConsoleLogin"] for r in logins)
    assert outcomes["Success"] > 0 and outcomes["Failure"] > 0
    hidden = [r for r in logins if ct.who(r).hidden]
    assert hidden and all(r["errorMessage"] == "No username found in supplied account"
                          for r in hidden)  # fmt: skip
    wrong = [r for r in logins if r.get("errorMessage") == "Failed authentication"]
    assert wrong and all(ct.who(r).name for r in wrong)
    assert all(r["eventVersion"] == "1.05" and "requestID" not in r for r in logins)
    codes = {r.get("errorCode") for r in records} - {None}
    assert {"AccessDenied", "Client.UnauthorizedOperation"} <= codes
    names = {r["eventName"] for r in records}
    assert {"StopLogging", "CreateUser", "AttachUserPolicy", "ConsoleLogin",
            "AuthorizeSecurityGroupIngress", "DescribeInstances"} <= names  # fmt: skip
    opened = [r for r in records if r["eventName"] == "AuthorizeSecurityGroupIngress"
              and "0.0.0.0/0" in str(r["requestParameters"])]  # fmt: skip
    assert opened  # SSH opened to the world, now and then


# -- the rest ---------------------------------------------------------------------------------


def test_default_groups() -> None:
    assert default_group("vpc-flow") == "/aws/vpc/flow-logs"
    assert default_group("client-vpn") == "/aws/vpn/connections"
    assert default_group("cloudtrail", "111122223333").startswith("aws-cloudtrail-logs-1111")
    with pytest.raises(ValueError, match="unknown source"):
        default_group("syslog")


def test_seeded_uuids_are_version_4() -> None:
    import random
    import uuid

    rng = random.Random(1)
    for _ in range(200):
        value = uuid.UUID(uuid4(rng))
        assert value.version == 4 and value.variant == uuid.RFC_4122


@pytest.mark.parametrize("source", SOURCES)
def test_generation_is_fast(source: str) -> None:
    """Generation must leave room for >= 20,000 events/s of sending: the bound here is loose
    (a fifth of the target) so a loaded CI box cannot fail it; the rate is printed (-s)."""
    n = 50_000
    generator = generate(source, seed=1, start_ms=START, rate=20_000)
    started = time.process_time()
    for _ in itertools.islice(generator, n):
        pass
    cpu = time.process_time() - started
    print(f"\n{source}: {n / cpu:,.0f} events/s generated (CPU time)")
    assert cpu < n / 4_000
