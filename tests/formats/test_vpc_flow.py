"""VPC Flow Logs: the sample files parse and format back byte-identical; errors; helpers."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from logsieve.formats.vpc_flow import (
    DEFAULT,
    DEFAULT_FORMAT,
    FIELDS,
    FieldType,
    FlowLogFormat,
    FlowRecord,
    log_stream_name,
    protocol_name,
    tcp_flags,
)

V2_FIELDS = [
    "version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
    "protocol", "packets", "bytes", "start", "end", "action", "log-status",
]  # fmt: skip
FLOW_COLUMNS = ["srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets", "bytes"]


def _lines(path: Path) -> list[str]:
    data = path.read_bytes().decode("utf-8")
    assert data.endswith("\n")
    return data[:-1].split("\n")


@pytest.fixture(scope="module")
def default_lines(samples: Path) -> list[str]:
    return _lines(samples / "vpc-flow-default.log")


@pytest.fixture(scope="module")
def custom_format(samples: Path) -> FlowLogFormat:
    return FlowLogFormat.from_string((samples / "vpc-flow-v5-custom.format").read_text("utf-8"))


@pytest.fixture(scope="module")
def custom_lines(samples: Path) -> list[str]:
    return _lines(samples / "vpc-flow-v5-custom.log")


# --- field catalogue ------------------------------------------------------------------


def test_fields_catalogue_versions_and_types() -> None:
    assert len(FIELDS) == 40
    assert [n for n, s in FIELDS.items() if s.version == 2] == V2_FIELDS
    assert {s.version for s in FIELDS.values()} == {2, 3, 4, 5, 7, 8}
    assert all(name == spec.name for name, spec in FIELDS.items())
    assert {n for n, s in FIELDS.items() if s.type is FieldType.IP} == {
        "srcaddr", "dstaddr", "pkt-srcaddr", "pkt-dstaddr",
    }  # fmt: skip
    assert {n for n, s in FIELDS.items() if s.type is FieldType.INT} == {
        "version", "srcport", "dstport", "protocol", "packets", "bytes", "start", "end",
        "tcp-flags", "traffic-path",
    }  # fmt: skip
    assert FIELDS["tcp-flags"].version == 3
    assert FIELDS["az-id"].version == 4
    assert FIELDS["traffic-path"].version == 5
    assert sum(1 for n in FIELDS if n.startswith("ecs-")) == 10
    assert all(FIELDS[n].version == 7 for n in FIELDS if n.startswith("ecs-"))
    assert FIELDS["reject-reason"].version == 8


def test_default_format() -> None:
    assert " ".join(f"${{{n}}}" for n in V2_FIELDS) == DEFAULT_FORMAT
    assert DEFAULT.fields == tuple(V2_FIELDS)
    assert DEFAULT.version == 2
    assert FlowLogFormat.from_string(DEFAULT_FORMAT) == DEFAULT
    assert DEFAULT.format_string == DEFAULT_FORMAT


def test_format_version_is_highest_field_version() -> None:
    assert FlowLogFormat.from_string("${version} ${vpc-id} ${srcaddr}").version == 3
    assert FlowLogFormat.from_string("${az-id} ${tcp-flags}").version == 4
    assert FlowLogFormat.from_string("${ecs-task-id} ${reject-reason}").version == 8
    assert FlowLogFormat.from_fields(list(FIELDS)).version == 8


# --- sample files round-trip --------------------------------------------------------------


def test_default_sample_round_trips(default_lines: list[str]) -> None:
    assert len(default_lines) == 200
    for line in default_lines:
        record = DEFAULT.parse(line)
        assert record.fields == tuple(V2_FIELDS)
        assert record["version"] == 2
        assert DEFAULT.format(record) == line


def test_custom_sample_round_trips(custom_format: FlowLogFormat, custom_lines: list[str]) -> None:
    assert len(custom_format.fields) == 29
    assert custom_format.version == 5
    assert len(custom_lines) == 101
    for line in custom_lines:
        record = custom_format.parse(line)
        assert record["version"] == custom_format.version
        assert custom_format.format(record) == line


def test_custom_sample_contents(custom_format: FlowLogFormat, custom_lines: list[str]) -> None:
    records = [custom_format.parse(line) for line in custom_lines]
    assert {r["tcp-flags"] for r in records if not r.is_nodata} <= {2, 3, 18, 19}
    for r in records:
        if r["flow-direction"] == "ingress":
            assert r["traffic-path"] is None
    egress_paths = {r["traffic-path"] for r in records if r["flow-direction"] == "egress"}
    assert egress_paths <= {7, 8}
    assert any(r["pkt-dst-aws-service"] == "S3" for r in records)
    assert any(isinstance(r["srcaddr"], ipaddress.IPv6Address) for r in records)
    nat = [r for r in records if r["instance-id"] is None and not r.is_nodata]
    assert any(r["pkt-dstaddr"] != r["dstaddr"] for r in nat)


def test_nodata_and_skipdata_rows(default_lines: list[str]) -> None:
    records = [DEFAULT.parse(line) for line in default_lines]
    nodata = [r for r in records if r.is_nodata]
    skipdata = [r for r in records if r.is_skipdata]
    assert nodata and skipdata
    for r in nodata + skipdata:
        assert all(r[c] is None for c in [*FLOW_COLUMNS, "action"])
        assert isinstance(r["start"], int) and isinstance(r["end"], int)
        assert r.timestamp_ms == r["start"] * 1000
        assert r["interface-id"].startswith("eni-")
    assert not any(r.is_nodata and r.is_skipdata for r in records)
    ok = [r for r in records if r["log-status"] == "OK"]
    assert len(ok) + len(nodata) + len(skipdata) == len(records)
    assert not any(r.is_nodata or r.is_skipdata for r in ok)


def test_custom_nodata_rows(custom_format: FlowLogFormat, custom_lines: list[str]) -> None:
    nodata = [r for r in map(custom_format.parse, custom_lines) if r.is_nodata]
    assert nodata
    for r in nodata:
        assert all(r[c] is None for c in FLOW_COLUMNS)
        assert r["vpc-id"] is not None


# --- typed values ------------------------------------------------------------------------


def test_values_are_typed() -> None:
    line = (
        "2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 "
        "172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"
    )
    r = DEFAULT.parse(line + "\n")
    assert isinstance(r, FlowRecord)
    assert r["srcaddr"] == ipaddress.ip_address("2001:db8:1234:a100:8d6e:3477:df66:f105")
    assert r["dstaddr"] == ipaddress.IPv4Address("172.31.16.21")
    assert (r["srcport"], r["dstport"], r["protocol"]) == (20641, 22, 6)
    assert (r["packets"], r["bytes"]) == (20, 4249)
    assert r["account-id"] == "123456789010"  # string: account ids keep leading zeros
    assert r.get("action") == "ACCEPT"
    assert r.get("vpc-id") is None  # not in this format
    assert r.get("vpc-id", "n/a") == "n/a"
    assert r.timestamp_ms == 1418530010000
    assert not r.is_nodata and not r.is_skipdata
    assert dict(r)["log-status"] == "OK"
    assert len(r) == 14
    assert DEFAULT.format(r) == line


def test_dash_allowed_in_any_column() -> None:
    fmt = FlowLogFormat.from_fields(list(FIELDS))
    r = fmt.parse(" ".join("-" for _ in FIELDS))
    assert all(v is None for v in r.values.values())
    assert r.timestamp_ms is None
    assert not r.is_nodata
    assert fmt.format(r) == " ".join("-" for _ in FIELDS)


def test_account_id_unknown_is_a_string() -> None:
    r = FlowLogFormat.from_string("${account-id} ${srcport}").parse("unknown 80")
    assert r["account-id"] == "unknown"


@pytest.mark.parametrize(
    ("fmt", "line", "message"),
    [
        ("${srcport}", "http", "srcport"),
        ("${srcport}", "1.5", "integer"),
        ("${srcaddr}", "10.0.0.300", "IP address"),
        ("${pkt-dstaddr}", "eni-1", "pkt-dstaddr"),
    ],
)
def test_bad_values(fmt: str, line: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FlowLogFormat.from_string(fmt).parse(line)


# --- format and line errors ----------------------------------------------------------------


def test_unknown_field() -> None:
    with pytest.raises(ValueError, match="unknown flow log field 'src-addr'"):
        FlowLogFormat.from_string("${version} ${src-addr}")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "${version}  ${srcaddr}",
        "${version},${srcaddr}",
        "version srcaddr",
        "${version} $srcaddr",
        "${version} ${srcaddr",
        "${version} {srcaddr}",
        "${}",
        "${version}${srcaddr}",
        "${version}\t${srcaddr}",
    ],
)
def test_malformed_format_string(bad: str) -> None:
    with pytest.raises(ValueError, match="flow log format string"):
        FlowLogFormat.from_string(bad)


def test_duplicate_field() -> None:
    with pytest.raises(ValueError, match="duplicate flow log field 'srcaddr'"):
        FlowLogFormat.from_string("${srcaddr} ${srcaddr}")


def test_format_string_trailing_newline_is_accepted() -> None:
    assert FlowLogFormat.from_string(DEFAULT_FORMAT + "\n") == DEFAULT


@pytest.mark.parametrize(
    "line",
    [
        "2 123456789012 eni-1 - - - - - - - 1 2 - NODATA extra",
        "2 123456789012 eni-1 - - - - - - - 1 2 NODATA",
        "2 123456789012 eni-1 - - - - - - - 1 2 -  NODATA",
        "",
    ],
)
def test_wrong_field_count(line: str) -> None:
    with pytest.raises(ValueError, match="format expects 14"):
        DEFAULT.parse(line)


def test_parse_class_vs_instance() -> None:
    fmt = FlowLogFormat.from_string("${version} ${srcport}")
    assert isinstance(fmt, FlowLogFormat)
    assert fmt.fields == ("version", "srcport")
    assert fmt.parse("3 443") == fmt.parse("3 443")
    assert FlowLogFormat.from_string("${version} ${srcport}") == fmt
    assert FlowLogFormat("${version} ${srcport}") == fmt


def test_format_from_plain_mapping() -> None:
    fmt = FlowLogFormat.from_string("${version} ${srcaddr} ${dstport} ${action}")
    assert fmt.format({"version": 3, "srcaddr": "10.0.0.1", "action": None}) == "3 10.0.0.1 - -"
    with pytest.raises(ValueError, match="whitespace"):
        fmt.format({"action": "NOT OK"})


def test_format_across_formats(default_lines: list[str]) -> None:
    narrow = FlowLogFormat.from_string("${interface-id} ${start} ${log-status}")
    record = DEFAULT.parse(default_lines[0])
    assert narrow.format(record) == "eni-0a1b2c3d4e5f60718 1741615204 OK"


# --- filter pattern fields ---------------------------------------------------------------


def test_filter_pattern_fields(custom_format: FlowLogFormat) -> None:
    assert DEFAULT.filter_pattern_fields() == [
        "version", "account_id", "interface_id", "srcaddr", "dstaddr", "srcport", "dstport",
        "protocol", "packets", "bytes", "start", "end", "action", "log_status",
    ]  # fmt: skip
    names = custom_format.filter_pattern_fields()
    assert len(names) == 29
    assert "pkt_src_aws_service" in names and "traffic_path" in names
    assert all("-" not in n and n.isidentifier() for n in names)


# --- helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "name"),
    [(6, "TCP"), (17, "UDP"), (1, "ICMP"), (58, "ICMPv6"), (47, "proto-47"), (0, "proto-0")],
)
def test_protocol_name(number: int, name: str) -> None:
    assert protocol_name(number) == name


@pytest.mark.parametrize(
    ("value", "names"),
    [
        (0, []),
        (1, ["FIN"]),
        (2, ["SYN"]),
        (3, ["FIN", "SYN"]),
        (4, ["RST"]),
        (18, ["SYN", "ACK"]),
        (19, ["FIN", "SYN", "ACK"]),
        (255, ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"]),
    ],
)
def test_tcp_flags(value: int, names: list[str]) -> None:
    assert tcp_flags(value) == names


def test_tcp_flags_rejects_bad_values() -> None:
    with pytest.raises(ValueError):
        tcp_flags(256)
    with pytest.raises(ValueError):
        tcp_flags(-1)
    with pytest.raises(TypeError):
        tcp_flags("18")  # type: ignore[arg-type]


def test_log_stream_name() -> None:
    assert log_stream_name("eni-0c19436730cc350ae") == "eni-0c19436730cc350ae-all"
    assert log_stream_name("eni-0c19436730cc350ae", "REJECT") == "eni-0c19436730cc350ae-reject"
    assert log_stream_name("eni-1", "accept") == "eni-1-accept"
    with pytest.raises(ValueError):
        log_stream_name("eni-1", "denied")
    with pytest.raises(ValueError):
        log_stream_name("")


def test_stream_and_timestamp_for_sample(default_lines: list[str]) -> None:
    records = [DEFAULT.parse(line) for line in default_lines]
    streams = {log_stream_name(r["interface-id"]) for r in records}
    assert len(streams) > 1 and all(s.endswith("-all") for s in streams)
    stamps = [r.timestamp_ms for r in records]
    assert stamps == sorted(stamps)
