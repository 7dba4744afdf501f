"""Simulated VPC Flow Logs: a small VPC's ENIs with normal traffic, probes and port scans.

The world: a VPC with two web servers and a bastion in public subnets, an app server and a
database in private subnets, and a NAT gateway. Each step picks a scenario and emits the flow
records its ENIs would log, into the CloudWatch layout (``formats.vpc_flow``): one log stream
per ENI named ``<eni>-<traffic type>``, event timestamp = the record's ``start`` x 1000.

* web requests from the internet to 443/80 (IPv4 and a few IPv6), each direction a record;
* internal calls web -> app:8080 and app -> db:5432, logged by both ENIs;
* outbound HTTPS through the NAT gateway, NTP over UDP, ping (ICMP), admin SSH to the bastion;
* rejected probes of 22, 23, 3389, 445, 1433 from internet addresses (a pool of repeat
  offenders, so per-source thresholds trigger);
* port scans: one source probing tens to hundreds of ports of one ENI in a burst -- REJECT,
  except the ports that are open (those are ACCEPTed, with the SYN-ACK back);
* NODATA (an idle ENI's window) and, rarely, SKIPDATA records.

Records describe the minute before they are emitted (``end`` = the simulated now, ``start`` up
to 59 s earlier), as a 60-second aggregation interval produces. Any format works: the default
one or a custom ``${field} ...`` string; fields the world has no value for are ``-``.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import accumulate, repeat
from typing import Any

from logsieve.formats.vpc_flow import DEFAULT_FORMAT, FlowLogFormat, log_stream_name

from .fake import SimEvent, az_id, doc_ip, hex_id

__all__ = ["vpc_flow"]

PROBE_PORTS = (22, 23, 3389, 445, 1433)
_SCAN_PORTS = (
    21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 389, 443, 445, 465, 587, 636, 993, 995,
    1433, 1521, 2049, 2375, 3000, 3306, 3389, 5000, 5432, 5601, 5900, 6379, 8000, 8080, 8443,
    8888, 9000, 9090, 9200, 11211, 27017,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Eni:
    """An interface and the per-record values that never change for it."""

    id: str
    role: str
    ip: str
    ipv6: str | None
    open_ports: frozenset[int]
    public: bool
    stream: str
    static: dict[str, str]  # vpc-id, subnet-id, instance-id, az-id, region, ... as text


def _window(rng: random.Random, now_s: int) -> tuple[int, int]:
    start = now_s - rng.randint(1, 59)
    return start, rng.randint(start, now_s)


def vpc_flow(
    seed: int | None = None,
    start_ms: int = 0,
    rate: float = 100.0,
    *,
    account_id: str = "123456789012",
    region: str = "us-east-1",
    format: str = DEFAULT_FORMAT,
    traffic_type: str = "all",
) -> Iterator[SimEvent]:
    """Endless flow-log events, ``rate`` per simulated second from ``start_ms``.

    The same arguments give the same events. ``traffic_type`` (ALL, ACCEPT or REJECT) is the
    flow log's filter: it selects the records and names the streams (``eni-...-reject``).
    """
    if rate <= 0:
        raise ValueError("rate must be positive")
    fmt = FlowLogFormat.from_string(format)
    traffic = traffic_type.lower()
    if traffic not in ("all", "accept", "reject"):
        raise ValueError(f"traffic type must be ALL, ACCEPT or REJECT, not {traffic_type!r}")
    rng = random.Random(seed)
    world = _World(rng, account_id, region, traffic)
    fields = fmt.fields
    dashes = repeat("-")  # the value of a field the record lacks
    version = "2" if fmt.fields == FlowLogFormat(DEFAULT_FORMAT).fields else str(fmt.version)
    step_ms = 1000.0 / rate
    clock = float(start_ms)
    scenarios = world.scenarios()
    weights = list(accumulate(w for w, _ in scenarios))
    total = weights[-1]
    actions = [a for _, a in scenarios]
    keep = {"all": None, "accept": "ACCEPT", "reject": "REJECT"}[traffic]
    while True:
        action = actions[bisect(weights, rng.random() * total)]
        for eni, record in action(int(clock // 1000)):
            if keep is not None and record.get("action", keep) != keep:
                continue
            record["version"] = version
            message = " ".join(map(record.get, fields, dashes))
            yield SimEvent(eni.stream, int(record["start"]) * 1000, message)
            clock += step_ms


class _World:
    """The VPC, its ENIs and the internet around it; scenario methods return records."""

    def __init__(self, rng: random.Random, account_id: str, region: str, traffic: str) -> None:
        self.rng = rng
        self.account_id = account_id
        self.region = region
        vpc = f"vpc-{hex_id(rng)}"
        subnets = {
            "public-a": (f"subnet-{hex_id(rng)}", az_id(region, 1)),
            "public-b": (f"subnet-{hex_id(rng)}", az_id(region, 2)),
            "private-a": (f"subnet-{hex_id(rng)}", az_id(region, 1)),
            "private-b": (f"subnet-{hex_id(rng)}", az_id(region, 2)),
        }
        v6 = f"2001:db8:{rng.randrange(0x10000):x}:a100"
        layout = (
            # role, subnet, ip, ipv6, open ports, public, has an instance
            ("web-1", "public-a", "10.0.1.15", f"{v6}::15", {80, 443}, True, True),
            ("web-2", "public-b", "10.0.2.16", None, {80, 443}, True, True),
            ("bastion", "public-a", "10.0.1.10", None, {22}, True, True),
            ("app", "private-a", "10.0.11.30", None, {8080}, False, True),
            ("db", "private-b", "10.0.12.20", None, {5432}, False, True),
            ("nat", "public-b", "10.0.2.220", None, set(), True, False),
        )
        self.enis: dict[str, _Eni] = {}
        for role, subnet, ip, ipv6, ports, public, instance in layout:
            eni_id = f"eni-{hex_id(rng)}"
            subnet_id, az = subnets[subnet]
            static = {
                "account-id": account_id,
                "interface-id": eni_id,
                "vpc-id": vpc,
                "subnet-id": subnet_id,
                "instance-id": f"i-{hex_id(rng)}" if instance else "-",
                "region": region,
                "az-id": az,
            }
            self.enis[role] = _Eni(
                eni_id, role, ip, ipv6, frozenset(ports), public,
                log_stream_name(eni_id, traffic), static,
            )  # fmt: skip
        self.clients = [doc_ip(rng) for _ in range(200)]  # the web's visitors
        self.offenders = [doc_ip(rng) for _ in range(24)]  # internet noise, probing again
        self.scanners = [doc_ip(rng) for _ in range(6)]
        self.admin_ip = "203.0.113.77"
        self.saas = [doc_ip(rng) for _ in range(12)]  # what the app calls out to
        self.ntp = ["203.0.113.123", "198.51.100.123"]

    def scenarios(self) -> list[tuple[float, Callable[[int], list[tuple[_Eni, dict[str, Any]]]]]]:
        return [
            (40, self.web_request),
            (4, self.web_request_v6),
            (18, self.internal_call),
            (9, self.nat_egress),
            (4, self.ntp_sync),
            (3, self.ping),
            (3, self.admin_ssh),
            (13, self.probe),
            (1.2, self.port_scan),
            (3, self.nodata),
            (0.4, self.skipdata),
        ]

    # -- record building --------------------------------------------------------------------
    def _flow(
        self, eni: _Eni, src: str, dst: str, sport: int, dport: int, proto: int,
        packets: int, size: int, window: tuple[int, int], action: str, flags: int,
        ingress: bool, path: str = "-", pkt_src: str | None = None, pkt_dst: str | None = None,
    ) -> tuple[_Eni, dict[str, Any]]:  # fmt: skip
        record = dict(eni.static)
        record.update(
            {
                "srcaddr": src,
                "dstaddr": dst,
                "srcport": str(sport),
                "dstport": str(dport),
                "protocol": str(proto),
                "packets": str(packets),
                "bytes": str(size),
                "start": str(window[0]),
                "end": str(window[1]),
                "action": action,
                "log-status": "OK",
                "tcp-flags": str(flags) if proto == 6 else "0",
                "type": "IPv6" if ":" in src else "IPv4",
                "pkt-srcaddr": pkt_src or src,
                "pkt-dstaddr": pkt_dst or dst,
                "flow-direction": "ingress" if ingress else "egress",
                "traffic-path": "-" if ingress else path,
            }
        )
        return eni, record

    def _tcp_session(
        self, eni: _Eni, client: str, server: str, server_port: int, window: tuple[int, int],
        *, eni_is_server: bool, path: str = "-", big: bool = False,
    ) -> list[tuple[_Eni, dict[str, Any]]]:  # fmt: skip
        rng = self.rng
        sport = rng.randint(32768, 60999)
        up_packets = rng.randint(4, 40)
        down_packets = rng.randint(4, 400 if big else 60)
        up = up_packets * rng.randint(60, 700)
        down = down_packets * rng.randint(200, 1400)
        request = self._flow(
            eni, client, server, sport, server_port, 6, up_packets, up, window, "ACCEPT", 3,
            ingress=eni_is_server, path=path,
        )  # fmt: skip
        response = self._flow(
            eni, server, client, server_port, sport, 6, down_packets, down, window, "ACCEPT", 19,
            ingress=not eni_is_server, path=path,
        )  # fmt: skip
        return [request, response]

    # -- scenarios --------------------------------------------------------------------------
    def web_request(self, now: int) -> list[tuple[_Eni, dict[str, Any]]]:
        rng = self.rng
        eni = self.enis["web-1" if rng.random() < 0.5 else "web-2"]
        port = 443 if rng.random() < 0.9 else 80
        return self._tcp_session(
            eni, rng.choice(self.clients), eni.ip, port, _window(rng, now),
            eni_is_server=True, path="8", big=True,
        )  # fmt: skip

    def web_request_v6(self, now: int) -> list[tuple[_Eni, dict[str, Any]]]:
        rng = self.rng
        eni = self.enis["web-1"]
        assert eni.ipv6 is not None
        client = f"2001:db8:{rng.randrange(0x10000):x}::{rng.randrange(1, 0x10000):x}"
        return self._tcp_session(
            eni, client, eni.ipv6, 443, _window(rng, now), eni_is_server=True, path="8"
        )

    def internal_call(self, now: int) -> list[tuple[_Eni, dict[str, Any]]]:
        rng = self.rng
        if rng.random() < 0.55:
            client = self.enis["web-1" if rng.random() < 0.5 else "web-2"]
            server, port = self.enis["app"], 8080
        else:
            client, server, port = self.enis["app"], self.enis["db"], 5432
        window = _window(rng, now)
        records = self._tcp_session(
            client, client.ip, server.ip, port, window, eni_is_server=False, path="1"
        )
        # The server's ENI logs the same flow, seen from its side.
        for _, record in list(records):
            mirrored = dict(record)
            mirrored.update(server.static)
            inbound = record["dstaddr"] == server.ip
            mirrored["flow-direction"] = "ingress" if inbound else "egress"
            mirrored["traffic-path"] = "-" if inbound else "1"
            records.append((server, mirrored))
        return records

    def nat_egress(self, now: int) -> list[tuple[_Eni, dict[str, Any]]]:
        rng = self.rng
        app, nat = self.enis["app"], self.enis["nat"]
        target = rng.choice(self.saas)
        window = _window(rng, now)
        records = self._tcp_session(app, app.ip, target, 443, window, eni_is_server=False, path="1")
        # The NAT gateway's ENI: the app's packets arrive addressed to the internet host.
        sport = rng.randint(1024, 65535)
        packets = rng.randint(4, 40)
        size = packets * rng.randint(60, 700)
        records.append(self._flow(
            nat, app.ip, nat.ip, sport, 443, 6, packets, size, window, "ACCEPT", 3,
            ingress=True, pkt_dst=target,
        ))  # fmt: skip
        records.append(self._flow(
            nat, nat.ip, target, sport, 443, 6, packets, size, window, "ACCEPT", 3,
            ingress=False, path="8",
        ))  # fmt: skip
        return records

    def ntp_sync(self, now: int) -> list[tuple[_Eni, dict[str, Any]]]:
        rng = self.rng
        eni = self.enis[rng.choice(("web-1", "web-2", "bastion"))]
        server = rng.choice(self.ntp)
        window = _window(rng, now)
        sport = rng.randint(32768, 60999)
        return [
            self._flow(eni, eni.ip, server, sport, 123, 17, 1, 76, window, "ACCEPT", 0,
                       ingress=False, path="8"),
            self._flow(eni, server, eni.ip, 123, sport, 17, 1, 76, window, "ACCEPT", 0,
                       ingress=True),
        ]  # fmt: skip

    def ping(self, now: int) -> list[tuple[_Eni, dict[str, Any]]]:
        rng = self.rng
        eni = self.enis[rng.choice(("web-1", "web-2"))]
        source = rng.choice(self.clients)
        window = _window(rng, now)
        count = rng.randint(1, 10)
        return [
            self._flow(eni, source, eni.ip, 0, 0, 1, count, 84 * count, window, "ACCEPT", 0,
                       ingress=True),
            self._flow(eni, eni.ip, source, 0, 0, 1, count, 84 * count, window, "ACCEPT", 0,
                       ingress=False, path="8"),
        ]  # fmt: skip

    def admin_ssh(self, now: int) -> list[tuple[_Eni, dict[str, Any]]]:
        rng = self.rng
        eni = self.enis["bastion"]
        return self._tcp_session(
            eni, self.admin_ip, eni.ip, 22, _window(rng, now), eni_is_server=True, path="8"
        )

    def probe(self, now: int) -> list[tuple[_Eni, dict[str, Any]]]:
        rng = self.rng
        eni = self.enis[rng.choice(("web-1", "web-2", "bastion", "nat"))]
        source = rng.choice(self.offenders) if rng.random() < 0.7 else doc_ip(rng)
        port = rng.choice(PROBE_PORTS)
        packets = rng.randint(1, 3)
        return [self._flow(
            eni, source, eni.ip, rng.randint(1024, 65535), port, 6, packets,
            packets * rng.choice((40, 44, 60)), _window(rng, now), "REJECT", 2, ingress=True,
        )]  # fmt: skip

    def port_scan(self, now: int) -> list[tuple[_Eni, dict[str, Any]]]:
        rng = self.rng
        eni = self.enis[rng.choice(("web-1", "web-2", "bastion"))]
        source = rng.choice(self.scanners)
        if rng.random() < 0.5:
            ports = list(_SCAN_PORTS)
            rng.shuffle(ports)
            ports = ports[: rng.randint(20, len(ports))]
        else:
            first = rng.randint(1, 60000)
            ports = list(range(first, first + rng.randint(30, 250)))
        start = now - rng.randint(1, 30)
        sport = rng.randint(40000, 60000)
        records = []
        for port in ports:
            window = (start, start + rng.randint(0, now - start))
            if port in eni.open_ports:
                records.append(self._flow(
                    eni, source, eni.ip, sport, port, 6, 1, 44, window, "ACCEPT", 2, ingress=True
                ))  # fmt: skip
                records.append(self._flow(
                    eni, eni.ip, source, port, sport, 6, 1, 44, window, "ACCEPT", 18,
                    ingress=False, path="8",
                ))  # fmt: skip
            else:
                records.append(self._flow(
                    eni, source, eni.ip, sport, port, 6, 1, 44, window, "REJECT", 2, ingress=True
                ))  # fmt: skip
        return records

    def nodata(self, now: int) -> list[tuple[_Eni, dict[str, Any]]]:
        return [self._status(now, "NODATA")]

    def skipdata(self, now: int) -> list[tuple[_Eni, dict[str, Any]]]:
        return [self._status(now, "SKIPDATA")]

    def _status(self, now: int, status: str) -> tuple[_Eni, dict[str, Any]]:
        eni = self.enis[self.rng.choice(("db", "bastion", "nat", "app"))]
        record = dict(eni.static)
        record.update({"start": str(now - 60), "end": str(now), "log-status": status})
        return eni, record
