"""``simulate world``: a living account, driven by what is configured through the API.

Nothing here decides where logs go: the world asks the server, as a real log source would
(DescribeFlowLogs, DescribeNetworkInterfaces, DescribeClientVpnEndpoints), and follows the
answer, re-asking every ``refresh`` seconds, so creating or deleting a flow log or turning
connection logging on or off takes effect within seconds.

* Each flow log with a CloudWatch Logs destination gets flow records in its own ``LogFormat``
  and traffic type, one log stream per interface of its resource (``<eni>-<traffic>``), the
  interface ids being the account's real ones; the traffic itself comes from the ``vpc-flow``
  simulator (``vpc_flow.py``).
* Each available Client VPN endpoint (one with a target network) gets users who connect
  through the operator route (``POST /_logsieve/client-vpn/<id>/connect``), stay a while and
  leave (``vpn_clients.py``): the server runs the endpoint's client connect handler, records
  the connection (DescribeClientVpnConnections, counters growing) and writes the connection
  log only where logging is enabled, into the configured group and stream.
* Each trail that is logging with a ``CloudWatchLogsLogGroupArn`` (DescribeTrails +
  GetTrailStatus) gets the ``cloudtrail`` simulator's activity of simulated users
  (``cloudtrail.py``) in AWS's stream ``<account>_CloudTrail_<region>``, next to the records
  the server writes there for the real calls made to it. Stopping the trail stops them.
* ``flood`` is a scripted episode on top: one address hammers a port of one interface of each
  flow log, every attempt a REJECTed flow record stamped now -- the burst a rejected-traffic
  rate alarm is there to catch (``logsieve demo`` runs it to move its alarm).
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from logsieve.cloudtrail.names import log_group_name
from logsieve.formats.vpc_flow import DEFAULT, FlowLogFormat, log_stream_name
from logsieve.shipping.client import Target

from .cloudtrail import cloudtrail
from .fake import SimEvent, doc_ip
from .runner import Progress, RunSummary, run
from .vpc_flow import vpc_flow
from .vpn_clients import VpnClients

__all__ = [
    "FlowSource",
    "TrailSource",
    "World",
    "WorldSummary",
    "discover_flow_logs",
    "discover_trails",
    "flow_events",
]


@dataclass(frozen=True)
class FlowSource:
    """A flow log as the world follows it: where its records go and for which interfaces."""

    flow_log_id: str
    group: str
    log_format: str
    traffic_type: str
    interfaces: tuple[str, ...]


@dataclass(frozen=True)
class TrailSource:
    """A logging trail as the world follows it: the log group it delivers to."""

    trail_arn: str
    group: str


def _client(target: Target, service: str) -> Any:
    import boto3

    return boto3.client(
        service, endpoint_url=target.endpoint_url, region_name=target.region,
        aws_access_key_id=target.access_key_id, aws_secret_access_key=target.secret_access_key,
    )  # fmt: skip


def discover_trails(cloudtrail_api: Any) -> list[TrailSource]:
    """Every trail delivering to CloudWatch Logs that is logging now (GetTrailStatus)."""
    out = []
    for trail in cloudtrail_api.describe_trails()["trailList"]:
        group = log_group_name(trail.get("CloudWatchLogsLogGroupArn") or "")
        if group is None:
            continue
        if cloudtrail_api.get_trail_status(Name=trail["TrailARN"]).get("IsLogging"):
            out.append(TrailSource(trail["TrailARN"], group))
    return out


def _interfaces(ec2: Any, resource_id: str) -> tuple[str, ...]:
    kind = resource_id.split("-", 1)[0]
    name = {"vpc": "vpc-id", "subnet": "subnet-id", "eni": "network-interface-id"}.get(kind)
    if name is None:
        return ()
    found: list[str] = []
    for page in ec2.get_paginator("describe_network_interfaces").paginate(
        Filters=[{"Name": name, "Values": [resource_id]}]
    ):
        found += [i["NetworkInterfaceId"] for i in page["NetworkInterfaces"]]
    return tuple(found)


def discover_flow_logs(ec2: Any) -> list[FlowSource]:
    """Every active flow log delivering to CloudWatch Logs, with its resource's interfaces."""
    out = []
    for page in ec2.get_paginator("describe_flow_logs").paginate(
        Filter=[{"Name": "log-destination-type", "Values": ["cloud-watch-logs"]}]
    ):
        for flow in page["FlowLogs"]:
            if flow.get("FlowLogStatus", "ACTIVE") != "ACTIVE" or not flow.get("LogGroupName"):
                continue
            interfaces = _interfaces(ec2, flow["ResourceId"])
            if interfaces:
                out.append(
                    FlowSource(
                        flow["FlowLogId"], flow["LogGroupName"], flow["LogFormat"],
                        flow.get("TrafficType", "ALL"), interfaces,
                    )
                )  # fmt: skip
    return out


def flow_events(
    source: FlowSource, seed: int, rate: float, account_id: str, region: str
) -> Iterator[SimEvent]:
    """The ``vpc-flow`` simulator's traffic for ``source``: in its format and traffic type,
    its interfaces standing in for the simulator's own (ids replaced in the records too)."""
    simulated = vpc_flow(
        seed, int(time.time() * 1000), rate, account_id=account_id, region=region,
        format=source.log_format, traffic_type=source.traffic_type,
    )  # fmt: skip
    suffix = "-" + source.traffic_type.lower()
    real = itertools.cycle(source.interfaces)
    # fake stream -> (fake interface id, real one, real stream): worked out once per stream,
    # since this runs for every event (the world's hot loop, bench/world.py).
    standing_for: dict[str, tuple[str, str, str]] = {}
    for event in simulated:
        known = standing_for.get(event.stream)
        if known is None:
            fake, eni = event.stream.removesuffix(suffix), next(real)
            known = standing_for[event.stream] = (
                fake, eni, log_stream_name(eni, source.traffic_type)
            )  # fmt: skip
        fake, eni, stream = known
        yield SimEvent(stream, event.timestamp, event.message.replace(fake, eni))


@dataclass
class WorldSummary:
    """What a world run did: events per flow log, connection attempts per outcome."""

    flow_events: dict[str, int] = field(default_factory=dict)
    trail_events: dict[str, int] = field(default_factory=dict)
    attempts: int = 0
    allowed: int = 0
    disconnects: int = 0
    elapsed: float = 0.0

    @property
    def events(self) -> int:
        """Flow-log events (trail events are counted apart, in ``trail_events``)."""
        return sum(self.flow_events.values())


class World:
    """Follows the account's configuration and generates its logs until stopped."""

    def __init__(
        self,
        target: Target,
        *,
        rate: float = 100.0,
        trail_rate: float = 10.0,
        connect_every: float = 5.0,
        refresh: float = 5.0,
        seed: int | None = None,
        account_id: str = "123456789012",
        progress: Callable[[str, Progress], None] | None = None,
        session_seconds: float = 60.0,
    ) -> None:
        self.target = target
        self.progress = progress  # (flow log id or trail ARN, its run's progress so far)
        self.rate = rate
        self.trail_rate = trail_rate
        self.connect_every = connect_every
        self.refresh = refresh
        self.rng = random.Random(seed)
        self.account_id = account_id
        self.ec2 = _client(target, "ec2")
        self.cloudtrail = _client(target, "cloudtrail")
        self.summary = WorldSummary()
        self.vpn = VpnClients(target, self.ec2, self.rng, session_seconds)
        self._runs: dict[FlowSource | TrailSource, tuple[threading.Event, threading.Thread]] = {}
        self._lock = threading.Lock()

    # -- flow logs and trails ------------------------------------------------------------

    def _events(self, source: FlowSource | TrailSource) -> tuple[str, float, Iterator[SimEvent]]:
        """(simulator name, rate, events) for a source."""
        seed = self.rng.randrange(2**31)
        if isinstance(source, FlowSource):
            events = flow_events(source, seed, self.rate, self.account_id, self.target.region)
            return "vpc-flow", self.rate, events
        now_ms = int(time.time() * 1000)
        events = cloudtrail(seed, now_ms, self.trail_rate, account_id=self.account_id,
                            region=self.target.region)  # fmt: skip
        return "cloudtrail", self.trail_rate, events

    def _counted(self, source: FlowSource | TrailSource, sent: int) -> None:
        with self._lock:
            if isinstance(source, FlowSource):
                counts, key = self.summary.flow_events, source.flow_log_id
            else:
                counts, key = self.summary.trail_events, source.trail_arn
            counts[key] = counts.get(key, 0) + sent

    def _start(self, source: FlowSource | TrailSource) -> None:
        own = threading.Event()
        name, rate, events = self._events(source)

        ident = source.flow_log_id if isinstance(source, FlowSource) else source.trail_arn
        report = self.progress

        def follow() -> None:
            summary: RunSummary = run(
                name, self.target, group=source.group, rate=rate, stop=own, events=events,
                progress=None if report is None else lambda p: report(ident, p),
                progress_interval=0.25,
            )  # fmt: skip
            self._counted(source, summary.sent)

        thread = threading.Thread(target=follow, name=f"world-{ident}", daemon=True)
        self._runs[source] = (own, thread)
        thread.start()

    def reconcile(self) -> None:
        """Start generating for new flow logs and logging trails, stop for deleted, changed
        or stopped ones."""
        wanted: set[FlowSource | TrailSource] = set(discover_flow_logs(self.ec2))
        wanted.update(discover_trails(self.cloudtrail))
        for source in list(self._runs):
            if source not in wanted:
                own, thread = self._runs.pop(source)
                own.set()
                thread.join()
        for source in wanted - set(self._runs):
            self._start(source)

    # -- the flood episode ---------------------------------------------------------------

    def flood(self, records: int, port: int = 22) -> int:
        """Send ``records`` REJECTed connection attempts from one internet address to
        ``port`` of the first interface of every flow log that logs rejects, each attempt
        its own flow record (a new source port) stamped now, in the flow log's format.
        Returns how many records the server accepted."""
        now = int(time.time())
        attacker = doc_ip(self.rng)
        sent = 0
        for source in discover_flow_logs(self.ec2):
            if source.traffic_type == "ACCEPT":
                continue
            eni = self.ec2.describe_network_interfaces(NetworkInterfaceIds=[source.interfaces[0]])[
                "NetworkInterfaces"
            ][0]
            fmt = FlowLogFormat.from_string(source.log_format)
            record = {
                "version": 2 if fmt == DEFAULT else fmt.version, "account-id": self.account_id,
                "interface-id": eni["NetworkInterfaceId"], "vpc-id": eni.get("VpcId"),
                "subnet-id": eni.get("SubnetId"), "srcaddr": attacker,
                "dstaddr": eni.get("PrivateIpAddress"), "dstport": port, "protocol": 6,
                "packets": 1, "bytes": 44, "start": now, "end": now, "action": "REJECT",
                "log-status": "OK", "tcp-flags": 2, "type": "IPv4", "pkt-srcaddr": attacker,
                "pkt-dstaddr": eni.get("PrivateIpAddress"), "flow-direction": "ingress",
                "region": self.target.region,
            }  # fmt: skip
            stream = log_stream_name(eni["NetworkInterfaceId"], source.traffic_type)
            events = [
                SimEvent(stream, now * 1000, fmt.format({**record, "srcport": 1024 + n % 64000}))
                for n in range(records)
            ]
            summary = run("vpc-flow", self.target, group=source.group, events=events,
                          paced=False)  # fmt: skip
            self._counted(source, summary.sent)
            sent += summary.sent
        return sent

    # -- Client VPN ----------------------------------------------------------------------

    def attempt(self) -> None:
        """A round of Client VPN users (``vpn_clients``): due ones leave, new ones try."""
        self.vpn.round()
        with self._lock:
            self.summary.attempts = self.vpn.attempts
            self.summary.allowed = self.vpn.allowed
            self.summary.disconnects = self.vpn.ended

    # -- the loop ------------------------------------------------------------------------

    def run(
        self, duration: float | None = None, stop: threading.Event | None = None
    ) -> WorldSummary:
        stop = stop or threading.Event()
        started = time.monotonic()
        end = started + duration if duration is not None else float("inf")
        next_refresh = next_attempt = started
        try:
            while not stop.is_set():
                now = time.monotonic()
                if now >= end:
                    break
                if now >= next_refresh:
                    self.reconcile()
                    next_refresh = now + self.refresh
                if now >= next_attempt:
                    self.attempt()
                    next_attempt = now + self.connect_every
                stop.wait(max(0.0, min(next_refresh, next_attempt, end) - time.monotonic()))
        finally:
            self.vpn.leave(float("inf"))  # the users still connected leave with the world
            self.summary.disconnects = self.vpn.ended
            for own, _ in self._runs.values():
                own.set()
            for _, thread in self._runs.values():
                thread.join()
            self._runs.clear()
        self.summary.elapsed = time.monotonic() - started
        return self.summary
