"""What the demo sets up and runs: the account's log sources, the world's rates, the alarm.

The names are the README's, so what the demo builds is what a user following the README on
AWS builds: flow logs of the default VPC to ``/vpc/flow-logs`` (EC2 section), a Client VPN
endpoint logging connections to ``/aws/clientvpn`` (recipes section), a trail delivering to
``cloudtrail`` (CloudTrail section) and the ``rejected-traffic-rate`` recipe on the flow logs
(alarms section).

The rates are chosen for a timeline a person can follow, not for throughput (``bench/`` does
that): at ``--rate 1`` a VPN connection (and its email) a second, two CloudTrail events a
second (an IAM-activity email every few seconds), and 100 flow records a second from a VPC
with a steady stream of probes, about 30 of them REJECTed. The alarm's threshold sits well
above what that baseline puts into the part of a minute's datapoint an evaluation sees, and
well below what the flood episode adds.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ACCOUNT_ID",
    "ALARM_PERIOD",
    "EMAIL_TO",
    "GROUPS",
    "REGION",
    "WATCHED_USERS",
    "WorldPlan",
]

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
EMAIL_TO = "security@example.com"
WATCHED_USERS = ("alice", "ops-admin")  # IAM users of the CloudTrail simulator

# source -> log group, as the README names them
GROUPS = {"vpc-flow": "/vpc/flow-logs", "client-vpn": "/aws/clientvpn", "cloudtrail": "cloudtrail"}
TRAIL = "management"
ALARM_PERIOD = 10  # seconds: a high-resolution alarm, evaluated every 10 s, moves within the demo

# at --rate 1
_FLOW_RATE = 100.0  # flow-log records per second
_TRAIL_RATE = 2.0  # simulated CloudTrail events per second
_CONNECT_EVERY = 1.0  # seconds between Client VPN connection attempts
# The flow simulator's baseline puts at most ~8.5 s of its records into the part of a minute's
# REJECT count an evaluation sees (measured over 50 minutes, 5 seeds); the threshold is 15 s
# of records and the flood 30 s of them.
_THRESHOLD_SECONDS = 15
_FLOOD_SECONDS = 30


@dataclass(frozen=True)
class WorldPlan:
    flow_rate: float
    trail_rate: float
    connect_every: float
    threshold: int  # REJECTed flows in the minute's datapoint that set the alarm off
    flood: int  # records of the flood episode

    @classmethod
    def at(cls, scale: float = 1.0) -> WorldPlan:
        """The plan with every rate multiplied by ``scale`` (``--rate``)."""
        flow = _FLOW_RATE * scale
        return cls(
            flow_rate=flow,
            trail_rate=_TRAIL_RATE * scale,
            connect_every=_CONNECT_EVERY / scale,
            threshold=max(10, round(flow * _THRESHOLD_SECONDS)),
            flood=max(20, round(flow * _FLOOD_SECONDS)),
        )
